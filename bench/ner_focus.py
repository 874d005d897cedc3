"""What NER only where it pays (bot/briefing/focus.py) costs in quality and saves in time, on the dev sets,
in process, paired: every text briefed with the NER reading everything and with it focused.

    .venv-bench/bin/python bench/ner_focus.py  # prints the table and writes it to results/ner_focus.md

Actors on CoNLL-2003 dev (F1 by kind), dates on TimeBank+AQUAINT (value F1), summaries on CNN/DM (ROUGE-1:
the NER never touches them, a check) and time per article; brackets are 95% bootstrap CIs, differences paired.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from quality import actors, dates, stats, summaries  # noqa: E402
from quality.datasets import load_sets  # noqa: E402

import bot  # noqa: E402,F401 - one BLAS thread per process before numpy loads
from bot.briefing import nlp, pipeline  # noqa: E402
from bot.briefing.preload import load  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.errors import BriefError  # noqa: E402
from bot.models import Source  # noqa: E402

MODES = ("everywhere", "focused")


def _brief_all(rows: list[dict[str, Any]], texts: list[str], published: list[date | None]) -> tuple:
    """Per mode: outputs and ms per text; the two modes interleaved text by text (paired timing)."""
    settings = Settings()
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    ms: dict[str, list[float]] = {m: [] for m in MODES}
    original = nlp.annotate
    for text, day in zip(texts, published, strict=True):
        for mode in MODES:
            pipeline.annotate = (  # type: ignore[assignment]
                (lambda t, f=(), **_: original(t, f, everywhere=True)) if mode == "everywhere" else original
            )
            started = time.perf_counter()
            try:
                found = pipeline.brief_source(Source(text=text, published=day), settings).to_dict()
            except BriefError as error:
                found = {"error": error.to_dict()}
            ms[mode].append((time.perf_counter() - started) * 1000)
            out[mode].append(found)
    pipeline.annotate = original
    return out, ms


def _line(
    name: str, counts: dict[str, Any], statistic: Callable[..., Any], scale: float = 100, digits: int = 1
) -> str:
    a, b = counts["everywhere"], counts["focused"]
    both = [stats.pooled_ci(c, statistic).show(scale, digits) for c in (a, b)]
    difference = stats.pooled_difference(b, a, statistic).show_signed(scale, digits)
    return f"| {name} | {both[0]} | {both[1]} | {difference} |"


def main() -> None:
    load()
    sets = load_sets()
    lines = ["| | NER everywhere | NER focused | focused − everywhere (paired) |", "|---|---:|---:|---:|"]
    timing: dict[str, list[float]] = {m: [] for m in MODES}

    conll = sets["conll"]
    out, ms = _brief_all(conll.rows, [conll.batch_text(r) for r in conll.rows], [None] * len(conll.rows))
    for mode in MODES:
        timing[mode] += ms[mode]
    counts = {m: actors.score_set([actors.from_output(o) for o in out[m]], conll.rows) for m in MODES}
    lines.append(_line("actors F1, CoNLL dev, all kinds", counts, actors.micro_f1()))
    for kind in actors.KINDS:
        lines.append(_line(f"actors F1, {kind}", counts, actors.micro_f1([kind])))

    tb = sets["timebank"]
    out, ms = _brief_all(tb.rows, [tb.batch_text(r) for r in tb.rows], [dates.anchor(r) for r in tb.rows])
    for mode in MODES:
        timing[mode] += ms[mode]
    counts = {m: dates.score_set([dates.from_output(o) for o in out[m]], tb.rows) for m in MODES}
    lines.append(_line("dates value F1, TimeBank+AQUAINT", counts, dates.value_f1, scale=1, digits=3))

    cnn = sets["cnndm"]
    out, ms = _brief_all(cnn.rows, [cnn.batch_text(r) for r in cnn.rows], [None] * len(cnn.rows))
    for mode in MODES:
        timing[mode] += ms[mode]
    references = [str(r["reference"]) for r in cnn.rows]
    rouge = {m: summaries.rouge([o.get("summary", []) for o in out[m]], references) for m in MODES}
    r1 = {m: rouge[m]["rouge1"] for m in MODES}
    shown = [stats.mean_ci(r1[m]).show() for m in MODES]
    change = stats.paired_difference(r1["focused"], r1["everywhere"]).show_signed()
    lines.append(
        f"| ROUGE-1, CNN/DM dev (a check: the NER never touches it) | {shown[0]} | {shown[1]} | {change} |"
    )

    total = {m: sum(timing[m]) for m in MODES}
    lines.append(
        f"| time per text, all three sets, ms (mean) | {total['everywhere'] / len(timing['everywhere']):.1f} "
        f"| {total['focused'] / len(timing['focused']):.1f} | ×{total['focused'] / total['everywhere']:.2f} |"
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    head = (
        f"Measured at commit `{commit.stdout.strip()}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{os.getloadavg()[0]:.1f}): `.venv-bench/bin/python bench/ner_focus.py`, in process, every text "
        "briefed both ways one after the other."
    )
    report = "\n".join([head, "", *lines])
    print(report)
    (BENCH / "results" / "ner_focus.md").write_text(
        f"# NER only where it pays\n\n{report}\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
