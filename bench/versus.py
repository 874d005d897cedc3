"""Issue 16's comparison table: briefbot against newspaper4k on the same pages, each system in its own
process, rounds interleaved and ratios paired within a round (the 2 cores are shared, so absolute numbers
drift); plus the bot's PSS at rest and `briefbot brief`'s start-to-briefing time. Wall time on a shared
machine moves with the other work on it, so each system's CPU time per article is given too (briefbot's
summed over its process tree from /proc): the per-core comparison that load does not skew.

    .venv-bench/bin/python bench/versus.py [--rounds 2]  # writes results/versus.md, bench/README.md's table

Pages: the 171 real pages of ../shared/bench/data/pages_real_dev.jsonl.gz as fetched, then typical pages
(bench/pages.py) up to 300. newspaper4k's nlp() loads NLTK's trained punkt, which it would download: it gets
an untrained PunktSentenceTokenizer instead (same algorithm and cost, nothing fetched). `--before
CHECKOUT/.venv/bin/briefbot` interleaves another checkout's briefbot in the same rounds (a before/after).
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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from pages import DATA, typical_pages  # noqa: E402
from pss import tree_cpu_s, tree_pss_mb, wait_until_idle  # noqa: E402

BIN = Path(sys.executable).parent
BRIEFBOT = str(BIN / "briefbot")
RESULTS = BENCH / "results" / "versus.md"
README = BENCH / "README.md"
PAGES = 300
WARM_UP = 5  # pages the peers brief before they are timed
START, END = "<!-- versus:start -->", "<!-- versus:end -->"


def load_pages(count: int) -> list[dict[str, str]]:
    with gzip.open(DATA / "pages_real_dev.jsonl.gz", "rt", encoding="utf-8") as lines:
        pages = [{"id": row["id"], "html": row["html"], "url": row["url"]} for row in map(json.loads, lines)]
    for page_id, html, published in typical_pages(max(0, count - len(pages))):
        pages.append({"id": page_id, "html": html, "published": published})
    return pages[:count]


def _time_each(pages: list[dict[str, str]], one: Callable[[dict[str, str]], object]) -> None:
    """Warm up on a few pages, then time one pass over all (wall and this process's CPU time); prints JSON
    for the parent."""
    for page in pages[:WARM_UP]:
        one(page)
    started, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        one(page)
    cpu_ms = (time.process_time() - cpu) * 1000 / len(pages)
    print(json.dumps({"articles_per_s": len(pages) / (time.perf_counter() - started), "cpu_ms": cpu_ms}))


def newspaper_worker(pages: list[dict[str, str]]) -> None:
    import newspaper.nlp  # noqa: PLC0415
    from newspaper import Article  # noqa: PLC0415
    from nltk.tokenize.punkt import PunktSentenceTokenizer  # noqa: PLC0415

    newspaper.nlp.split_sentences._tokenizer = PunktSentenceTokenizer()  # type: ignore[attr-defined]

    def one(page: dict[str, str]) -> None:
        url = page.get("url") or "https://news.example/story"
        article = Article(url, language="en", fetch_images=False)  # fetching images is network
        article.download(input_html=page["html"])
        article.parse()
        article.nlp()

    _time_each(pages, one)


def naive_worker(pages: list[dict[str, str]]) -> None:
    """The stack briefbot is built from, used as its libraries come: trafilatura, stock sumy LexRank, the
    whole spaCy pipeline, dateparser.search_dates."""
    import dateparser.search  # noqa: PLC0415
    import spacy  # noqa: PLC0415
    import trafilatura  # noqa: PLC0415
    from sumy.nlp.stemmers import Stemmer  # noqa: PLC0415
    from sumy.parsers.plaintext import PlaintextParser  # noqa: PLC0415
    from sumy.summarizers.lex_rank import LexRankSummarizer  # noqa: PLC0415

    from bot.briefing.nlp import MODEL  # noqa: PLC0415
    from bot.briefing.sentences import SumyTokenizer  # noqa: PLC0415

    full, lexrank, tokenizer = spacy.load(MODEL), LexRankSummarizer(Stemmer("english")), SumyTokenizer()
    settings = {"RELATIVE_BASE": datetime(2024, 5, 2)}

    def one(page: dict[str, str]) -> None:
        text = trafilatura.extract(page["html"], include_comments=False) or ""
        lexrank(PlaintextParser.from_string(text, tokenizer).document, 3)
        full(text)
        dateparser.search.search_dates(text, languages=["en"], settings=settings)

    _time_each(pages, one)


def peer_rate(path: str, peer: str) -> tuple[float, float]:
    """Articles/s and CPU ms per article of a peer, in a process of its own."""
    out = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--peer", peer, path], capture_output=True, text=True, check=True
        ).stdout
    )
    return float(out["articles_per_s"]), float(out["cpu_ms"])


def briefbot_rate(briefbot: str, path: str, workers: int, count: int) -> tuple[float, float]:
    """Steady state of `briefbot batch`: output lines per second from the first line to the last, so
    start-up (imports, model load) is left out as it is for newspaper4k; and CPU ms per article over the
    same stretch, summed over its process tree (parent, forkserver, workers), read from /proc as the first
    and the last line arrive."""
    with Path(path).open("rb") as stdin:
        process = subprocess.Popen(
            [briefbot, "batch", "--workers", str(workers)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert process.stdout
        stamps, cpu = [], []
        for _ in process.stdout:
            stamps.append(time.perf_counter())
            if len(stamps) in (1, count):
                cpu.append(tree_cpu_s(process.pid))
    if process.wait() != 0 or len(stamps) != count:
        raise RuntimeError(f"briefbot batch failed: {len(stamps)}/{count} lines")
    return (count - 1) / (stamps[-1] - stamps[0]), (cpu[-1] - cpu[0]) * 1000 / (count - 1)


def brief_seconds(briefbot: str, runs: int = 5) -> float:
    example = ROOT / "examples" / "harbour_tunnel.html"
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([briefbot, "brief", str(example)], capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def pss_at_rest(briefbot: str) -> tuple[float, dict[str, float]]:
    """`briefbot run` on the console (no tokens), models loaded, nothing in flight: PSS summed over its
    process tree, and by process."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "briefbot.toml"
        config.write_text(f'[chat]\ndatabase = "{tmp}/bot.sqlite3"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}
        bot = subprocess.Popen(
            [briefbot, "run", "--config", str(config)],
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


SYSTEMS = ("newspaper", "naive", "w1", "w2")


def _write_rows(pages: list[dict[str, str]]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as rows:
        for page in pages:
            rows.write(json.dumps(page, ensure_ascii=False) + "\n")
    return rows.name


def measure(
    rounds: int, count: int, before: str | None
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Articles/s and CPU ms per article of every system in every round; the order flips each round so
    drift evens out."""
    pages = load_pages(count)
    systems = (*SYSTEMS, "w1 before", "w2 before") if before else SYSTEMS
    found: dict[str, list[float]] = {system: [] for system in systems}
    cpu_ms: dict[str, list[float]] = {system: [] for system in systems}
    path = _write_rows(pages)
    try:
        for round_no in range(rounds):
            for system in systems if round_no % 2 == 0 else systems[::-1]:
                if system.startswith("w"):
                    briefbot = before if before and system.endswith("before") else BRIEFBOT
                    rate, cpu = briefbot_rate(briefbot, path, int(system[1]), len(pages))
                else:
                    rate, cpu = peer_rate(path, system)
                found[system].append(rate)
                cpu_ms[system].append(cpu)
                print(
                    f"round {round_no + 1}: {system} {rate:.1f} articles/s, {cpu:.1f} CPU ms/article",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        Path(path).unlink()
    return found, cpu_ms


def _git(*args: str, briefbot: str = BRIEFBOT) -> str:
    """In the checkout whose briefbot is measured (its venv's bin/briefbot: two levels below it)."""
    checkout = Path(briefbot).resolve().parents[2]
    done = subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def report(
    rates: dict[str, list[float]],
    cpu_ms: dict[str, list[float]],
    pss: tuple[float, dict[str, float]],
    brief_s: float,
    pages: int,
) -> str:
    med = statistics.median

    def cpu_against_newspaper(system: str) -> float:
        """Median over rounds of the system's CPU time per article over newspaper4k's in the same round."""
        return med([c / n for c, n in zip(cpu_ms[system], cpu_ms["newspaper"], strict=True)])

    def against_newspaper(system: str) -> float:
        """Median over rounds of the system's articles/s over newspaper4k's in the same round."""
        return med([r / n for r, n in zip(rates[system], rates["newspaper"], strict=True)])

    def time_against_newspaper(system: str) -> float:
        """Median over rounds of the system's time per article over newspaper4k's in the same round."""
        return med([n / r for r, n in zip(rates[system], rates["newspaper"], strict=True)])

    total, by_process = pss
    dirty = " (dirty tree)" if _git("status", "--porcelain", "bot") else ""
    rounds = "; ".join(
        ", ".join(
            f"{system} {values[n]:.1f} ({cpu_ms[system][n]:.0f} ms)" for system, values in rates.items()
        )
        for n in range(len(rates["w1"]))
    )
    return "\n".join(
        [
            f"Measured at commit `{_git('rev-parse', '--short', 'HEAD')}`{dirty}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `.venv-bench/bin/python bench/versus.py "
            f"--rounds {len(rates['w1'])} --pages {pages}`; {platform.machine()}, {os.cpu_count()} cores "
            f"shared with other work (load average {os.getloadavg()[0]:.1f} at the end). {pages} pages (171 "
            "real pages as fetched, then typical pages), each system in its own process, rounds interleaved; "
            "ratios are paired within a round, then the median over rounds.",
            "",
            "| | briefbot | newspaper4k parse+nlp | trafilatura + sumy + spaCy + dateparser |",
            "|---|---:|---:|---:|",
            f"| articles/s | {med(rates['w2']):.1f} with 2 workers, {med(rates['w1']):.1f} with 1 | "
            f"{med(rates['newspaper']):.1f}, one process | {med(rates['naive']):.1f}, one process |",
            f"| time per article, per core (goal: briefbot ≤ 1.0) | {time_against_newspaper('w1'):.2f}× "
            f"newspaper4k | 1.0 | {time_against_newspaper('naive'):.2f}× |",
            f"| CPU time per article, ms (briefbot: all its processes, first output line to last) | "
            f"{med(cpu_ms['w1']):.1f} with 1 worker ({cpu_against_newspaper('w1'):.2f}× newspaper4k), "
            f"{med(cpu_ms['w2']):.1f} with 2 | {med(cpu_ms['newspaper']):.1f} | {med(cpu_ms['naive']):.1f} |",
            f"| articles/s on both cores, against newspaper4k's (goal ≥ 1.8) | "
            f"{against_newspaper('w2'):.2f}× | 1.0 | |",
            f"| `briefbot run` at rest, PSS over its process tree (goal ≤ 300 MB) | {total:.0f} MB | | |",
            f"| `briefbot brief examples/harbour_tunnel.html`, wall, median of 5 (goal ≤ 1.5 s) | "
            f"{brief_s:.2f} s | | |",
            "",
            f"Rounds (articles/s, CPU ms per article): {rounds}. PSS by process: "
            + ", ".join(f"{name} {mb:.0f} MB" for name, mb in by_process.items())
            + ".",
        ]
    )


def before_after(
    rates: dict[str, list[float]],
    cpu_ms: dict[str, list[float]],
    before: str,
    now: tuple[tuple[float, Any], float],
) -> str:
    """The same measures for another checkout's briefbot, interleaved in the same rounds."""
    med = statistics.median
    (pss_now, _), brief_now = now
    pss_before, brief_before = pss_at_rest(before)[0], brief_seconds(before)
    commit = _git("rev-parse", "--short", "HEAD", briefbot=before)

    def per_core(system: str) -> float:
        return med([n / r for r, n in zip(rates[system], rates["newspaper"], strict=True)])

    def both_cores(system: str) -> float:
        return med([r / n for r, n in zip(rates[system], rates["newspaper"], strict=True)])

    return "\n".join(
        [
            f"Before and after in the same rounds; before is commit `{commit}`.",
            "",
            "| | before | after |",
            "|---|---:|---:|",
            f"| articles/s, `--workers 1` / `--workers 2` | {med(rates['w1 before']):.1f} / "
            f"{med(rates['w2 before']):.1f} | {med(rates['w1']):.1f} / {med(rates['w2']):.1f} |",
            f"| time per article per core, against newspaper4k | {per_core('w1 before'):.2f}× | "
            f"{per_core('w1'):.2f}× |",
            f"| CPU ms per article, `--workers 1` (paired after/before: "
            f"{med([a / b for a, b in zip(cpu_ms['w1'], cpu_ms['w1 before'], strict=True)]):.2f}×) | "
            f"{med(cpu_ms['w1 before']):.1f} | {med(cpu_ms['w1']):.1f} |",
            f"| both cores, articles/s against newspaper4k's | {both_cores('w2 before'):.2f}× | "
            f"{both_cores('w2'):.2f}× |",
            f"| `briefbot run` at rest, PSS | {pss_before:.0f} MB | {pss_now:.0f} MB |",
            f"| `briefbot brief`, wall | {brief_before:.2f} s | {brief_now:.2f} s |",
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
    parser.add_argument(
        "--before", metavar="BRIEFBOT", help="another checkout's briefbot, in the same rounds"
    )
    parser.add_argument("--peer", nargs=2, metavar=("SYSTEM", "JSONL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        system, path = args.peer
        pages = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
        {"newspaper": newspaper_worker, "naive": naive_worker}[system](pages)
        return
    rates, cpu_ms = measure(args.rounds, args.pages, args.before)
    pss, brief_s = pss_at_rest(BRIEFBOT), brief_seconds(BRIEFBOT)
    table = report(rates, cpu_ms, pss, brief_s, args.pages)
    if args.before:
        table += "\n\n" + before_after(rates, cpu_ms, args.before, (pss, brief_s))
    print(table)
    if not args.no_write:
        RESULTS.write_text(f"# briefbot against newspaper4k\n\n{table}\n", encoding="utf-8")
        write_readme(table)


if __name__ == "__main__":
    main()
