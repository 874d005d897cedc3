"""Topic alerts in one process: a local feed server, the real fetcher and store, a recording sink."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeBriefer, FakeClock, RecordingAdapter
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer

from bot.alerts.model import AlertNotNow, Delivery
from bot.alerts.watcher import AlertWatcher
from bot.chat.model import Notice
from bot.config import AlertSettings, FetchSettings
from bot.fetch import Fetcher
from bot.models import Actor, Briefing
from bot.store import Store

FLOOD = Entry(
    "River Alder floods the old town again",
    "https://valley.example/floods?utm_source=rss",
    summary="The River Alder burst its banks on Monday, flooding the old town for the third time.",
)
TENNIS = Entry("Local club wins tennis final", "https://valley.example/tennis", summary="A five-set final.")
OLD = Entry("Council approves budget for bridges", "https://valley.example/budget", summary="Old news.")
FLOOD_ELSEWHERE = Entry(
    "Alder floods old town again",
    "https://courier.example/alder-floods",
    summary="The River Alder burst its banks on Monday, flooding the old town again.",
)


START = datetime(2026, 3, 1, tzinfo=UTC)


def flood_briefing(url: str) -> Briefing:
    """What each test page says: the flood stories are about floods, the others are not."""
    actors = [Actor("Helen Okafor", "person", 3, aliases=("Okafor",))]
    flood = "floods" in url
    return Briefing(
        title=f"Briefing of {url}",
        url=url,
        published=None,
        summary=["The river flooded the old town on Monday." if flood else "The club won in five sets."],
        actors=actors if flood else [],
    )


async def test_new_matching_stories_alert_once(
    page_server: PageServer, fetch_settings: FetchSettings, store: Store
) -> None:
    feeds = FeedServer(page_server)
    serving = {
        "main": [OLD],
        "other": [TENNIS],
    }  # what each feed holds now; the test changes it between polls
    main = feeds.feed("/main.xml", lambda _n: rss20("Valley", serving["main"]))
    other = feeds.feed("/other.xml", lambda _n: rss20("Courier", serving["other"]))
    settings = AlertSettings(default_feeds=(main,))
    clock, sink, briefer = FakeClock(START), RecordingAdapter(), FakeBriefer(flood_briefing)
    await store.add_subscription("slack", "C1", "floods", created_by="U1", created_at=0.0, digest=None)
    await store.add_subscription("slack", "C1", "budget", created_by="U1", created_at=0.0, digest=None)
    await store.add_subscription(
        "slack", "C2", 'floods actor:"Someone Else"', created_by="U2", created_at=0.0, digest=None
    )
    await store.add_channel_feed("slack", "C1", other, added_by="U1", at=0.0)

    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(store, fetcher, briefer, sink, settings, poll_clock=clock)
        await watcher.refresh()
        await watcher.poll_due()  # first look at each feed: a baseline, no flood of old items
        assert sink.delivered == []

        clock.advance(timedelta(hours=1))
        serving["main"] = [FLOOD, TENNIS, OLD]
        sink.fail(1)  # the platform is down for the first try
        await watcher.poll_due()
        assert sink.delivered == [], "not confirmed: still queued"
        assert [d.key.split(":")[0] for d in await store.pending_deliveries()] == ["1"]
        await watcher.deliver_pending()
        [alert] = sink.delivered
        assert (alert.platform, alert.channel) == ("slack", "C1")
        assert alert.content.briefing.title == "Briefing of https://valley.example/floods?utm_source=rss"
        assert alert.content.query == "floods"
        assert briefer.urls == [FLOOD.link, TENNIS.link], "every new item is read; only the flood matches"

        clock.advance(timedelta(hours=1))
        serving["other"] = [FLOOD_ELSEWHERE, TENNIS]
        await watcher.poll_due()
        assert len(sink.delivered) == 1, "the same story on another feed and old items never alert again"
        assert "https://courier.example/alder-floods" not in briefer.urls, "a near-duplicate is not briefed"
        assert len(await store.stories_since(0.0)) == 2, (
            "the flood and the tennis final: the courier's item was found to be the same flood story"
        )

    # A restart: nothing pending, nothing new, nothing posted twice.
    async with Fetcher(fetch_settings) as fetcher:
        restarted = AlertWatcher(store, fetcher, briefer, sink, settings, poll_clock=clock)
        await restarted.refresh()
        assert await restarted.deliver_pending() == 0
        clock.advance(timedelta(hours=1))
        await restarted.poll_due()
    assert len(sink.delivered) == 1
    assert [s.alerts for s in await store.subscriptions()] == [1, 0, 0]


async def test_pending_alerts_are_replayed_on_start(store: Store, fetch_settings: FetchSettings) -> None:
    queued = Delivery("1:story", "discord", "9", Notice("queued before a crash"), 1.0)
    await store.enqueue_delivery(queued)
    sink = RecordingAdapter()
    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(
            store,
            fetcher,
            FakeBriefer(flood_briefing),
            sink,
            AlertSettings(default_feeds=()),
            poll_clock=FakeClock(START),
        )
        await watcher.start()
        await watcher.stop()
    assert sink.delivered == [queued]
    assert await store.pending_deliveries() == []


async def test_a_feed_that_cannot_be_parsed_backs_off_and_is_disabled_without_tracebacks(
    page_server: PageServer, fetch_settings: FetchSettings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # A NUL in the encoding name makes feedparser itself raise (ValueError from codecs.lookup), when no
    # charset in the Content-Type outranks it.
    body = rss20("Valley", [FLOOD]).replace('encoding="utf-8"', 'encoding="utf\x00-8"')
    broken = FeedServer(page_server).feed("/broken.xml", body, content_type="application/rss+xml")
    clock, sink = FakeClock(START), RecordingAdapter()
    await store.add_subscription("slack", "C1", "floods", created_by="U1", created_at=0.0, digest=None)
    seen: list[tuple[int, str | None, bool]] = []
    waits: list[timedelta] = []
    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(
            store,
            fetcher,
            FakeBriefer(flood_briefing),
            sink,
            AlertSettings(default_feeds=(broken,)),
            poll_clock=clock,
        )
        await watcher.refresh()
        for _ in range(8):  # the default policy disables a feed after 8 failures in a row
            assert await watcher.poll_due() == 1
            row = await store.feed_state(broken)
            assert row is not None
            seen.append((row.failures, row.last_error, row.disabled))
            waits.append(datetime.fromtimestamp(row.next_poll_at, UTC) - clock.now())
            clock.advance(timedelta(hours=7))  # past the longest backoff (6 h ± 10%)
        assert await watcher.poll_due() == 0, "disabled: no longer polled"
    assert seen == [(n, "not_a_feed", n == 8) for n in range(1, 9)]
    assert waits[0] < waits[1] < waits[2], "backoff grows"
    [notice] = sink.delivered
    assert "I stopped checking the feed" in notice.content.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_one_broken_item_does_not_hide_the_good_ones(
    page_server: PageServer, fetch_settings: FetchSettings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    broken_item = Entry("Storm BROKEN warning", "http://[bad", summary="Wind BROKEN")
    serving = [OLD]
    url = FeedServer(page_server).feed(
        "/main.xml", lambda _n: rss20("Valley", serving).replace("BROKEN", "&#xD800; &#99999999999;")
    )
    clock, sink, briefer = FakeClock(START), RecordingAdapter(), FakeBriefer(flood_briefing)
    await store.add_subscription("slack", "C1", "floods", created_by="U1", created_at=0.0, digest=None)
    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(
            store, fetcher, briefer, sink, AlertSettings(default_feeds=(url,)), poll_clock=clock
        )
        await watcher.refresh()
        await watcher.poll_due()  # the baseline
        clock.advance(timedelta(hours=1))
        serving[:] = [broken_item, FLOOD, OLD]
        await watcher.poll_due()
    assert [d.content.query for d in sink.delivered] == ["floods"]
    assert briefer.urls == [FLOOD.link]
    row = await store.feed_state(url)
    assert row is not None and (row.failures, row.last_error) == (0, None)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_story_is_read_whole_even_when_its_feed_item_does_not_name_the_topic(
    page_server: PageServer, fetch_settings: FetchSettings, store: Store
) -> None:
    """Feeds often headline a story without its topic ("Missile alarms Japan" for a North Korea story): every
    new item with a link is briefed once, and its article decides; an item with no link only has its words."""
    articles = {
        "https://a.example/missile": "The missile came from North Korea, officials in Tokyo said.",
        "https://a.example/floods": "Rain fell on Valencia for days.",
    }
    missile = Entry("Missile alarms Japan", "https://a.example/missile", summary="Sirens in Hokkaido.")
    floods = Entry("Floods in Spain", "https://a.example/floods", summary="Valencia under water.")
    linkless = Entry("Sirens sound in Hokkaido", None, guid="sirens-1", summary="Residents took shelter.")
    serving: list[Entry] = []
    url = FeedServer(page_server).feed("/main.xml", lambda _n: rss20("Wire", serving))

    def article(link: str) -> Briefing:
        return Briefing(title=link, url=link, published=None, summary=["A summary."], text=articles[link])

    clock, sink, briefer = FakeClock(START), RecordingAdapter(), FakeBriefer(article)
    await store.add_subscription("slack", "C1", '"north korea"', created_by="U1", created_at=0.0, digest=None)
    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(
            store, fetcher, briefer, sink, AlertSettings(default_feeds=(url,)), poll_clock=clock
        )
        await watcher.refresh()
        await watcher.poll_due()  # the (empty) baseline
        clock.advance(timedelta(hours=1))
        serving[:] = [missile, floods, linkless]
        await watcher.poll_due()
    assert [d.content.briefing.url for d in sink.delivered] == [missile.link]
    assert sorted(briefer.urls) == sorted(articles), "each linked item read once; the linkless one never"


async def test_a_platform_not_ready_yet_keeps_the_alert_queued_with_one_quiet_line(
    store: Store, fetch_settings: FetchSettings, caplog: pytest.LogCaptureFixture
) -> None:
    sink = RecordingAdapter()
    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(
            store, fetcher, FakeBriefer(flood_briefing), sink, AlertSettings(default_feeds=())
        )
        await store.enqueue_delivery(Delivery("1:s", "discord", "9", Notice("Floods"), 1.0))
        sink.fail(1, AlertNotNow("discord is not connected yet"))
        with caplog.at_level(logging.INFO, logger="bot.alerts.watcher"):
            assert await watcher.deliver_pending() == 0
        assert [d.key for d in await store.pending_deliveries()] == ["1:s"]
        [line] = [r for r in caplog.records if "1:s" in r.getMessage()]
        assert line.levelno == logging.INFO and line.exc_info is None
        assert "discord is not connected yet" in line.getMessage()
        assert await watcher.deliver_pending() == 1
