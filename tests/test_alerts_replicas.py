"""Topic alerts with several replicas on one store (both engines): each a real AlertWatcher with its own
Store connection, polling a local feed server with the real fetcher. Each feed is fetched once per interval
across them, a story seen by two is one story, and each queued alert is posted by one of them."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import pytest_asyncio
from fakes import FakeBriefer, FakeClock, RecordingAdapter
from feedserver import FeedServer, rss20
from pageserver import PageServer
from test_alert_watcher import FLOOD, FLOOD_ELSEWHERE, OLD, START, TENNIS, flood_briefing

from bot.alerts.model import Delivery, StoryAlert
from bot.alerts.watcher import AlertWatcher
from bot.chat.model import Notice
from bot.config import AlertSettings, FetchSettings
from bot.fetch import Fetcher
from bot.models import Briefing
from bot.store import Store

INTERVAL = timedelta(seconds=600)  # AlertSettings' default poll interval


@dataclass
class Cluster:
    clock: FakeClock
    sink: RecordingAdapter
    briefer: FakeBriefer
    stores: list[Store]
    fetcher: Fetcher

    def replica(
        self, n: int, settings: AlertSettings, platforms: tuple[str, ...] | None = None
    ) -> AlertWatcher:
        return AlertWatcher(
            self.stores[n], self.fetcher, self.briefer, self.sink, settings, now=self.clock.time,
            poll_clock=self.clock, replica=f"replica-{n}", platforms=platforms,
        )  # fmt: skip


@pytest_asyncio.fixture
async def cluster(store: Store, store_url: str, fetch_settings: FetchSettings) -> AsyncIterator[Cluster]:
    """Three replicas' stores on one store URL (the first is the `store` fixture), one clock, one platform."""
    async with AsyncExitStack() as stack:
        others = [await stack.enter_async_context(await Store.open(store_url)) for _ in range(2)]
        fetcher = await stack.enter_async_context(Fetcher(fetch_settings))
        yield Cluster(
            FakeClock(START), RecordingAdapter(), FakeBriefer(flood_briefing), [store, *others], fetcher
        )


async def test_each_feed_is_fetched_once_per_interval_across_replicas(
    page_server: PageServer, cluster: Cluster
) -> None:
    feeds = FeedServer(page_server)
    url = feeds.feed("/main.xml", rss20("Valley", [OLD]))
    settings = AlertSettings(default_feeds=(url,))
    await cluster.stores[0].add_subscription(
        "slack", "C1", "floods", created_by="U", created_at=0.0, digest=None
    )
    replicas = [cluster.replica(n, settings) for n in range(3)]
    for replica in replicas:
        await replica.refresh()

    async def all_poll() -> list[int]:
        return list(await asyncio.gather(*(replica.poll_due() for replica in replicas)))

    for interval in range(3):
        await all_poll()
        assert feeds.stats["/main.xml"].fetches == interval + 1, f"interval {interval}: fetched once"
        # The others learnt when the feed is due next: they do not ask again every cycle.
        assert await all_poll() == [0, 0, 0]
        cluster.clock.advance(INTERVAL * 1.2)  # past the jitter

    # A replica dies holding the feed's lease: nobody fetches it until the lease expires, one interval on.
    holder = "dead-replica"
    assert await cluster.stores[0].lease_feed(url, holder, now=cluster.clock.time(), seconds=600.0)
    await all_poll()
    assert feeds.stats["/main.xml"].fetches == 3
    cluster.clock.advance(INTERVAL / 2)
    assert await all_poll() == [0, 0, 0], "each waits for the lease to expire, not polling every cycle"
    cluster.clock.advance(INTERVAL / 2)
    await all_poll()
    assert feeds.stats["/main.xml"].fetches == 4, "the dead replica's feed moved on, fetched once"


