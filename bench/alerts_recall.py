"""Topic alerts over a day's worth of real-looking feed items: which stories each subscription is alerted to,
with the second match as it was (briefing title + summary + actors) and as it is (feed item's title and
description + article text + actors' names and aliases), against what a reader checking the article would
say matches; and what the matching costs per item.

    .venv/bin/python bench/alerts_recall.py [--items 300]   # writes bench/results/alerts_recall.md

Items: BBC dev articles (../shared/bench/data), every k-th, as a feed shows them (title, first sentence);
each is briefed by the real pipeline. "Should match" = the query evaluated on the whole article (its title
and text) with the pipeline's key actors: what a reader would check by reading it. An alert needs the first
pass (feed title and description; actors unknown) and then the second match. Queries are the kind people
subscribe to for 2004-2005 news; nothing from the data is written out except numbers.
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
sys.path.insert(0, str(ROOT))

from bot.alerts.feeds import FeedItem  # noqa: E402
from bot.alerts.query import Matchable, parse_query  # noqa: E402
from bot.alerts.watcher import story_matchable  # noqa: E402
from bot.briefing.pipeline import brief_source, warm_up  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.errors import BriefError  # noqa: E402
from bot.models import Briefing, Source  # noqa: E402

DATA = ROOT.parent / "shared" / "bench" / "data" / "summ_bbc_news_summary.jsonl"
RESULTS = ROOT / "bench" / "results" / "alerts_recall.md"
QUERIES = [
    '"Tony Blair"',
    "Microsoft",
    "election",
    '"United States"',
    '"European Union" OR EU',
    "China",
    "Iraq",
    "oil -football",
    '"interest rates"',
    "Chelsea",
    'actor:"Tony Blair"',
    "music (download OR online)",
    "film award",
    "tax Brown",
    '"Gordon Brown"',
]


def names(briefing: Briefing) -> set[str]:
    return {name for actor in briefing.actors for name in (actor.name, *actor.aliases)}


def old_second_match(item: FeedItem, briefing: Briefing) -> Matchable:
    """What the second match read before (briefing title, summary sentences, actor names)."""
    return Matchable.from_parts(briefing.title or item.title, " ".join(briefing.summary), names(briefing))


Story = tuple[FeedItem, Briefing, Matchable]
KEYS = ("truth", "gate", "before_tp", "before_fp", "after_tp", "after_fp")


def load_stories(count: int) -> tuple[list[Story], float]:
    """The items as a feed shows them, each briefed by the real pipeline; and the seconds briefing took."""
    rows = [json.loads(line) for line in DATA.open(encoding="utf-8")]
    rows = rows[:: max(1, len(rows) // count)][:count]
    warm_up()
    stories: list[Story] = []
    seconds = 0.0
    for n, row in enumerate(rows):
        text = f"{row['title']}\n\n{row['text']}"
        description = row["text"].split(". ")[0] + "."
        item = FeedItem(f"k{n}", None, f"https://news.example/{n}", row["title"], description, None, "feed")
        started = time.perf_counter()
        try:
            briefing = brief_source(Source(text=text), Settings())
        except BriefError:
            continue
        seconds += time.perf_counter() - started
        stories.append((item, briefing, Matchable(text, frozenset(names(briefing)))))
    return stories, seconds


def score(stories: list[Story]) -> tuple[list[tuple[str, dict[str, int]]], dict[str, float]]:
    table = []
    timing = {"first": 0.0, "before": 0.0, "after": 0.0}
    for raw in QUERIES:
        query = parse_query(raw)
        counts = dict.fromkeys(KEYS, 0)
        for item, briefing, truth in stories:
            should = query.matches(truth)
            started = time.perf_counter()
            gate = query.matches(Matchable.from_parts(item.title, item.summary))
            timing["first"] += time.perf_counter() - started
            started = time.perf_counter()
            before = gate and query.matches(old_second_match(item, briefing))
            timing["before"] += time.perf_counter() - started
            started = time.perf_counter()
            after = gate and query.matches(story_matchable(item, briefing))
            timing["after"] += time.perf_counter() - started
            for key, value in zip(KEYS, (should, gate and should, before and should, before and not should,
                                         after and should, after and not should), strict=True):  # fmt: skip
                counts[key] += value
        table.append((raw, counts))
    return table, timing


def cells(counts: dict[str, int]) -> str:
    before = f"{counts['before_tp'] + counts['before_fp']} ({counts['before_fp']})"
    after = f"{counts['after_tp'] + counts['after_fp']} ({counts['after_fp']})"
    return f"{counts['truth']} | {counts['gate']} | {before} | {after}"


def report(stories: list[Story], table: list[tuple[str, dict[str, int]]], timing: dict[str, float],
           brief_seconds: float, items: int) -> list[str]:  # fmt: skip
    totals = {key: sum(counts[key] for _, counts in table) for key in KEYS}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
    ).stdout.strip()
    truth = totals["truth"] or 1
    micro = 1e6 / (len(stories) * len(QUERIES))
    return [
        "# Topic alerts: recall and false alerts over a day of feed items, before and after",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}; `.venv/bin/python bench/alerts_recall.py "
        f"--items {items}`; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. "
        f"{len(stories)} BBC dev articles as feed items, {len(QUERIES)} subscriptions. Recall: alerted and "
        "should match / should match; a false alert is alerted though the article does not match. Gate: the "
        "first pass (feed title and description) lets the story through, the ceiling for both.",
        "",
        "| subscription | should match | pass the gate | before: alerted (false) | after: alerted (false) |",
        "|---|---:|---:|---:|---:|",
        *[f"| `{raw}` | {cells(counts)} |" for raw, counts in table],
        f"| **all** | {cells(totals)} |",
        "",
        f"Recall: before {totals['before_tp'] / truth:.1%}, after {totals['after_tp'] / truth:.1%} (the gate "
        f"allows {totals['gate'] / truth:.1%}); false alerts: before {totals['before_fp']}, after "
        f"{totals['after_fp']}.",
        "",
        f"Cost per item and subscription: first pass {timing['first'] * micro:.1f} µs; second match before "
        f"{timing['before'] * micro:.1f} µs, after {timing['after'] * micro:.1f} µs (here the text is "
        "tokenized once per item and query; the watcher does it once per item). Briefing an item, which only "
        f"candidates pay: {brief_seconds / max(len(stories), 1) * 1000:.0f} ms.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=300)
    args = parser.parse_args()
    stories, brief_seconds = load_stories(args.items)
    table, timing = score(stories)
    lines = report(stories, table, timing, brief_seconds, args.items)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
