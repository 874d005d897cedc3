"""Digest mode: stories wait for the daily time, then go out as one message."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakes import FakeBriefer, FakeClock, RecordingAdapter

from bot.alerts.digest import digest_text, next_due
from bot.alerts.model import Delivery, StoryAlert
from bot.alerts.watcher import AlertWatcher
from bot.chat.model import Notice
from bot.config import AlertSettings, ConfigError, FetchSettings, parse_settings
from bot.fetch import Fetcher
from bot.models import Briefing
from bot.store import Store

PARIS = ZoneInfo("Europe/Paris")


def at(*parts: int, zone: ZoneInfo = PARIS) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()


def test_next_due_is_the_next_local_time() -> None:
    assert next_due("daily@08:00", at(2026, 3, 10, 7, 59), PARIS) == at(2026, 3, 10, 8, 0)
    assert next_due("daily@08:00", at(2026, 3, 10, 8, 0), PARIS) == at(2026, 3, 11, 8, 0)
    # Across the spring clock change: still 08:00 local, 23 hours later.
    assert next_due("daily@08:00", at(2026, 3, 28, 9, 0), PARIS) == at(2026, 3, 29, 8, 0)
    assert next_due("daily@23:30", at(2026, 12, 31, 23, 45, zone=UTC), ZoneInfo("UTC")) == at(
        2027, 1, 1, 23, 30, zone=UTC
    )


def test_bad_time_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"alerts\.timezone"):
        parse_settings({"alerts": {"timezone": "Mars/Olympus"}})


def _story(n: int, due: float) -> StoryAlert:
    briefing = Briefing(f"Story {n}", f"https://news.example/{n}", None, [f"Lead {n}."])
    return StoryAlert(4, "floods", briefing, digest_due=due)


def _queued(n: int, due: float) -> Delivery:
    return Delivery(f"4:story-{n}", "slack", "C1", _story(n, due), float(n))


def test_digest_text_lists_the_stories() -> None:
    text = digest_text([_story(1, 0.0), _story(2, 0.0)])
    assert text.splitlines() == [
        "Daily digest for `floods` (#4): 2 new stories",
        "• Story 1 https://news.example/1",
        "  Lead 1.",
        "• Story 2 https://news.example/2",
        "  Lead 2.",
    ]


async def test_watcher_holds_digest_stories_until_due(tmp_path: Path) -> None:
    clock = FakeClock(at(2026, 3, 10, 12, 0))
    due = at(2026, 3, 11, 8, 0)
    sink = RecordingAdapter()
    briefer = FakeBriefer(unused="queued alerts are briefed already")
    settings = AlertSettings(timezone="Europe/Paris")
    async with await Store.open(tmp_path / "db.sqlite3") as store, Fetcher(FetchSettings()) as fetcher:
        for n in (1, 2):
            await store.enqueue_delivery(_queued(n, due))
        watcher = AlertWatcher(store, fetcher, briefer, sink, settings, now=clock.time)
        assert await watcher.deliver_pending() == 0
        clock.set(due + 1)
        assert await watcher.deliver_pending() == 1
        assert await watcher.deliver_pending() == 0
        assert await store.pending_deliveries() == []
    [digest] = sink.delivered
    assert digest.key == f"digest:4:{int(due)}"
    assert isinstance(digest.content, Notice)
    assert digest.content.text.startswith("Daily digest for `floods` (#4): 2 new stories")
