"""The bot under load: time from a pasted link to the posted briefing (p50/p95), and the bot's memory at rest
and under 200 concurrent requests. The real `briefbot run` process talks to the Slack emulator (Socket Mode)
and fetches ~60 KB news pages from a local page server; everything stays on 127.0.0.1/127.0.0.2.

Run: .venv/bin/python bench/bot_latency.py [--sequential 30] [--concurrent 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from emulators.slack import SlackEmulator  # noqa: E402
from pages import typical_pages  # noqa: E402

BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))
HOST = "127.0.0.2"


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total / 1024


async def serve_pages(count: int) -> tuple[web.AppRunner, list[str]]:
    pages = [html for _, html, _ in typical_pages()]

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=pages[int(request.match_info["n"]) % len(pages)], content_type="text/html")

    app = web.Application()
    app.router.add_get("/story/{n}", page)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    port = runner.addresses[0][1]
    return runner, [f"http://{HOST}:{port}/story/{n}" for n in range(count)]


class PostClock:
    """Notes when each thread's first briefing was posted."""

    def __init__(self, slack: SlackEmulator) -> None:
        self.slack = slack
        self.posted_at: dict[str, float] = {}
        self._seen = 0
        self._news = asyncio.Event()
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            await self.slack.wait_until(lambda: len(self.slack.posts) > self._seen, timeout=3600)
            now = time.perf_counter()
            posts = self.slack.posts
            for post in posts[self._seen :]:
                self.posted_at.setdefault(post.args.get("thread_ts", ""), now)
            self._seen = len(posts)
            self._news.set()
            self._news = asyncio.Event()

    async def wait(self, thread_ts: str) -> float:
        while thread_ts not in self.posted_at:
            await self._news.wait()
        return self.posted_at[thread_ts]


async def main(sequential: int, concurrent: int) -> None:
    async with SlackEmulator() as slack:
        runner, urls = await serve_pages(sequential + concurrent + 1)
        tmp = Path(tempfile.mkdtemp(prefix="briefbot-bench-"))
        config = tmp / "config.toml"
        config.write_text(
            f'[fetch]\nallow_private_networks = ["{HOST}/32"]\n'
            f'[store]\nurl = "sqlite:///{tmp / "bot.sqlite3"}"\n[chat]\nmax_pending_briefings = 1000\n'
            "user_burst = 1000\nuser_briefings_per_minute = 100000.0\n"
            "channel_burst = 1000\nchannel_briefings_per_minute = 100000.0\n"
            f'[slack]\napi_base_url = "{slack.base_url}"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
        env |= {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token}
        started = time.perf_counter()
        bot = await asyncio.create_subprocess_exec(
            BRIEFBOT, "run", "--config", str(config), env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        clock = PostClock(slack)
        try:
            await slack.wait_for_socket(timeout=120)
            # The first briefing also waits for the worker processes to load the models.
            first = slack.message_event("C0GENERAL", "U0ALICE", f"<{urls[-1]}>")
            await slack.send_event(first)
            await clock.wait(first["ts"])
            print(f"start to first briefing over Slack: {time.perf_counter() - started:.2f} s")
            await asyncio.sleep(2)
            print(f"memory at rest (bot + workers): {tree_rss_mb(bot.pid):.0f} MB")

            latencies = []
            for url in urls[:sequential]:
                event = slack.message_event("C0GENERAL", "U0ALICE", f"look <{url}>")
                sent = time.perf_counter()
                await slack.send_event(event)
                latencies.append((await clock.wait(event["ts"]) - sent) * 1000)
            cuts = statistics.quantiles(latencies, n=20, method="inclusive")
            print(
                f"pasted link → posted briefing, {sequential} one at a time: "
                f"p50 {statistics.median(latencies):.0f} ms, p95 {cuts[18]:.0f} ms"
            )

            event = slack.message_event("C0GENERAL", "U0BOB", f"again <{urls[0]}>")
            sent = time.perf_counter()
            await slack.send_event(event)
            print(f"same link again (cache hit): {(await clock.wait(event['ts']) - sent) * 1000:.0f} ms")

            peak = 0.0
            events = [
                slack.message_event(f"C{n % 20:04d}", f"U{n:04d}", f"<{url}>")
                for n, url in enumerate(urls[sequential : sequential + concurrent])
            ]
            sent = time.perf_counter()
            await asyncio.gather(*(slack.send_event(e) for e in events))
            waiting = asyncio.gather(*(clock.wait(e["ts"]) for e in events))
            while not waiting.done():
                peak = max(peak, tree_rss_mb(bot.pid))
                await asyncio.sleep(0.2)
            done = await waiting
            under_load = sorted((t - sent) * 1000 for t in done)
            cuts = statistics.quantiles(under_load, n=20, method="inclusive")
            print(
                f"{concurrent} concurrent links: all posted in {max(under_load) / 1000:.1f} s "
                f"({concurrent / (max(under_load) / 1000):.1f} briefings/s); latency p50 "
                f"{statistics.median(under_load):.0f} ms, p95 {cuts[18]:.0f} ms; peak memory {peak:.0f} MB"
            )
        finally:
            clock._task.cancel()
            bot.terminate()
            await bot.wait()
            await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sequential", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.sequential, args.concurrent))
