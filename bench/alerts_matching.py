"""Topic alerts: how matching cost grows with the number of subscriptions, and their memory.

Run: .venv/bin/python bench/alerts_matching.py [--sizes 10,1000,100000] [--items 1000]
     [--out bench/results/alerts_matching.md]

Items are the BBC dev articles (/work/shared/bench/data), as a feed shows them: title + the first ~300
characters. First pass: actors unknown. Second pass: actors "known" (here, runs of capitalised words, a
cheap stand-in for the NER so the bench needs no model). Queries are random but shaped like subscriptions:
1-3 topical words drawn by document frequency from *other* articles, sometimes a phrase from their text,
an actor filter, an exclusion or an OR of two branches. Nothing from the data is written out except numbers.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.alerts.matcher import QueryIndex, word_cost  # noqa: E402
from bot.alerts.query import Matchable, Query, QueryError, parse_query, words_of  # noqa: E402

DATA = Path("/work/shared/bench/data/summ_bbc_news_summary.jsonl")
FEED_SUMMARY_CHARS = 300
_NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)*")
BRUTE_FORCE_SAMPLE = 10_000  # queries checked one by one for the comparison row (more takes too long here)


def load_articles() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def make_items(articles: list[dict[str, str]], actors_known: bool) -> list[Matchable]:
    items = []
    for article in articles:
        summary = article["text"][:FEED_SUMMARY_CHARS]
        actors = set(_NAME.findall(article["text"][:2000])) if actors_known else None
        items.append(Matchable.from_parts(article.get("title"), summary, actors))
    return items


class QueryMaker:
    """Random subscriptions from the vocabulary of articles the items are not drawn from."""

    def __init__(self, articles: list[dict[str, str]], seed: int) -> None:
        self.rng = random.Random(seed)
        df: Counter[str] = Counter()
        self.bigrams: list[tuple[str, str]] = []
        names: Counter[str] = Counter()
        for article in articles:
            words = words_of(article["text"])
            df.update({w for w in words if w.isalpha() and len(w) > 2 and word_cost(w) < 100})
            self.bigrams.extend(zip(words[::50], words[1::50], strict=False))
            names.update(_NAME.findall(article["text"][:2000]))
        # Topics people subscribe to are words that recur across stories, not one-off words.
        self.words = [w for w, n in df.items() if n >= 3]
        self.cum_weights = list(itertools.accumulate(df[w] for w in self.words))
        self.names = [n for n, c in names.items() if c >= 2]

    def topical_word(self) -> str:
        return self.rng.choices(self.words, cum_weights=self.cum_weights)[0]

    def term(self) -> str:
        roll = self.rng.random()
        if roll < 0.1:
            return f'actor:"{self.rng.choice(self.names)}"'
        if roll < 0.25:
            return '"' + " ".join(self.rng.choice(self.bigrams)) + '"'
        return self.topical_word()

    def branch(self) -> str:
        terms = [self.term() for _ in range(self.rng.choice([1, 1, 2, 2, 3]))]
        if self.rng.random() < 0.2:
            terms.append("-" + self.topical_word())
        return " ".join(terms)

    def text(self) -> str:
        return " OR ".join(self.branch() for _ in range(self.rng.choice([1, 1, 1, 1, 2])))


def parse_all(texts: list[str]) -> list[Query]:
    queries = []
    for text in texts:
        try:
            queries.append(parse_query(text))
        except QueryError:  # a random bigram may have no letters ("- -"); a user would be told and retry
            continue
    return queries


def build(queries: list[Query]) -> tuple[QueryIndex, float]:
    start = time.perf_counter()
    index = QueryIndex()
    for key, query in enumerate(queries):
        index.add(key, query)
    return index, time.perf_counter() - start


def run_matching(index: QueryIndex, items: list[Matchable]) -> dict[str, float]:
    candidates = [len(index.candidates(item)) for item in items]
    start = time.perf_counter()
    matched = [len(index.match(item)) for item in items]
    elapsed = time.perf_counter() - start
    return {
        "total_s": elapsed,
        "per_item_ms": 1000 * elapsed / len(items),
        "candidates": statistics.mean(candidates),
        "matches": statistics.mean(matched),
    }


def brute_force_per_item_ms(queries: list[Query], items: list[Matchable], n_queries: int) -> float:
    """Checking every query: timed on a sample and scaled linearly (that is what a loop costs)."""
    sample = queries[:BRUTE_FORCE_SAMPLE]
    probe = items[:50]
    start = time.perf_counter()
    for item in probe:
        for query in sample:
            query.matches(item)
    per_item = (time.perf_counter() - start) / len(probe)
    return 1000 * per_item * n_queries / len(sample)


def memory_per_10k(maker_seed: int, articles: list[dict[str, str]]) -> tuple[int, int]:
    """Bytes for 10k subscriptions: (parsed queries + index, index alone on already parsed queries)."""
    maker = QueryMaker(articles, maker_seed)
    texts = [maker.text() for _ in range(10_000)]
    gc.collect()
    tracemalloc.start()
    fresh = parse_all(texts)
    index, _ = build(fresh)
    total = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del index
    gc.collect()
    tracemalloc.start()
    _index, _ = build(fresh)
    index_only = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return total, index_only


def commit() -> str:
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return head.stdout.strip() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,100000")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/alerts_matching.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    articles = load_articles()
    item_articles, query_articles = articles[: args.items], articles[args.items :]
    start = time.perf_counter()
    first_pass = make_items(item_articles, actors_known=False)
    tokenize_ms = 1000 * (time.perf_counter() - start) / len(first_pass)
    second_pass = make_items(item_articles, actors_known=True)
    maker = QueryMaker(query_articles, seed=1)

    texts = [maker.text() for _ in range(max(sizes))]
    start = time.perf_counter()
    all_queries = parse_all(texts)
    parse_us = 1e6 * (time.perf_counter() - start) / len(texts)

    rows = []
    for size in sizes:
        queries = all_queries[:size]
        index, build_s = build(queries)
        first = run_matching(index, first_pass)
        second = run_matching(index, second_pass)
        brute = brute_force_per_item_ms(queries, first_pass, size)
        actor_anchored = len(index._actor_anchored)  # the bench looks inside on purpose
        rows.append((size, build_s, first, second, brute, actor_anchored))
        print(
            size,
            f"{first['per_item_ms']:.3f} ms/item",
            f"{first['candidates']:.0f} candidates",
            file=sys.stderr,
        )

    total_mem, index_mem = memory_per_10k(2, query_articles)
    examples = [q.normalized() for q in all_queries[:3]]
    lines = [
        f"<!-- measured at commit {commit()}: .venv/bin/python bench/alerts_matching.py "
        f"--sizes {args.sizes} --items {args.items} -->",
        f"# Alert matching: {len(first_pass)} new items against N subscriptions ({date.today().isoformat()})",
        "",
        "Items: BBC dev articles as a feed shows them (title + first 300 characters). Queries: random, 1-3",
        "topical words by document frequency from other articles, phrases, actor filters, exclusions, ORs",
        f"(e.g. `{examples[0]}`, `{examples[1]}`). First pass: actors unknown; second pass: actors known.",
        "",
        "| subscriptions | build s | 1st pass: total s | ms/item | candidates/item | matches/item"
        " | 2nd pass: ms/item | candidates/item | matches/item | loop over all, ms/item"
        " | actor-only queries (1st-pass candidates for every item) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, build_s, first, second, brute, actor_anchored in rows:
        lines.append(
            f"| {size:,} | {build_s:.2f} | {first['total_s']:.3f} | {first['per_item_ms']:.3f} "
            f"| {first['candidates']:.1f} | {first['matches']:.1f} | {second['per_item_ms']:.3f} "
            f"| {second['candidates']:.1f} | {second['matches']:.1f} | {brute:.2f} | {actor_anchored:,} |"
        )
    small, large = rows[-2] if len(rows) > 1 else rows[0], rows[-1]
    growth = large[2]["per_item_ms"] / small[2]["per_item_ms"]
    lines += [
        "",
        f"- Queries x{large[0] // small[0]:,}: per item, 1st pass time x{growth:.0f}, 2nd pass time "
        f"x{large[3]['per_item_ms'] / small[3]['per_item_ms']:.0f}, matches (2nd pass) "
        f"x{large[3]['matches'] / max(small[3]['matches'], 0.1):.0f}.",
        f"- Loop over all queries (timed on {BRUTE_FORCE_SAMPLE:,}, scaled linearly) vs the index at "
        f"{large[0]:,}: {large[4]:.0f} ms vs {large[2]['per_item_ms']:.1f} ms per item.",
        f"- Tokenizing an item (Matchable.from_parts): {tokenize_ms:.3f} ms; "
        f"parsing a query: {parse_us:.0f} µs.",
        f"- Memory per 10,000 subscriptions (tracemalloc): {total_mem / 1e6:.1f} MB with the parsed queries, "
        f"{index_mem / 1e6:.1f} MB for the index structures alone "
        f"({total_mem / 10_000:.0f} B per subscription).",
    ]
    lines += [
        "",
        "Reading:",
        "- Per-item cost follows the candidates, not N: the index looks up each distinct word of the",
        "  item once and verifies only queries sharing an anchor. Random queries each match a fixed share",
        "  of items, so matches per item (the output) grow with N; no index is sublinear in its output.",
        "  The index keeps the overhead above that small (2nd pass: candidates ≈ 2.6x matches at 100k).",
        "- 1st pass: a query anchored only on an actor (`actor:X`, or an OR branch of only actors) cannot",
        "  be rejected before the actors are known, so it is a candidate - and a match - for every item.",
        "  ~5% of queries here are such, and they make nearly every item pass the first pass: one such",
        "  subscription means every item of the feeds gets fetched and briefed.",
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
