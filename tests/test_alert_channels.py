"""Topic alerts across channels and feeds (the real fetcher, store and feed server): the same story on two
channels' feeds reaches both channels, each with its own "also reported by" line; a feed that is empty when
added alerts its first story; a story is matched on the article and its actors, not only the summary."""

import asyncio
from datetime import UTC, datetime, timedelta

from fakes import FakeBriefer, FakeClock, RecordingAdapter
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer

from bot.alerts.model import StoryAlert
from bot.alerts.watcher import AlertWatcher
from bot.config import AlertSettings, FetchSettings
from bot.fetch import Fetcher
from bot.models import Actor, Briefing
from bot.store import Store

STORY_A = Entry(
    "North Korea fires missile over Japan",
    "https://wire.example/nk-missile",
    summary="The launch set off sirens in Hokkaido early on Tuesday.",
)
STORY_B = Entry(  # the same story from another outlet
    "North Korea fires a missile over Japan",
    "https://courier.example/nk-missile",
    summary="The launch set off sirens in Hokkaido early on Tuesday morning.",
)
STORY_C = Entry(  # and a third
    "North Korea fires missile over Japan",
    "https://daily.example/nk-missile",
    summary="The launch set off sirens in Hokkaido early on Tuesday.",
)


START = datetime(2026, 3, 1, tzinfo=UTC)


def missile_briefing(url: str) -> Briefing:
    """Briefs like the pipeline does for a story that only ever says "North Korean": the summary doesn't
    name the country, the actors and the article text do."""
    return Briefing(
        title="Missile over Hokkaido",
        url=url,
        published=None,
        summary=["A North Korean missile flew over Hokkaido on Tuesday, the Japanese government said."],
        actors=[Actor("North Korea", "place", 8, aliases=("North Korean",))],
        text="A North Korean missile flew over Hokkaido on Tuesday, the Japanese government said.",
    )


def story_alerts(sink: RecordingAdapter) -> dict[str, StoryAlert]:
    return {d.channel: d.content for d in sink.delivered if isinstance(d.content, StoryAlert)}


async def test_the_same_story_in_two_channels_feeds_reaches_both_and_each_keeps_its_own_also_line(
    page_server: PageServer, fetch_settings: FetchSettings, store: Store
) -> None:
    feeds = FeedServer(page_server)
    serving: dict[str, list[Entry]] = {"wire": [], "courier": [], "daily": []}
    wire = feeds.feed("/wire.xml", lambda _n: rss20("Wire", serving["wire"]))
    courier = feeds.feed("/courier.xml", lambda _n: rss20("Courier", serving["courier"]))
    daily = feeds.feed("/daily.xml", lambda _n: rss20("Daily", serving["daily"]))
    for channel, user in (("C1", "U1"), ("C2", "U2")):
        await store.add_subscription(
            "slack", channel, '"North Korea"', created_by=user, created_at=0.0, digest=None
        )
    await store.add_channel_feed("slack", "C1", wire, added_by="U1", at=0.0)
    await store.add_channel_feed("slack", "C2", courier, added_by="U2", at=0.0)
    await store.add_channel_feed("slack", "C2", daily, added_by="U2", at=0.0)
    clock, sink, briefer = FakeClock(START), RecordingAdapter(), FakeBriefer(missile_briefing)

    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(
            store, fetcher, briefer, sink, AlertSettings(default_feeds=()), poll_clock=clock
        )
        await watcher.refresh()
        await watcher.poll_due()  # every feed is empty when added: the baselines are empty
        assert sink.delivered == []

        clock.advance(timedelta(hours=1))
        serving["wire"] = [STORY_A]
        serving["courier"] = [STORY_B]
        await watcher.poll_due()
        alerts = story_alerts(sink)
        assert set(alerts) == {"C1", "C2"}, "each channel whose subscription matches gets the story"
        assert alerts["C1"].briefing.url == STORY_A.link, "from the channel's own feed"
        assert alerts["C2"].briefing.url == STORY_B.link
        assert sorted(briefer.urls) == sorted([STORY_A.link, STORY_B.link]), "C2's copy is fetched too"

        clock.advance(timedelta(hours=1))
        serving["daily"] = [STORY_C]  # a third outlet, read by C2 only
        await watcher.poll_due()
        assert len(sink.delivered) == 2, "a channel gets a story once"
        [(update, _ref)] = sink.updates
        assert update.channel == "C2"
        assert isinstance(update.content, StoryAlert) and update.content.also == (STORY_C.link,)
        assert len(briefer.urls) == 2, "an outlet of an alerted story is not briefed"

    assert [s.alerts for s in await store.subscriptions()] == [1, 1]
    for delivery in sink.delivered:
        assert isinstance(delivery.content, StoryAlert) and delivery.content.briefing.text is None, (
            "queued alerts carry what is shown, not the article"
        )


