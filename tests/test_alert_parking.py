"""Alerts a platform refuses for good (channel deleted or archived, bot removed, permission missing) are
parked after a few tries, not retried forever; the channel's subscriptions are paused and say so; when the
platform takes a post there again, the channel resumes and nothing queued is lost. Meanwhile another channel
and a platform that is only down are not affected."""

import pytest
from fakes import FakeBriefer, RecordingAdapter

from bot.alerts.commands import AlertCommands
from bot.alerts.model import AlertRefused, Delivery, StoryAlert
from bot.alerts.watcher import MAX_REFUSALS, AlertWatcher
from bot.chat.core import ChatCore
from bot.chat.model import Notice, Person, Place
from bot.config import AlertSettings, ChatSettings, FetchSettings
from bot.fetch import Fetcher
from bot.models import Briefing
from bot.store import Store


class Platform(RecordingAdapter):
    """Refuses every post to the channels in `gone` for good; takes the others."""

    def __init__(self) -> None:
        super().__init__()
        self.gone: set[str] = set()
        self.refused = 0

    async def deliver(self, delivery: Delivery) -> str:
        if delivery.channel in self.gone:
            self.refused += 1
            raise AlertRefused("channel_not_found")
        return await super().deliver(delivery)


def story(n: int, channel: str) -> Delivery:
    briefing = Briefing(title=f"Story {n}", url=f"https://news.example/{n}", published=None, summary=["It."])
    return Delivery(f"1:{channel}:{n}", "slack", channel, StoryAlert(1, "floods", briefing), float(n))


async def test_refused_alerts_are_parked_the_channel_paused_then_resumed_with_nothing_lost(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await store.add_subscription("slack", "CGONE", "floods", created_by="U1", created_at=0.0, digest=None)
    platform = Platform()
    platform.gone.add("CGONE")
    for n in (1, 2):
        await store.enqueue_delivery(story(n, "CGONE"))
    await store.enqueue_delivery(story(3, "CFINE"))
    async with Fetcher(FetchSettings()) as fetcher:
        watcher = AlertWatcher(store, fetcher, FakeBriefer(), platform, AlertSettings(default_feeds=()))
        await watcher.refresh()
        for _ in range(MAX_REFUSALS + 3):  # the retry loop's rounds
            await watcher.deliver_pending()
        assert [d.channel for d in platform.delivered] == ["CFINE"], "another channel is not held up"
        assert platform.refused == MAX_REFUSALS, "tried a few times, then parked: not retried forever"
        assert await store.pending_deliveries() == []
        assert [d.key for d in await store.parked_deliveries("slack", "CGONE")] == ["1:CGONE:1", "1:CGONE:2"]
        assert await store.paused_channels() == {("slack", "CGONE"): "channel_not_found"}
        assert sum("parked" in r.getMessage() for r in caplog.records if r.levelname == "WARNING") == 1

        core = ChatCore(FakeBriefer(), store, ChatSettings(), alerts=AlertCommands(store, AlertSettings()))
        listed = await core.on_command(Place("slack", "CGONE"), Person("U1"), "subscriptions")
        assert isinstance(listed.reply, Notice) and listed.reply.text.startswith("Paused: ")

        assert await watcher.retry_parked() == 0, "still refused: stays parked"
        platform.gone.clear()  # the bot was invited back
        assert await watcher.retry_parked() == 1
    assert [d.key for d in platform.delivered] == ["1:CFINE:3", "1:CGONE:1", "1:CGONE:2"], "none lost"
    assert await store.paused_channels() == {}


async def test_a_platform_that_is_only_down_keeps_alerts_queued_without_parking(store: Store) -> None:
    platform = RecordingAdapter()
    platform.fail(10, ConnectionError("slack is down"))
    await store.enqueue_delivery(story(1, "C1"))
    async with Fetcher(FetchSettings()) as fetcher:
        watcher = AlertWatcher(store, fetcher, FakeBriefer(), platform, AlertSettings(default_feeds=()))
        for _ in range(MAX_REFUSALS + 3):
            await watcher.deliver_pending()
    assert [d.key for d in await store.pending_deliveries()] == ["1:C1:1"]
    assert await store.paused_channels() == {}
