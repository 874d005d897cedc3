"""End-to-end delay of topic alerts: from the poll that first sees new feed items to each alert delivered.

The real watcher, fetcher, store and briefing pipeline (one thread worker) against a local feed and page
server on 127.0.0.2; the sink records when each alert arrives. An item waits for the next poll first: on
average half of `[alerts] poll_interval_seconds` (600 s by default), which this bench adds, not measures.

Run: .venv/bin/python bench/alerts_delay.py [--items 20]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from feedserver import Entry, rss20  # noqa: E402
from pages import typical_pages  # noqa: E402

from bot.alerts.model import Delivery  # noqa: E402
from bot.alerts.watcher import AlertWatcher  # noqa: E402
from bot.briefer import Briefer  # noqa: E402
from bot.config import AlertSettings, FetchSettings, Settings  # noqa: E402
from bot.fetch import Fetcher  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.workers import BriefingWorkers  # noqa: E402

HOST = "127.0.0.2"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


class Sink:
    def __init__(self) -> None:
        self.arrived: list[float] = []

    async def deliver(self, delivery: Delivery) -> None:
        self.arrived.append(time.perf_counter())


async def main(count: int) -> None:
    pages = [html for _, html, _ in typical_pages(count)]
    serving: list[Entry] = []
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=pages[int(request.match_info["n"])], content_type="text/html")

    async def feed(_request: web.Request) -> web.Response:
        return web.Response(text=rss20("Bench news", serving), content_type="application/rss+xml")

    app.router.add_get("/story/{n}", page)
    app.router.add_get("/feed.xml", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    base = f"http://{HOST}:{runner.addresses[0][1]}"
    serving.append(Entry("Yesterday's news about the harbour", f"{base}/story/old", summary="Old."))

    fetch = FetchSettings(allow_private_networks=(ipaddress.ip_network(f"{HOST}/32"),))
    settings = AlertSettings(default_feeds=(f"{base}/feed.xml",))
    clock, sink = Clock(), Sink()
    db = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    async with (
        await Store.open(db) as store,
        Fetcher(fetch) as fetcher,
        BriefingWorkers.in_thread(Settings(fetch=fetch)) as workers,
    ):
        await workers.warm_up()
        # Common words, so that every article passes both the feed and the briefing check.
        query = "cnn OR said OR says OR year OR people OR police"
        await store.add_subscription("console", "c", query, created_by="me", created_at=0.0, digest=None)
        watcher = AlertWatcher(store, fetcher, Briefer(fetcher, workers), sink, settings, poll_clock=clock)
        await watcher.refresh()
        await watcher.poll_due()  # baseline
        serving[:0] = [
            Entry(re.search(r"<h1>(.*?)</h1>", html).group(1), f"{base}/story/{n}")  # type: ignore[union-attr]
            for n, html in enumerate(pages)
        ]
        clock.at = clock.at.replace(year=2027)
        start = time.perf_counter()
        await watcher.poll_due()
        delays = [(t - start) * 1000 for t in sink.arrived]
    await runner.cleanup()
    print(f"{len(delays)} alerts for {count} new items in one poll (the rest: same story or not matching)")
    print(
        f"first alert after {min(delays):.0f} ms, last after {max(delays):.0f} ms, median "
        f"{statistics.median(delays):.0f} ms (one briefing worker thread; items briefed one by one)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=20)
    asyncio.run(main(parser.parse_args().items))