async def test_a_feed_that_is_empty_when_added_alerts_its_first_story(
    page_server: PageServer, fetch_settings: FetchSettings, store: Store
) -> None:
    serving: list[Entry] = []
    feed = FeedServer(page_server).feed("/new.xml", lambda _n: rss20("New", serving))
    await store.add_subscription("slack", "C1", "missile", created_by="U1", created_at=0.0, digest=None)
    await store.add_channel_feed("slack", "C1", feed, added_by="U1", at=0.0)
    clock, sink = FakeClock(START), RecordingAdapter()
    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(
            store,
            fetcher,
            FakeBriefer(missile_briefing),
            sink,
            AlertSettings(default_feeds=()),
            poll_clock=clock,
        )
        await watcher.refresh()
        await watcher.poll_due()
        assert await store.feed_seen_before(feed), "the empty first look is the baseline"
        clock.advance(timedelta(hours=1))
        serving.append(STORY_A)
        await watcher.poll_due()
    assert [d.content.briefing.url for d in sink.delivered if isinstance(d.content, StoryAlert)] == [
        STORY_A.link
    ]


async def test_two_outlets_of_a_story_polled_at_once_make_one_alert_with_both_links(
    page_server: PageServer, fetch_settings: FetchSettings, store: Store
) -> None:
    feeds = FeedServer(page_server)
    serving: dict[str, list[Entry]] = {"wire": [], "courier": []}
    urls = [feeds.feed(f"/{name}.xml", lambda _n, n=name: rss20(n, serving[n])) for name in serving]
    await store.add_subscription("slack", "C1", '"North Korea"', created_by="U1", created_at=0.0, digest=None)
    for url in urls:
        await store.add_channel_feed("slack", "C1", url, added_by="U1", at=0.0)
    clock, sink = FakeClock(START), RecordingAdapter()
    held = asyncio.Event()
    briefer = FakeBriefer(missile_briefing, gate=held)  # the first outlet's briefing is still in flight...
    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(
            store, fetcher, briefer, sink, AlertSettings(default_feeds=()), poll_clock=clock
        )
        await watcher.refresh()
        await watcher.poll_due()
        clock.advance(timedelta(hours=1))
        serving["wire"], serving["courier"] = [STORY_A], [STORY_B]
        polling = asyncio.create_task(watcher.poll_due())
        await briefer.wait_for_calls(1)
        await asyncio.sleep(0.2)  # ...while the second outlet is polled and found to be the same story
        held.set()
        await polling
    [alert] = [d.content for d in sink.delivered if isinstance(d.content, StoryAlert)]
    shown = {alert.briefing.url, *alert.also} | {
        link for update, _ in sink.updates if isinstance(update.content, StoryAlert)
        for link in update.content.also
    }  # fmt: skip
    assert shown == {STORY_A.link, STORY_B.link}, "one alert, the other outlet on its also line"
    assert len(briefer.urls) == 1, "the second outlet is not briefed"
