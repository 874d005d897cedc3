"""Quality and speed of `briefbot batch` on the dev sets, baselines computed in the same run.

    .venv-bench/bin/python bench/quality/run.py              # writes results/quality.md, bench/README.md
    .venv-bench/bin/python bench/quality/run.py --quick      # first rows of each set, few pages; prints only
    .venv-bench/bin/python bench/quality/run.py --ablations  # plus the tuning rows (direct library calls)

Every dev row becomes one `briefbot batch` input line; the product's numbers come from its output.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1]
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import bot  # noqa: E402,F401 - one BLAS thread per process before numpy loads
from quality import actors, dates, pages, report, summaries  # noqa: E402
from quality.batch import BatchRun, run_batch  # noqa: E402
from quality.datasets import DevSet, load_sets  # noqa: E402
from quality.timing import page_speed  # noqa: E402

RESULTS = BENCH / "results" / "quality.md"
README = BENCH / "README.md"
NOTES = Path(__file__).with_name("notes.md")
PAGES, QUICK_PAGES = 100, 5
QUICK_ROWS = 20
DETERMINISM_ROWS = 20
WORKERS = 2


def _fixed_hash_seed() -> None:
    """Re-run this script with PYTHONHASHSEED=0: some baselines (sumy LSA) order words by set iteration,
    so their scores moved by ~0.1 between runs."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})


def progress(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def tree_state() -> str:
    """The commit and whether the working tree differs from it: briefbot is installed in editable mode, so
    the batch runs the working tree, and uncommitted bot/ files are named."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = [line[3:] for line in _git("status", "--porcelain").splitlines()]
    in_bot = [p for p in changed if p.startswith("bot/")]
    if not changed:
        return f"commit `{commit}`, clean tree"
    bot_state = f"uncommitted bot/ files measured: {', '.join(in_bot)}" if in_bot else "bot/ clean"
    return f"commit `{commit}`, dirty tree ({len(changed)} paths changed; {bot_state})"


def header(argv: list[str], elapsed: float, state: str) -> list[str]:
    now = tree_state()
    moved = "" if now == state else f" (by the end of the run: {now})"
    return [
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; at the start of the run {state}{moved}; "
        f"`{shlex.join(['.venv-bench/bin/python', 'bench/quality/run.py', *argv])}`; "
        f"{elapsed / 60:.1f} min in all; load average {os.getloadavg()[0]:.1f} at the end; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
    ]


def _run(system: Callable[[str], Any], texts: list[str]) -> tuple[Any, float]:
    found, ms = [], []
    for text in texts:
        started = time.perf_counter()
        found.append(system(text))
        ms.append((time.perf_counter() - started) * 1000)
    return found, sorted(ms)[len(ms) // 2]


def score_summaries(dev: DevSet, run: BatchRun, ablations: bool) -> tuple[str, dict, dict]:
    texts = [str(r["text"]) for r in dev.rows]
    references = [str(r["reference"]) for r in dev.rows]
    found = {report.OURS: [run.outputs[dev.batch_id(r)].get("summary", []) for r in dev.rows]}
    ms: dict[str, float | None] = {report.OURS: None}
    systems = {**summaries.baselines(), **(summaries.ablations() if ablations else {})}
    for name, system in systems.items():
        progress(f"{dev.key}: {name}")
        found[name], ms[name] = _run(system, texts)
    scores = {name: summaries.rouge(out, references) for name, out in found.items()}
    return dev.title, scores, ms


def score_actors(dev: DevSet, run: BatchRun, ablations: bool) -> tuple[str, dict, dict]:
    texts = [str(r["text"]) for r in dev.rows]
    found = {report.OURS: [actors.from_output(run.outputs[dev.batch_id(r)]) for r in dev.rows]}
    ms: dict[str, float | None] = {report.OURS: None}
    systems = {**actors.baselines(), **(actors.ablations() if ablations else {})}
    for name, system in systems.items():
        progress(f"{dev.key}: {name}")
        found[name], ms[name] = _run(system, texts)
    return dev.title, {name: actors.score_set(out, dev.rows) for name, out in found.items()}, ms


def score_dates(dev: DevSet, run: BatchRun) -> tuple[str, dict, dict]:
    ours = [dates.from_output(run.outputs[dev.batch_id(r)]) for r in dev.rows]
    progress(f"{dev.key}: dateparser")
    baseline, baseline_ms = dates.dateparser_baseline(dev.rows)
    counts = {
        report.OURS: dates.score_set(ours, dev.rows),
        "dateparser search_dates": dates.score_set(baseline, dev.rows),
    }
    return dev.title, counts, {report.OURS: None, "dateparser search_dates": baseline_ms}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"first {QUICK_ROWS} rows of each set; print only"
    )
    parser.add_argument(
        "--pages", type=int, help=f"pages for the per-stage timing (default {PAGES}, quick {QUICK_PAGES})"
    )
    parser.add_argument("--ablations", action="store_true", help="add the tuning rows (direct library calls)")
    args = parser.parse_args()
    _fixed_hash_seed()
    started = time.perf_counter()
    state = tree_state()
    sets = load_sets(QUICK_ROWS if args.quick else None)
    rows = [row for dev in sets.values() for row in dev.batch_rows()]

    progress(f"briefbot batch over {len(rows)} rows")
    run = run_batch(rows, workers=WORKERS, hash_seed="1")
    real_pages = pages.load_pages(QUICK_ROWS if args.quick else None)
    # a batch of its own: the speed numbers below are of text rows
    progress(f"briefbot batch over {len(real_pages)} real pages (HTML)")
    page_run = run_batch(pages.batch_rows(real_pages), workers=WORKERS, hash_seed="1")
    progress("newspaper4k on the real pages")
    page_scores = {
        report.OURS: pages.score_ours(real_pages, page_run.outputs),
        report.PEER: pages.score_newspaper(real_pages),
    }
    if args.quick:
        print("\n".join(page_scores[report.OURS].examples), file=sys.stderr)
    progress("determinism: a second batch process over the first CNN/DM rows")
    subset = sets["cnndm"].batch_rows()[:DETERMINISM_ROWS]
    again = run_batch(subset, workers=WORKERS, hash_seed="2")
    same = all(again.lines[r["id"]] == run.lines[r["id"]] for r in subset)
    progress("per-stage timing on pages")
    speed = page_speed(args.pages or (QUICK_PAGES if args.quick else PAGES))

    results = report.Results(
        header=[],
        summaries={key: score_summaries(sets[key], run, args.ablations) for key in ("cnndm", "bbc")},
        actors=score_actors(sets["conll"], run, args.ablations),
        dates=score_dates(sets["timebank"], run),
        errors={
            **{dev.title: (len(dev.rows), run.errors(f"{dev.key}:")) for dev in sets.values()},
            pages.TITLE: (len(real_pages), page_run.errors(pages.PREFIX)),
        },
        batch=run,
        batch_words=sum(len(r["text"].split()) for r in rows) / len(rows),
        determinism=(same, len(subset)),
        real_pages=page_scores,
        speed=speed,
        notes=NOTES.read_text(encoding="utf-8"),
    )
    results.header = header(sys.argv[1:], time.perf_counter() - started, state)
    text = report.full_report(results)
    print(text)
    if not args.quick:
        RESULTS.write_text(text, encoding="utf-8")
        report.replace_section(README, report.readme_section(results, state))
        progress(f"wrote {RESULTS.relative_to(ROOT)} and the quality section of {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
