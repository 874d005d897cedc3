"""Issue 11 §2 figures: seeded hostile batch lines and feed documents, and how each is answered.

Batch: N lines mixing the classes the issue found (lone surrogates in text, html, title, url and id;
publication dates at both ends of the calendar; host names that are no host names; ids of 5,000 digits,
2,000-deep nesting, NaN, 1e400) with ordinary rows, run in process through `run_batch` with the real Briefer
and 2 worker processes, so that one bad row cannot end the run; every answer line is classified. Feeds:
seeded documents with hostile character references, controls and links inside items, through `parse_feed`.
Hosts are loopback literals or names refused before any lookup, so nothing leaves the machine once fixed.

Run: .venv/bin/python bench/hostile_input.py [--lines 3000] [--feeds 1000] [--seed 11]
For the figures before a change, put that commit's `bot/` first: PYTHONPATH=/path/to/old/tree ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE.parent / "tests"))  # after PYTHONPATH: an old tree's bot/ wins

from feedserver import Entry, atom10, rss092, rss10, rss20  # noqa: E402

from bot.alerts.feeds import parse_feed  # noqa: E402
from bot.batch import run_batch  # noqa: E402
from bot.briefer import Briefer  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.errors import NotAFeedError  # noqa: E402
from bot.fetch import Fetcher  # noqa: E402
from bot.workers import BriefingWorkers  # noqa: E402

STORY = (
    "The city council of Northbridge voted on Tuesday to close the old river bridge to cars from next "
    "month. Engineers found cracks in two of its supports in January 2024, the council said. Mayor Ellen "
    "Brook told reporters that buses and bicycles would still cross until repairs begin in the spring. "
    "Yesterday the mayor said work would start next week, two years after the last repairs."
)
BITS = ["\udcae", "\ud800", "\udfff", "\x00", "\u202e", "é", "\ufeff", "\U0001f600", "&#xD800;", ""]
HOSTS = [
    "127.0.0.1:9", "[::1]:9", "a" * 64 + ".localhost", "a..localhost", ".localhost", "xn--zz.localhost",
    "localhost:99999", "127.0.0.1:9/\udcae", "10.0.0.1", "169.254.169.254", "0x7f.1",
]  # fmt: skip
SPECIAL_LINES = [
    '{"id": ' + "1" * 5000 + ', "text": "x"}',
    '{"id": ' + "[" * 2000 + "]" * 2000 + "}",
    '{"id": 1e400, "text": "x"}',
    '{"id": NaN, "text": "x"}',
    "not json",
    "[1]",
]
FEED_BITS = [
    "&#xD800;",
    "&#x110000;",
    "&#99999999999;",
    "&amp;#xDFFF;",
    "&#0;",
    "\x00",
    "\x1b",
    "&#x263A;",
    "é",
]
FEED_LINKS = ["http://[bad", "https://n.test:99999/x", "https://n.test:port/", "javascript:x()", "/relative"]


def batch_lines(count: int, rng: random.Random) -> list[str]:
    def text() -> str:
        words = STORY.split()
        words.insert(rng.randrange(len(words)), rng.choice(BITS))
        return " ".join(words) if rng.random() < 0.7 else "".join(rng.choice(BITS) for _ in range(5))

    def row() -> str:
        fields: dict[str, object] = {}
        if rng.random() < 0.9:
            fields["id"] = rng.choice(
                [rng.randrange(10**6), f"row-{rng.randrange(10**6)}{rng.choice(BITS)}", None,
                 float("nan"), float("inf"), 1e308, True, [1, 2]]
            )  # fmt: skip
        kind = rng.choice(["text", "text", "html", "url"])
        if kind == "text":
            fields["text"] = text()
        elif kind == "html":
            fields["html"] = f"<html><title>T{rng.choice(BITS)}</title><body><p>{text()}</p></body></html>"
        else:
            fields["url"] = "http://" + rng.choice(HOSTS) + "/" + rng.choice(BITS)
        if rng.random() < 0.4:
            fields["published"] = rng.choice(["0001-01-01", "9999-12-31", "2024-03-05", "9999-12-25", "x"])
        return json.dumps(fields)

    return [rng.choice(SPECIAL_LINES) if rng.random() < 0.05 else row() for _ in range(count)]


async def answer(lines: list[str]) -> list[str]:
    out: list[str] = []

    async def source() -> AsyncIterator[str]:
        for line in lines:
            yield line

    async def write(line: str) -> None:
        out.append(line)

    settings = Settings()
    async with Fetcher(settings.fetch) as fetcher, BriefingWorkers.in_processes(settings, 2) as workers:
        await workers.warm_up()
        await run_batch(source(), Briefer(fetcher, workers), write)
    return out


def classify(out: list[str]) -> Counter[str]:
    def refuse(name: str) -> None:
        raise ValueError(name)

    kinds: Counter[str] = Counter()
    for line in out:
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            kinds["(not UTF-8)"] += 1
        try:
            row = json.loads(line, parse_constant=refuse)
        except ValueError:
            kinds["(not strict JSON: NaN/Infinity)"] += 1
            continue
        kinds[row["error"]["code"] if "error" in row else "briefing"] += 1
    return kinds


def feed_figures(count: int, rng: random.Random) -> tuple[Counter[str], int, int]:
    """(outcome per document, items written, items returned)."""
    outcomes: Counter[str] = Counter()
    written = returned = 0
    for _ in range(count):
        entries = [
            Entry(
                f"Item {i} " + rng.choice(FEED_BITS),
                rng.choice(FEED_LINKS) if rng.random() < 0.3 else f"https://n.test/{i}",
                f"urn:{i}",
                rng.choice(FEED_BITS),
            )
            for i in range(rng.randint(1, 4))
        ]
        document = rng.choice([rss20, rss092, rss10, atom10])("W", entries, link=rng.choice(FEED_LINKS))
        for bit in FEED_BITS:  # the builders escape text: put the raw references back
            document = document.replace(bit.replace("&", "&amp;"), bit)
        written += len(entries)
        try:
            returned += len(parse_feed(document.encode("utf-8"), "https://n.test/feed").items)
            outcomes["parsed"] += 1
        except NotAFeedError:
            outcomes["not_a_feed"] += 1
        except Exception as exc:  # what the watcher logged a traceback for on every poll
            outcomes[f"raised {type(exc).__name__}"] += 1
    return outcomes, written, returned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    warnings.simplefilter("ignore")  # feedparser's warnings about sloppy documents
    lines = batch_lines(args.lines, random.Random(args.seed))
    started = time.perf_counter()
    out = asyncio.run(answer(lines))
    seconds = time.perf_counter() - started
    print(f"bot/ from: {Path(sys.modules['bot'].__file__ or '').parent}")
    print(f"batch: {len(lines)} lines, {len(out)} answered in {seconds:.0f} s")
    for kind, number in classify(out).most_common():
        print(f"  {kind}: {number}")
    outcomes, written, returned = feed_figures(args.feeds, random.Random(args.seed))
    print(f"feeds: {args.feeds} documents, {returned} of {written} items returned")
    for kind, number in outcomes.most_common():
        print(f"  {kind}: {number}")


if __name__ == "__main__":
    main()