class SteppedBriefer(FakeBriefer):
    """Each briefing waits for a step of its own: `step()` lets the oldest waiting one finish."""

    def __init__(self) -> None:
        super().__init__(flood_briefing)
        self.steps: asyncio.Queue[None] = asyncio.Queue()

    async def brief_url(self, url: str) -> Briefing:
        briefing = await super().brief_url(url)
        await self.steps.get()
        return briefing


async def two_new_slow_stories(
    page_server: PageServer, cluster: Cluster
) -> tuple[FeedServer, SteppedBriefer, AlertWatcher, AlertWatcher]:
    """Two replicas watching one feed for a channel, its baseline taken; then two new stories on it, each
    briefing waiting for a step of the briefer's."""
    feeds = FeedServer(page_server)
    serving = [OLD]
    url = feeds.feed("/main.xml", lambda _n: rss20("Valley", serving))
    settings = AlertSettings(default_feeds=(url,))
    await cluster.stores[0].add_subscription(
        "slack", "C1", "floods", created_by="U", created_at=0.0, digest=None
    )
    briefer = SteppedBriefer()
    cluster.briefer = briefer
    first, second = cluster.replica(0, settings), cluster.replica(1, settings)
    for replica in (first, second):
        await replica.refresh()
    await first.poll_due()  # the baseline
    cluster.clock.advance(INTERVAL * 1.2)
    serving[:0] = [FLOOD, TENNIS]
    return feeds, briefer, first, second


async def test_a_feed_whose_new_items_take_longer_than_a_lease_to_brief_is_not_polled_again_meanwhile(
    page_server: PageServer, cluster: Cluster
) -> None:
    feeds, briefer, first, second = await two_new_slow_stories(page_server, cluster)

    polling = asyncio.create_task(first.poll_due())
    await briefer.wait_for_calls(1)
    cluster.clock.advance(INTERVAL * 0.6)
    briefer.steps.put_nowait(None)  # the first story briefed: the lease is renewed from here
    await briefer.wait_for_calls(2)
    cluster.clock.advance(INTERVAL * 0.6)  # the lease taken at the poll's start has run out by now
    other = asyncio.create_task(second.poll_due())
    while not other.done() and feeds.stats["/main.xml"].fetches == 2:  # noqa: ASYNC110 - polled, not timed
        await asyncio.sleep(0.01)
    other.cancel()  # (were it fetching, its briefings would wait for steps)
    assert feeds.stats["/main.xml"].fetches == 2, "the feed is still being handled: not polled again"
    briefer.steps.put_nowait(None)
    await polling
    assert briefer.urls == [FLOOD.link, TENNIS.link], "each new story briefed once, by one replica"

    cluster.clock.advance(INTERVAL * 1.2)
    await asyncio.gather(first.poll_due(), second.poll_due())
    assert feeds.stats["/main.xml"].fetches == 3, "the next interval's poll, by one of them"
    assert len(briefer.urls) == 2, "nothing new to brief"


async def test_the_items_a_replica_handled_before_it_died_are_not_briefed_again(
    page_server: PageServer, cluster: Cluster
) -> None:
    _, briefer, first, second = await two_new_slow_stories(page_server, cluster)

    polling = asyncio.create_task(first.poll_due())
    await briefer.wait_for_calls(1)
    briefer.steps.put_nowait(None)
    await briefer.wait_for_calls(2)
    polling.cancel()  # the first replica dies while briefing the second story
    with contextlib.suppress(asyncio.CancelledError):
        await polling
    cluster.clock.advance(INTERVAL * 1.2)  # its lease has run out
    for _ in range(2):
        briefer.steps.put_nowait(None)
    await second.poll_due()
    assert briefer.urls == [FLOOD.link, TENNIS.link, TENNIS.link], "only the story it had not finished"
    assert [alert.key.split(":")[0] for alert in cluster.sink.delivered] == ["1"], "the flood, posted once"


