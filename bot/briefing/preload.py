"""Import everything a briefing needs and load its models, leanly (see bot.briefing.forkserver for sharing
them between worker processes)."""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _blocked(module: str) -> Iterator[None]:
    """Within the block `import module` raises ImportError (unless it is already imported)."""
    if module in sys.modules:
        yield
        return
    sys.modules[module] = None  # type: ignore[assignment]  # the import system's "known missing"
    try:
        yield
    finally:
        if sys.modules.get(module, ...) is None:
            del sys.modules[module]


def import_lean() -> None:
    """sumy's stemmer imports nltk, whose collocation, parser and alignment modules import scipy (stats,
    sparse) for what we never run: ~75 MB and ~0.6 s per process. nltk guards each of those imports and
    does without scipy; it stays importable by anything else afterwards."""
    with _blocked("scipy"):
        importlib.import_module("nltk")


def load() -> None:
    """Import the pipeline and load its models (idempotent)."""
    import_lean()
    from bot.briefing import pipeline  # noqa: PLC0415

    pipeline.warm_up()
