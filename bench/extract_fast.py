"""trafilatura's fast mode first (bot/briefing/extract.py) against its full cascade on every page, on the
real dev pages: what each costs (CPU time per briefing, paired: each page briefed every way one after the
other, in one process) and what it does to the briefings (bench/quality/pages.py's counts).

    .venv-bench/bin/python bench/extract_fast.py [FAST_ENOUGH_CHARS ...]  # default: 200 2000
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from quality import pages  # noqa: E402

import bot  # noqa: E402,F401 - one BLAS thread per process before numpy loads
from bot.briefing import extract, pipeline  # noqa: E402
from bot.briefing.preload import load  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.errors import BriefError  # noqa: E402
from bot.models import Source  # noqa: E402

FAST_FIRST = extract._body


def _full_cascade(tree: Any, url: str | None) -> Any:
    found = extract.trafilatura.bare_extraction(
        tree, url=url, include_comments=False, include_tables=False, include_images=False
    )
    return found if isinstance(found, extract.Document) else None


def main() -> None:
    thresholds = [int(arg) for arg in sys.argv[1:]] or [200, 2000]
    modes: list[int | None] = [None, *thresholds]  # None: the full cascade on every page
    load()
    real = pages.load_pages()
    settings = Settings()
    outputs: dict[int | None, dict[str, Any]] = {mode: {} for mode in modes}
    cpu = dict.fromkeys(modes, 0.0)
    body = {mode: [0, 0] for mode in modes}
    for page in real:
        for mode in modes:
            if mode is None:
                extract._body = _full_cascade
            else:
                extract._body, extract.FAST_ENOUGH_CHARS = FAST_FIRST, mode
            started = time.process_time()
            try:
                briefing = pipeline.brief_source(Source(html=page["html"], url=page["url"]), settings)
                out = briefing.to_dict(with_text=True)
            except BriefError as error:
                out = {"error": error.to_dict()}
            cpu[mode] += time.process_time() - started
            outputs[mode][pages.PREFIX + page["id"]] = out
            text = pages.normalise(out.get("text", ""))
            body[mode][0] += sum(pages._occurs(pages.normalise(s), text) for s in page["with"])
            body[mode][1] += sum(pages._occurs(pages.normalise(s), text) for s in page["without"])
    extract._body = FAST_FIRST
    print(
        "| | CPU s | briefed | summary sentences (furniture) | top-5 actors (from furniture) "
        "| body snippets in text | furniture snippets in text | pages changed |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for mode in modes:
        s = pages.score_ours(real, outputs[mode])
        changed = [k for k, v in outputs[mode].items() if v != outputs[None][k]]
        name = "full cascade" if mode is None else f"fast first, cascade below {mode} chars"
        print(
            f"| {name} | {cpu[mode]:.2f} | {s.briefed} | {s.total('sentences')} ({s.total('furniture')}) | "
            f"{s.total('actors')} ({s.total('actors_from_furniture')}) | {body[mode][0]} | {body[mode][1]} | "
            f"{len(changed)} |"
        )


if __name__ == "__main__":
    main()