async def test_a_story_another_replica_recorded_after_start_is_the_same_story(
    page_server: PageServer, cluster: Cluster
) -> None:
    feeds = FeedServer(page_server)
    serving = {"main": [OLD], "other": [TENNIS]}
    main = feeds.feed("/main.xml", lambda _n: rss20("Valley", serving["main"]))
    other = feeds.feed("/other.xml", lambda _n: rss20("Courier", serving["other"]))
    settings = AlertSettings(default_feeds=(main, other))
    await cluster.stores[0].add_subscription(
        "slack", "C1", "floods", created_by="U", created_at=0.0, digest=None
    )
    first, second = cluster.replica(0, settings), cluster.replica(1, settings)
    for replica in (first, second):
        await replica.refresh()
    await first.poll_due()  # the baselines
    # Both started (their story indexes loaded) before the flood: only the store knows it is one story.
    for replica in (first, second):
        await replica.start()
        await replica.stop()
    cluster.clock.advance(INTERVAL * 1.2)
    serving["main"] = [FLOOD, OLD]
    assert await first.poll_due() == 2
    [alert] = cluster.sink.delivered
    assert alert.key.endswith(":" + (await cluster.stores[0].stories_since(0.0))[0][0])

    cluster.clock.advance(INTERVAL * 1.2)
    serving["other"] = [FLOOD_ELSEWHERE, TENNIS]
    assert await second.poll_due() == 2
    assert cluster.sink.delivered == [alert], "the courier's flood is the story the channel already has"
    [(edited, ref)] = cluster.sink.updates
    assert (edited.key, ref) == (alert.key, "message-1")
    assert edited.content.also == (FLOOD_ELSEWHERE.link,), "it joins the posted alert's other outlets"
    assert FLOOD_ELSEWHERE.link not in cluster.briefer.urls, "and is not briefed"
    assert len(await cluster.stores[1].stories_since(0.0)) == 1, "one story: the flood"


async def test_each_queued_alert_is_posted_by_one_replica(cluster: Cluster) -> None:
    settings = AlertSettings(default_feeds=())
    replicas = [cluster.replica(n, settings) for n in range(3)]
    alerts = [Delivery(f"{n}:s", "slack", f"C{n % 4}", Notice(f"alert {n}"), float(n)) for n in range(30)]
    for alert in alerts:
        await cluster.stores[0].enqueue_delivery(alert)

    posted = await asyncio.gather(*(replica.deliver_pending() for replica in replicas))
    assert sum(posted) == 30
    assert sorted(d.key for d in cluster.sink.delivered) == sorted(a.key for a in alerts), "each once"
    assert await asyncio.gather(*(replica.deliver_pending() for replica in replicas)) == [0, 0, 0]


async def test_an_alert_is_posted_by_a_replica_that_runs_its_platform(cluster: Cluster) -> None:
    settings = AlertSettings(default_feeds=())
    slack_only = cluster.replica(0, settings, platforms=("slack",))
    both = cluster.replica(1, settings, platforms=("slack", "discord"))
    await cluster.stores[0].enqueue_delivery(Delivery("1:s", "discord", "42", Notice("Floods"), 1.0))
    await cluster.stores[0].enqueue_delivery(Delivery("2:s", "slack", "C1", Notice("Floods"), 2.0))
    assert await slack_only.deliver_pending() == 1, "its Slack alert only"
    assert await slack_only.deliver_pending() == 0, "the Discord alert is not its to try"
    assert await both.deliver_pending() == 1
    assert [(d.key, d.platform, d.handed_over) for d in cluster.sink.delivered] == [
        ("2:s", "slack", False),
        ("1:s", "discord", False),
    ], "posted once each, the Discord alert never claimed (and given up) by the Slack-only replica"


class GatedPlatform(RecordingAdapter):
    """Takes posts only once `posters` of them are under way at once (then `all_in` is set)."""

    def __init__(self, posters: int) -> None:
        super().__init__()
        self.posters = posters
        self.all_in = asyncio.Event()

    async def deliver(self, delivery: Delivery) -> str:
        self.posters -= 1
        if self.posters == 0:
            self.all_in.set()
        await self.all_in.wait()
        return await super().deliver(delivery)


