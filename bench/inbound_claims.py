"""What acting on each Slack delivery once costs: the store claim per delivery, pruning, and the ack time.

Run: .venv/bin/python bench/inbound_claims.py [--out bench/results/inbound_claims.md]

- claim: `Store.claim_inbound_delivery` on a real SQLite file (WAL) already holding a busy day of claims
  (100,000, about one delivery a second), for new ids and for copies.
- prune: `forget_inbound_deliveries` dropping a day's 100,000 claims at once (the hourly pruning normally
  drops an hour's worth).
- ack: Socket Mode envelopes (events) sent by the emulator to a real SlackAdapter, time to the ack, with the
  dedupe middleware and with it replaced by a pass-through (the same adapter otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from emulators.slack import SlackEmulator  # noqa: E402

from adapters.slackbot.adapter import SlackAdapter  # noqa: E402
from adapters.slackbot.dedupe import DeliveryDedupe  # noqa: E402
from bot.chat.core import ChatCore  # noqa: E402
from bot.config import Settings, SlackSettings, StoreSettings  # noqa: E402
from bot.models import Briefing  # noqa: E402
from bot.store import Store  # noqa: E402

DAY_OF_CLAIMS = 100_000


def ms(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95)] * 1000


async def claims(tmp: Path, n: int) -> list[str]:
    async with await Store.open(tmp / "claims.sqlite3") as store:
        await store.database.executemany(  # bulk fill; the timed calls below go through the public method
            "INSERT INTO inbound_deliveries (platform, delivery_id, received_at) VALUES ('slack', ?, ?)",
            [(f"event:T1:Ev{i:09d}", 1_000.0 + i) for i in range(DAY_OF_CLAIMS)],
        )
        new, copies = [], []
        for i in range(n):
            started = time.perf_counter()
            await store.claim_inbound_delivery("slack", f"event:T1:New{i:09d}", 200_000.0)
            new.append(time.perf_counter() - started)
        for i in range(n):
            started = time.perf_counter()
            await store.claim_inbound_delivery("slack", f"event:T1:Ev{i * 7:09d}", 200_000.0)
            copies.append(time.perf_counter() - started)
        started = time.perf_counter()
        forgotten = await store.forget_inbound_deliveries(before=150_000.0)
        prune = time.perf_counter() - started
    (new50, new95), (copy50, copy95) = ms(new), ms(copies)
    return [
        f"| claim a new id ({n}, file holds {DAY_OF_CLAIMS:,}) | {new50:.2f} | {new95:.2f} |",
        f"| claim a copy ({n}) | {copy50:.2f} | {copy95:.2f} |",
        f"| prune {forgotten:,} claims at once | {prune * 1000:.0f} (one call) | |",
    ]


class Briefer:
    async def brief_url(self, url: str) -> Briefing:
        return Briefing(title="t", url=url, published=None, summary=["s"])

    async def brief_text(self, text: str) -> Briefing:
        return Briefing(title=None, url=None, published=None, summary=[text])


class PassThrough(DeliveryDedupe):
    """The baseline: the same middleware slot, no claim."""

    async def middleware(self, body: Any, context: Any, next_: Callable[[], Awaitable[None]]) -> None:
        return await next_()


async def ack_seconds(tmp: Path, n: int, *, dedupe: bool) -> list[float]:
    async with SlackEmulator() as slack:
        db = tmp / f"ack-{dedupe}.sqlite3"
        slack_settings = SlackSettings(api_base_url=slack.base_url)
        settings = Settings(store=StoreSettings(f"sqlite:///{db}"), slack=slack_settings)
        middleware = DeliveryDedupe if dedupe else PassThrough
        async with await Store.open(db) as store:
            with patch("adapters.slackbot.adapter.DeliveryDedupe", middleware):
                tokens = {"bot_token": slack.bot_token, "app_token_or_secret": slack.app_token}
                adapter = SlackAdapter(settings, **tokens)
                stop = asyncio.Event()
                run = asyncio.create_task(adapter.run(ChatCore(Briefer(), store, settings.chat), stop))
                await asyncio.wait_for(adapter.ready.wait(), 10)
            # Other bots' messages: acked and dispatched like any event, but nothing is briefed or posted.
            events = [slack.message_event("C0GENERAL", None, f"m{i}", bot_id="B0OTHER") for i in range(n)]
            seconds = [(await slack.send_event(event)).seconds for event in events]
            stop.set()
            await run
    return seconds


async def main(n: int) -> str:
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        rows = await claims(tmp, n)
        with_dedupe = ms(await ack_seconds(tmp, n, dedupe=True))
        base = ms(await ack_seconds(tmp, n, dedupe=False))
    rows += [
        f"| Socket Mode event → ack, no dedupe ({n}) | {base[0]:.2f} | {base[1]:.2f} |",
        f"| Socket Mode event → ack, with dedupe ({n}) | {with_dedupe[0]:.2f} | {with_dedupe[1]:.2f} |",
    ]
    return "\n".join(["| | median ms | p95 ms |", "|---|---:|---:|", *rows])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="deliveries per measurement")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = asyncio.run(main(args.n))
    print(report)
    if args.out is not None:
        args.out.write_text(report + "\n", encoding="utf-8")
