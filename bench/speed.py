"""Speed benchmark: ms per article by stage (median, p95), whole pipeline, batch articles/s on both cores,
peak memory and start-up time, on ~60 KB news pages built from the dev articles (bench/pages.py).

Run: .venv-bench/bin/python bench/speed.py [--articles N] [--baseline]
--baseline also times, in the same run, the naive stack (trafilatura + stock sumy LexRank + full spaCy
pipeline + dateparser.search_dates) and newspaper4k's parse (no nlp(): it downloads NLTK data).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))

from pages import typical_pages  # noqa: E402

import bot  # noqa: E402,F401 - sets one BLAS thread per process before numpy loads


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def _ms(fn: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def stage_times(pages: list[tuple[str, str, str]]) -> dict[str, list[float]]:
    from bot.briefing.actors import find_actors  # noqa: PLC0415
    from bot.briefing.dates import find_dates  # noqa: PLC0415
    from bot.briefing.extract import extract_article  # noqa: PLC0415
    from bot.briefing.nlp import annotate  # noqa: PLC0415
    from bot.briefing.pipeline import brief_source, warm_up  # noqa: PLC0415
    from bot.briefing.sentences import split_sentences  # noqa: PLC0415
    from bot.briefing.summarize import summarize  # noqa: PLC0415
    from bot.config import Settings  # noqa: PLC0415
    from bot.models import Source  # noqa: PLC0415

    warm_up()
    settings = Settings()
    times: dict[str, list[float]] = {
        k: [] for k in ("extract", "sentences", "summary", "ner", "actors", "dates", "pipeline")
    }

    def timed(stage: str, fn: Callable[..., object], *args: object) -> object:
        start = time.perf_counter()
        result = fn(*args)
        times[stage].append((time.perf_counter() - start) * 1000)
        return result

    for _, html, published in pages:
        day = date.fromisoformat(published)
        article = timed("extract", extract_article, html)
        sentences = timed("sentences", split_sentences, article.text)
        chosen = timed("summary", summarize, sentences)
        doc = timed("ner", annotate, article.text, [(s.start, s.end) for s in chosen])  # as the pipeline does
        timed("actors", find_actors, doc, chosen)
        timed("dates", find_dates, doc, day)
        timed("pipeline", brief_source, Source(html=html, published=day), settings)
    return times


def baseline_times(pages: list[tuple[str, str, str]]) -> dict[str, list[float]]:
    """The naive stack the issue measured, and newspaper4k, timed here on the same pages."""
    import dateparser.search  # noqa: PLC0415
    import spacy  # noqa: PLC0415
    import trafilatura  # noqa: PLC0415
    from sumy.nlp.stemmers import Stemmer  # noqa: PLC0415
    from sumy.parsers.plaintext import PlaintextParser  # noqa: PLC0415
    from sumy.summarizers.lex_rank import LexRankSummarizer  # noqa: PLC0415

    from bot.briefing.nlp import MODEL  # noqa: PLC0415
    from bot.briefing.sentences import SumyTokenizer  # noqa: PLC0415

    full = spacy.load(MODEL)
    lexrank = LexRankSummarizer(Stemmer("english"))
    tokenizer = SumyTokenizer()
    settings = {"RELATIVE_BASE": __import__("datetime").datetime(2024, 5, 2)}

    def naive(html: str) -> None:
        text = trafilatura.extract(html, include_comments=False) or ""
        lexrank(PlaintextParser.from_string(text, tokenizer).document, 3)
        full(text)
        dateparser.search.search_dates(text, languages=["en"], settings=settings)

    times: dict[str, list[float]] = {"naive stack": []}
    for _, html, _ in pages[:3]:
        naive(html)
    for _, html, _ in pages:
        times["naive stack"].append(_ms(naive, html))
    try:
        from newspaper import Article  # noqa: PLC0415
    except ImportError:
        return times
    # Parse only: its nlp() summary needs NLTK data it tries to download at run time, which we never allow.
    times["newspaper4k parse"] = []
    for _, html, _ in pages:

        def run(html: str = html) -> None:
            # fetch_images off, or parse() fetches the page's images over the network
            article = Article("https://news.example/story", language="en", fetch_images=False)
            article.download(input_html=html)
            article.parse()

        times["newspaper4k parse"].append(_ms(run))
    return times


def batch_rate(pages: list[tuple[str, str, str]], workers: int) -> dict[str, float]:
    """Articles/s of `briefbot batch` in steady state: two runs, small and large, so start-up cancels."""
    rows = [json.dumps({"id": pid, "html": html, "published": pub}) for pid, html, pub in pages]

    def run(n: int) -> float:
        payload = "\n".join((rows * (n // len(rows) + 1))[:n]) + "\n"
        start = time.perf_counter()
        out = subprocess.run(
            [BRIEFBOT, "batch", "--workers", str(workers)],
            input=payload,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.count("\n") == n, "batch lost rows"
        return time.perf_counter() - start

    small, large = 20, 220
    t_small, t_large = run(small), run(large)
    peak_child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "articles_per_s": (large - small) / (t_large - t_small),
        "wall_s_220": t_large,
        "peak_process_rss_mb": peak_child_mb,
    }


def startup_seconds(runs: int = 3) -> float:
    example = ROOT / "examples" / "harbour_tunnel.html"
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([BRIEFBOT, "brief", str(example)], capture_output=True, check=True)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    pages = list(typical_pages(args.articles))
    size_kb = statistics.median(len(h) for _, h, _ in pages) / 1000
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# {len(pages)} pages, median {size_kb:.0f} KB of HTML; {machine}")
    print("| stage | median ms | p95 ms |\n|---|---:|---:|")
    for name, samples in stage_times(pages).items():
        median, p95 = percentiles(samples)
        print(f"| {name} | {median:.1f} | {p95:.1f} |")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS, one process briefing every page: {peak_mb:.0f} MB")
    if args.baseline:
        print("\n| baseline (same pages, same run) | median ms | p95 ms |\n|---|---:|---:|")
        for name, samples in baseline_times(pages).items():
            median, p95 = percentiles(samples)
            print(f"| {name} | {median:.1f} | {p95:.1f} |")
    print(
        f"\nstart to first briefing (`briefbot brief examples/harbour_tunnel.html`, median of 3): "
        f"{startup_seconds():.2f} s"
    )
    rate = batch_rate(pages, args.workers)
    print(
        f"batch on {args.workers} workers: {rate['articles_per_s']:.1f} articles/s steady state "
        f"(220 articles in {rate['wall_s_220']:.1f} s with start-up); "
        f"peak RSS of the largest batch process: {rate['peak_process_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
