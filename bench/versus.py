"""Issue 16's comparison table: briefbot against newspaper4k on the same pages, each system in its own
process, rounds interleaved and ratios paired within a round (the 2 cores are shared, so absolute numbers
drift); plus the bot's PSS at rest and `briefbot brief`'s start-to-briefing time.

    .venv-bench/bin/python bench/versus.py [--rounds 2]  # writes results/versus.md, bench/README.md's table

Pages: the 171 real pages of ../shared/bench/data/pages_real_dev.jsonl.gz as fetched, then typical pages
(bench/pages.py) up to 300. newspaper4k's nlp() loads NLTK's trained punkt, which it would download: it gets
an untrained PunktSentenceTokenizer instead (same algorithm and cost, nothing fetched). BRIEFBOT=path runs
another checkout's briefbot (a before/after in one session).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from pages import DATA, typical_pages  # noqa: E402
from pss import tree_pss_mb, wait_until_idle  # noqa: E402

BIN = Path(sys.executable).parent
BRIEFBOT = os.environ.get("BRIEFBOT", str(BIN / "briefbot"))  # another checkout's, for a before/after
RESULTS = BENCH / "results" / "versus.md"
README = BENCH / "README.md"
PAGES = 300
START, END = "<!-- versus:start -->", "<!-- versus:end -->"


def load_pages(count: int) -> list[dict[str, str]]:
    with gzip.open(DATA / "pages_real_dev.jsonl.gz", "rt", encoding="utf-8") as lines:
        pages = [{"id": row["id"], "html": row["html"], "url": row["url"]} for row in map(json.loads, lines)]
    for page_id, html, published in typical_pages(max(0, count - len(pages))):
        pages.append({"id": page_id, "html": html, "published": published})
    return pages[:count]


def newspaper_worker(path: str) -> None:
    """In its own process: parse+nlp every page once to warm up on a few, then time all; prints JSON."""
    import newspaper.nlp  # noqa: PLC0415
    from newspaper import Article  # noqa: PLC0415
    from nltk.tokenize.punkt import PunktSentenceTokenizer  # noqa: PLC0415

    newspaper.nlp.split_sentences._tokenizer = PunktSentenceTokenizer()  # type: ignore[attr-defined]
    pages = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]

    def one(page: dict[str, str]) -> None:
        article = Article(page.get("url") or "https://news.example/story", language="en", fetch_images=False)
        article.download(input_html=page["html"])
        article.parse()
        article.nlp()

    for page in pages[:5]:
        one(page)
    started, started_cpu = time.perf_counter(), time.process_time()
    for page in pages:
        one(page)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    print(json.dumps({"articles_per_s": len(pages) / wall, "cpu_ms": cpu * 1000 / len(pages)}))


def newspaper_rate(path: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--newspaper-worker", path], capture_output=True, text=True, check=True
    ).stdout
    return float(json.loads(out)["articles_per_s"])


def briefbot_rate(path: str, workers: int, count: int) -> float:
    """Steady state of `briefbot batch`: output lines per second from the first line to the last, so
    start-up (imports, model load) is left out as it is for newspaper4k."""
    with Path(path).open("rb") as stdin:
        process = subprocess.Popen(
            [BRIEFBOT, "batch", "--workers", str(workers)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert process.stdout
        stamps = [time.perf_counter() for _ in process.stdout]
    if process.wait() != 0 or len(stamps) != count:
        raise RuntimeError(f"briefbot batch failed: {len(stamps)}/{count} lines")
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def brief_seconds(runs: int = 5) -> float:
    example = ROOT / "examples" / "harbour_tunnel.html"
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([BRIEFBOT, "brief", str(example)], capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def pss_at_rest() -> tuple[float, dict[str, float]]:
    """`briefbot run` on the console (no tokens), models loaded, nothing in flight: PSS summed over its
    process tree, and by process."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "briefbot.toml"
        config.write_text(f'[chat]\ndatabase = "{tmp}/bot.sqlite3"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}
        bot = subprocess.Popen(
            [BRIEFBOT, "run", "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            wait_until_idle(bot.pid)
            return tree_pss_mb(bot.pid)
        finally:
            assert bot.stdin
            bot.stdin.close()  # the console ends at end of input, and the bot with it
            bot.wait(timeout=60)


def measure(rounds: int, count: int) -> dict[str, list[float]]:
    pages = load_pages(count)
    found: dict[str, list[float]] = {"newspaper": [], "w1": [], "w2": []}
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as rows:
        for page in pages:
            rows.write(json.dumps(page, ensure_ascii=False) + "\n")
    try:
        for round_no in range(rounds):
            order = ["newspaper", "w1", "w2"] if round_no % 2 == 0 else ["w2", "w1", "newspaper"]
            for system in order:
                if system == "newspaper":
                    rate = newspaper_rate(rows.name)
                else:
                    rate = briefbot_rate(rows.name, int(system[1]), len(pages))
                found[system].append(rate)
                print(f"round {round_no + 1}: {system} {rate:.1f} articles/s", file=sys.stderr, flush=True)
    finally:
        Path(rows.name).unlink()
    return found


def _git(*args: str) -> str:
    """In the checkout whose briefbot is measured (its venv's bin/briefbot: two levels below it)."""
    checkout = Path(BRIEFBOT).resolve().parents[2]
    done = subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def report(rates: dict[str, list[float]], pss: tuple[float, dict[str, float]], brief_s: float) -> str:
    paired_w1 = [w / n for w, n in zip(rates["w1"], rates["newspaper"], strict=True)]
    paired_w2 = [w / n for w, n in zip(rates["w2"], rates["newspaper"], strict=True)]
    total, by_process = pss
    med = statistics.median
    dirty = " (dirty tree)" if _git("status", "--porcelain", "bot") else ""
    return "\n".join(
        [
            f"Measured at commit `{_git('rev-parse', '--short', 'HEAD')}`{dirty}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `.venv-bench/bin/python bench/versus.py "
            f"--rounds {len(paired_w1)}`; {platform.machine()}, {os.cpu_count()} cores shared with other "
            f"work (load average {os.getloadavg()[0]:.1f} at the end). {PAGES} pages (171 real pages as "
            "fetched, then typical pages), each system in its own process, rounds interleaved.",
            "",
            "| | briefbot | newspaper4k parse+nlp |",
            "|---|---:|---:|",
            f"| articles/s, one process / `--workers 1` | {med(rates['w1']):.1f} | "
            f"{med(rates['newspaper']):.1f} |",
            f"| articles/s, `--workers 2` | {med(rates['w2']):.1f} | |",
            f"| time per article per core, against newspaper4k (paired) | "
            f"{med([1 / r for r in paired_w1]):.2f}× | 1.00 |",
            f"| `--workers 2` articles/s against newspaper4k's (paired; goal ≥ 1.8) | "
            f"{med(paired_w2):.2f}× | 1.00 |",
            f"| `briefbot run` at rest, PSS over its process tree (goal ≤ 300 MB) | {total:.0f} MB | |",
            f"| `briefbot brief examples/harbour_tunnel.html`, wall, median of 5 (goal ≤ 1.5 s) | "
            f"{brief_s:.2f} s | |",
            "",
            "Rounds (articles/s): "
            + "; ".join(
                f"newspaper4k {n:.1f}, w1 {a:.1f}, w2 {b:.1f}"
                for n, a, b in zip(rates["newspaper"], rates["w1"], rates["w2"], strict=True)
            )
            + ". PSS by process: "
            + ", ".join(f"{name} {mb:.0f} MB" for name, mb in by_process.items())
            + ".",
        ]
    )


def write_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n## Against newspaper4k (issue 16)\n\n{table}\n{END}"
    if START in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.replace("## The bot (commit", f"{block}\n\n## The bot (commit", 1)
    README.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--newspaper-worker", metavar="JSONL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.newspaper_worker:
        newspaper_worker(args.newspaper_worker)
        return
    rates = measure(args.rounds, args.pages)
    pss = pss_at_rest()
    brief_s = brief_seconds()
    table = report(rates, pss, brief_s)
    print(table)
    if not args.no_write:
        RESULTS.write_text(f"# briefbot against newspaper4k\n\n{table}\n", encoding="utf-8")
        write_readme(table)


if __name__ == "__main__":
    main()