async def test_replicas_retrying_a_paused_channel_send_each_parked_alert_once(cluster: Cluster) -> None:
    for n in (1, 2):
        await cluster.stores[0].enqueue_delivery(
            Delivery(f"{n}:s", "slack", "CGONE", Notice(f"alert {n}"), n)
        )
    await cluster.stores[0].park_channel("slack", "CGONE", "channel_not_found", cluster.clock.time())
    platform = GatedPlatform(posters=2)
    replicas = [
        AlertWatcher(
            cluster.stores[n],
            cluster.fetcher,
            cluster.briefer,
            platform,
            AlertSettings(default_feeds=()),
            now=cluster.clock.time,
            replica=f"replica-{n}",
        )
        for n in (0, 1)
    ]
    for replica in replicas:
        await replica.refresh()  # both see the channel paused
    # Both try the channel at once: each sends a parked alert of its own, the oldest one that is free.
    resumed = await asyncio.wait_for(asyncio.gather(*(r.retry_parked() for r in replicas)), 30)
    assert resumed == [1, 1]
    assert sorted(d.key for d in platform.delivered) == ["1:s", "2:s"], "each parked alert sent once"
    assert await cluster.stores[2].paused_channels() == {}
    assert await cluster.stores[2].pending_deliveries() == []


async def test_a_digest_goes_out_whole_even_when_another_replica_holds_some_of_its_parts(
    cluster: Cluster,
) -> None:
    due = cluster.clock.time() + 3600

    def part(n: int) -> Delivery:
        briefing = Briefing(f"Story {n}", f"https://news.example/{n}", None, [f"Lead {n}."])
        return Delivery(f"4:story-{n}", "slack", "C1", StoryAlert(4, "floods", briefing, digest_due=due), n)

    replica = cluster.replica(0, AlertSettings(default_feeds=()))
    await cluster.stores[0].enqueue_delivery(part(3))
    # Another replica is in a delivery round of its own when the digest falls due: it holds the third part.
    cluster.clock.advance(timedelta(hours=1, seconds=1))
    [held] = await cluster.stores[2].claim_deliveries("other", now=cluster.clock.time(), seconds=60.0)
    for n in (1, 2):
        await cluster.stores[1].enqueue_delivery(part(n))
    assert await replica.deliver_pending() == 0, "not sent in pieces"
    await cluster.stores[2].release_deliveries([held.key], "other")  # its round ends
    assert await replica.deliver_pending() == 1
    [digest] = cluster.sink.delivered
    assert isinstance(digest.content, Notice)
    assert digest.content.text.startswith("Daily digest for `floods` (#4): 3 new stories")
    assert await cluster.stores[2].pending_deliveries() == []


async def test_a_replica_killed_mid_delivery_leaves_its_alerts_to_another_when_its_claim_expires(
    cluster: Cluster,
) -> None:
    survivor = cluster.replica(1, AlertSettings(default_feeds=(), claim_seconds=60.0))
    await cluster.stores[0].enqueue_delivery(Delivery("1:s", "slack", "C1", Notice("Floods"), 1.0))
    # The killed replica claimed the alert, then died before posting it (or before marking it delivered).
    [claimed] = await cluster.stores[0].claim_deliveries("killed", now=cluster.clock.time(), seconds=60.0)
    assert await survivor.deliver_pending() == 0, "claimed: the killed replica might be posting it"
    cluster.clock.advance(59)
    assert await survivor.deliver_pending() == 0
    cluster.clock.advance(1)
    assert await survivor.deliver_pending() == 1, "its claim expired"
    [posted] = cluster.sink.delivered
    assert posted.key == claimed.key and posted.handed_over, "the platform adapter is told to look first"
    assert await cluster.stores[2].pending_deliveries() == []


