"""briefbot core: from a link, a page or pasted text to a briefing. Never imports a chat platform SDK."""

import os

# One BLAS thread per process: parallelism comes from the worker processes, and OpenBLAS threads fighting
# over two cores made spaCy's NER ~1.7x slower (bench/README.md). Set before numpy is imported anywhere.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

__version__ = "0.1.0"
