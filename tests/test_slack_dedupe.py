"""The dedupe middleware's pieces on a real store file: which id makes a delivery, pruning, store failures."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from emulators.slack import SlackEmulator
from fakes import FakeClock
from slack_bolt.context.async_context import AsyncBoltContext

from adapters.slackbot.dedupe import RETENTION_SECONDS, DeliveryDedupe, delivery_id
from bot.store import Store

SLACK = SlackEmulator()  # only its payload builders: the shapes Slack sends


def test_each_kind_of_delivery_has_its_own_id() -> None:
    event = SLACK.event_callback(SLACK.message_event("C1", "U1", "hi"))
    command = SLACK.slash_command("help")
    shortcut = SLACK.message_shortcut(SLACK.message_event("C1", "U1", "hi"))
    assert delivery_id(event, "T1") == f"event:T1:{event['event_id']}"
    assert delivery_id(command, "T1") == f"command:T1:{command['trigger_id']}"
    assert delivery_id(shortcut, "T1") == f"interactive:T1:{shortcut['trigger_id']}"
    assert delivery_id(event, None) == f"event:-:{event['event_id']}"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "url_verification", "challenge": "x"},
        {"type": "event_callback", "event": {}},
        {"type": "event_callback", "event_id": 7},
        {"command": "/brief", "trigger_id": ""},
        {"ssl_check": "1"},
    ],
    ids=["url-verification", "event-without-id", "id-not-text", "empty-trigger", "ssl-check"],
)
def test_requests_without_a_usable_id_are_not_deduplicated(body: dict[str, Any]) -> None:
    assert delivery_id(body, "T1") is None


class Next:
    """Bolt's `next`: counts how many deliveries went on to the listeners."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1


async def test_claims_are_pruned_after_a_day_at_most_hourly(tmp_path: Path) -> None:
    clock = FakeClock(1_700_000_000.0)
    event = SLACK.event_callback(SLACK.message_event("C1", "U1", "hi"))
    context = AsyncBoltContext({"team_id": "T1"})
    passed = Next()
    async with await Store.open(tmp_path / "bot.sqlite3") as store:
        dedupe = DeliveryDedupe(store, now=clock.time)
        await dedupe.middleware(event, context, passed)
        clock.advance(RETENTION_SECONDS - 60)
        copy = await dedupe.middleware(event, context, passed)
        assert (passed.calls, copy and copy.status) == (1, 200), "within a day: acked, not passed on"

        clock.advance(120)  # a day has passed, but the last pruning was under an hour ago (at the copy)
        await dedupe.middleware(SLACK.slash_command("help"), context, passed)
        assert await dedupe.middleware(event, context, passed) is not None
        clock.advance(3600)  # the hourly pruning forgets the day-old claim
        await dedupe.middleware(SLACK.slash_command("help"), context, passed)
        assert await dedupe.middleware(event, context, passed) is None
    assert passed.calls == 4


async def test_a_failing_store_lets_deliveries_through(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.sqlite3"
    event = SLACK.event_callback(SLACK.message_event("C1", "U1", "hi"))
    passed = Next()
    async with await Store.open(path) as store:
        with sqlite3.connect(path) as other:  # the table vanishes under the running bot
            other.execute("DROP TABLE inbound_deliveries")
        dedupe = DeliveryDedupe(store)
        for _ in range(2):
            assert await dedupe.middleware(event, AsyncBoltContext({"team_id": "T1"}), passed) is None
    assert passed.calls == 2, "acting twice on a copy beats acting on nothing"
    assert "handling it anyway" in caplog.text
