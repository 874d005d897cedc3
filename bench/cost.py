"""What one briefing costs against the size and shape of its input: wall time and peak memory of the
worker-side pipeline (extraction, NLP, summary), each case in a fresh process so peak RSS is its own.

    .venv/bin/python bench/cost.py                       # this tree; writes results/cost.md
    .venv/bin/python bench/cost.py --before /tmp/before  # plus a column for another checkout's pipeline

--before takes a checkout of an earlier commit (`git worktree add /tmp/before <commit>`) and runs its
`bot` package with this venv. A case that runs past --limit seconds is killed; its peak is the last one
seen. Inputs are built in memory from the BBC dev articles (pasted text, or the same text as <p> elements).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "cost.md"

# (label, shape, size): the shape names how the input is built by CHILD below.
CASES = [
    ("pasted text, 10 KB", "text", 10_000),
    ("pasted text, 50 KB", "text", 50_000),
    ("pasted text, 200 KB", "text", 200_000),
    ("pasted text, 1.2 MB", "text", 1_200_000),
    ("pasted text, 3 MB", "text", 3_000_000),
    ("page, 200 KB article in <p>", "page", 200_000),
    ("page, 1.2 MB article in <p>", "page", 1_200_000),
    ("page of 1,000,000 tiny <p> (4 MB)", "tiny_p", 1_000_000),
    ("one 3 MB line of text", "line", 3_000_000),
    ("article + one 40 KB hyphenated word", "word", 40_000),
    ("article + 300 words of 1 KB", "words", 300),
]

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
shape, size = sys.argv[1], int(sys.argv[2])
try:
    from bot.briefing import pipeline
except ImportError:  # a checkout from before the pipeline had its own package
    from bot import pipeline
from bot.config import Settings
from bot.errors import BriefError
from bot.models import Source
rows = [json.loads(line) for line in Path(sys.argv[3]).open(encoding="utf-8")]

def text_of(n):
    parts, total, i = [], 0, 0
    while total < n:
        parts.append(rows[i % len(rows)]["text"]); total += len(parts[-1]) + 2; i += 1
    return "\n\n".join(parts)[:n]

def page(body):
    return "<html><head><title>Bench</title></head><body><article>" + body + "</article></body></html>"

if shape == "text":
    source = Source(text=text_of(size))
elif shape == "page":
    source = Source(html=page("".join(f"<p>{p}</p>" for p in text_of(size).split("\n\n"))))
elif shape == "tiny_p":
    source = Source(html=page("<p>a</p>" * size))
elif shape == "line":
    source = Source(text=" ".join(text_of(size).split()))
elif shape == "word":
    source = Source(text=text_of(5000) + "\n\n" + "ab-" * (size // 3) + "\n\n" + text_of(3000))
else:
    source = Source(text=text_of(5000) + "\n\n" + " ".join("x" * 1000 for _ in range(size)))
pipeline.warm_up()
warm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
started = time.perf_counter()
try:
    briefing = pipeline.brief_source(source, Settings())
    result = "ok, truncated" if getattr(briefing, "truncated", False) else "ok"
except BriefError as error:
    result = error.code
except Exception as error:
    result = "fault: " + type(error).__name__
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"seconds": seconds, "warm_mb": warm, "peak_mb": peak, "result": result}))
"""


def _peak_mb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def run_case(tree: Path, shape: str, size: int, limit: float) -> dict:
    data = ROOT.parent / "shared" / "bench" / "data" / "summ_bbc_news_summary.jsonl"
    env = os.environ | {"PYTHONPATH": str(tree)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, shape, str(size), str(data)],
        env=env,
        cwd=tree,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + limit + 30  # + model loading
    peak = 0
    while child.poll() is None and time.monotonic() < deadline:
        peak = max(peak, _peak_mb(child.pid))
        time.sleep(0.2)
    if child.poll() is None:
        child.kill()
        child.wait()
        return {"seconds": None, "peak_mb": peak, "result": f"killed after {limit:.0f} s"}
    out = child.stdout.read() if child.stdout else ""
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"seconds": None, "peak_mb": peak, "result": f"exit {child.returncode}"}


def cell(row: dict) -> str:
    seconds = "—" if row["seconds"] is None else f"{row['seconds']:.1f} s"
    return f"{seconds}, {row['peak_mb']} MB, {row['result']}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, help="a checkout of an earlier commit, for a before column")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds before a case is killed")
    args = parser.parse_args()
    argv = sys.argv[1:]
    trees = ([("before", args.before)] if args.before else []) + [("after", ROOT)]
    lines = [
        "# Cost of one briefing by input size and shape",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; `{' '.join(['.venv/bin/python', 'bench/cost.py', *argv])}`;"
        f" {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}."
        " Worker-side pipeline only (what runs in a worker after the download; downloads are capped at"
        " 5 MB); each case in a fresh process after loading the models; peak RSS of that process"
        f" (models ~230 MB). Cells: time, peak RSS, answer. A case past {args.limit:.0f} s is killed.",
        "",
        "| input | " + " | ".join(name for name, _ in trees) + " |",
        "|---|" + "---|" * len(trees),
    ]
    for label, shape, size in CASES:
        cells = []
        for _name, tree in trees:
            row = run_case(tree, shape, size, args.limit)
            cells.append(cell(row))
            print(label, _name, cell(row), flush=True)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"Load average at the end of the run: {os.getloadavg()[0]:.1f}."]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