async def test_an_outlet_seen_while_another_replica_posts_the_alert_joins_the_posted_message(
    page_server: PageServer, cluster: Cluster
) -> None:
    feeds = FeedServer(page_server)
    serving = {"main": [OLD], "other": [TENNIS]}
    main = feeds.feed("/main.xml", lambda _n: rss20("Valley", serving["main"]))
    other = feeds.feed("/other.xml", lambda _n: rss20("Courier", serving["other"]))
    settings = AlertSettings(default_feeds=(main, other))
    await cluster.stores[0].add_subscription(
        "slack", "C1", "floods", created_by="U", created_at=0.0, digest=None
    )
    first, second = cluster.replica(0, settings), cluster.replica(1, settings)
    for replica in (first, second):
        await replica.refresh()
    await first.poll_due()  # the baselines
    cluster.clock.advance(INTERVAL * 1.2)
    serving["main"] = [FLOOD, OLD]
    cluster.sink.fail(1)  # the first replica queues the alert but cannot post it now
    await first.poll_due()
    # A third replica claims it and is posting it, with the content it read, when the courier's item arrives.
    cluster.clock.advance(INTERVAL * 1.2)
    [posting] = await cluster.stores[2].claim_deliveries("poster", now=cluster.clock.time(), seconds=60.0)
    serving["other"] = [FLOOD_ELSEWHERE, TENNIS]
    adding = asyncio.create_task(second.poll_due())
    done, _ = await asyncio.wait([adding], timeout=1.0)
    assert not done, "the outlet waits: changing the queued alert now would be lost from what is posted"
    await cluster.stores[2].mark_delivered(posting.key, at=cluster.clock.time(), ref="posted-1")
    await adding
    [(edited, ref)] = cluster.sink.updates
    assert (edited.key, ref) == (posting.key, "posted-1")
    assert edited.content.also == (FLOOD_ELSEWHERE.link,), "the posted message is edited with the outlet"
    found = await cluster.stores[0].delivery(posting.key)
    assert found is not None and found[0].content.also == (FLOOD_ELSEWHERE.link,)


async def test_an_outlet_seen_by_a_replica_without_the_alerts_platform_is_added_by_one_with_it(
    page_server: PageServer, cluster: Cluster
) -> None:
    feeds = FeedServer(page_server)
    serving = {"main": [OLD], "other": [TENNIS]}
    main = feeds.feed("/main.xml", lambda _n: rss20("Valley", serving["main"]))
    other = feeds.feed("/other.xml", lambda _n: rss20("Courier", serving["other"]))
    settings = AlertSettings(default_feeds=(main, other))
    await cluster.stores[0].add_subscription(
        "discord", "42", "floods", created_by="U", created_at=0.0, digest=None
    )
    both = cluster.replica(0, settings, platforms=("slack", "discord"))
    slack_only = cluster.replica(1, settings, platforms=("slack",))
    for replica in (both, slack_only):
        await replica.refresh()
    await both.poll_due()  # the baselines
    cluster.clock.advance(INTERVAL * 1.2)
    serving["main"] = [FLOOD, OLD]
    await both.poll_due()
    [posted] = cluster.sink.delivered
    # The Slack-only replica polls the courier, another outlet of the story: it cannot edit a Discord message.
    cluster.clock.advance(INTERVAL * 1.2)
    serving["other"] = [FLOOD_ELSEWHERE, TENNIS]
    await slack_only.poll_due()
    await slack_only.deliver_pending()
    assert cluster.sink.updates == [], "not by a replica that does not run Discord"
    found = await cluster.stores[2].delivery(posted.key)
    assert found is not None and found[0].content.also == (FLOOD_ELSEWHERE.link,), "the outlet is kept"
    await both.deliver_pending()
    [(edited, ref)] = cluster.sink.updates
    assert (edited.key, ref) == (posted.key, found[1]), "the posted message is edited by one that does"
    assert edited.content.also == (FLOOD_ELSEWHERE.link,)
    await both.deliver_pending()
    assert len(cluster.sink.updates) == 1, "once"
