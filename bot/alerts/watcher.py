"""Topic alerts end to end: feed items → new? → first match → same story? → briefing → second match → alert
queue → delivered once.

Every feed is polled once per interval however many channels use it (the FeedPoller). An item is processed
once: its "seen" row is written only after its alerts are queued (in the store), so a crash in between means
it is processed again on the next poll, and each Delivery's key (subscription, story) keeps that from posting
twice. Alerts are queued before posting and marked delivered only after the platform confirms; on start,
whatever is still pending is delivered first.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.alerts.dedupe import StoryIndex, signature
from bot.alerts.digest import digest_text, next_due
from bot.alerts.feeds import FeedItem, fetch_feed
from bot.alerts.leases import StoreFeedLeases, feed_row, feed_state
from bot.alerts.locks import KeyedLocks
from bot.alerts.matcher import QueryIndex
from bot.alerts.model import AlertNotNow, AlertRefused, Delivery, StoryAlert, Subscription
from bot.alerts.query import Matchable
from bot.alerts.schedule import Clock, FeedPoller, FeedState
from bot.alerts.search import publisher_link, search_feed_url
from bot.chat.model import Notice
from bot.config import AlertSettings
from bot.errors import BriefError
from bot.fetch import Fetcher
from bot.metrics import ALERT_DELIVERIES
from bot.models import Briefing
from bot.replica import new_replica_id
from bot.store import Store, StoredStory

log = logging.getLogger(__name__)


BASELINE_KEY = "(baseline)"  # never a real item key: those are hashes
MAX_REFUSALS = 3  # refusals for good of one alert before its channel is paused and its alerts parked
READ_STORIES_KEPT = 10_000  # recent stories whose readers are remembered (a few hundred KB)
EDIT_WAIT_SECONDS = 0.2  # between looks at an alert another process is posting, to add an outlet to it


class AlertSink(Protocol):
    async def deliver(self, delivery: Delivery) -> str | None:
        """Post one alert; return once the platform accepted it, with its reference to the message (for
        edits), or raise (it stays queued)."""
        ...

    async def update(self, delivery: Delivery, ref: str) -> None:
        """Replace a posted alert's content (another outlet reported the story)."""
        ...


class UrlBriefer(Protocol):
    async def brief_url(self, url: str) -> Briefing: ...


def _names(briefing: Briefing) -> set[str]:
    return {name for actor in briefing.actors for name in (actor.name, *actor.aliases)}


def story_matchable(item: FeedItem, briefing: Briefing) -> Matchable:
    """What the second match reads: the feed item's own title and description (what made it a candidate),
    the briefing's title, the article text (the summary when there is no article), and the key actors'
    names and aliases ("North Korea" for an article that only says "North Korean"), one part per line."""
    names = _names(briefing)
    body = briefing.text or " ".join(briefing.summary)
    parts = [item.title, item.summary, briefing.title, body, *sorted(names)]
    return Matchable("\n".join(part for part in parts if part), frozenset(names))


def _teaser(item: FeedItem) -> Briefing:
    """When the article itself cannot be briefed, the alert still says what the feed said."""
    summary = [item.summary[:400]] if item.summary else []
    return Briefing(title=item.title, url=item.link, published=None, summary=summary)


class AlertWatcher:
    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        briefer: UrlBriefer,
        sink: AlertSink,
        settings: AlertSettings,
        *,
        now: Callable[[], float] = time.time,  # epoch seconds
        poll_clock: Clock | None = None,
        replica: str | None = None,  # this process among those sharing the store: holds leases and claims
        platforms: Collection[str] | None = None,  # those `sink` posts to (None: all): their alerts only
    ) -> None:
        self._store = store
        self._briefer = briefer
        self._sink = sink
        self._settings = settings
        self._now = now
        self._index = QueryIndex()
        self._subscriptions: dict[int, Subscription] = {}
        self._readers: dict[str, set[tuple[str, str]]] = {}  # feed url → (platform, channel) that watch it
        self._stories = StoryIndex(window=timedelta(hours=settings.dedupe_window_hours))
        self._delivering = asyncio.Lock()
        self._retrier: asyncio.Task[None] | None = None
        self._paused: dict[tuple[str, str], str] = {}  # channels whose alerts the platform refuses for good
        self._next_parked_try = 0.0
        self._refused_now: set[tuple[str, str]] = set()  # channels refused in this delivery round
        self._story_locks = KeyedLocks()
        self._finding = asyncio.Lock()  # the story index is read and grown by one item at a time
        self._story_seq = 0  # the last story recorded in the store that the index holds (add_story_once)
        # story → subscriptions that have read it (matched or not): another outlet is not briefed for them.
        # Kept for the recent stories only; after a restart, at worst one outlet is briefed again.
        self._read: OrderedDict[str, set[int]] = OrderedDict()
        self._zone = ZoneInfo(settings.timezone)
        self.replica = replica or new_replica_id()
        # Another process sharing the store may run platforms this one does not: it claims their alerts.
        self._platforms = None if platforms is None else frozenset(platforms)
        interval = timedelta(seconds=settings.poll_interval_seconds)
        self._poller = FeedPoller(
            functools.partial(fetch_feed, fetcher),
            on_items=self.handle_items,
            on_disabled=self._feed_disabled,
            on_state=self._save_state,
            interval=interval,
            clock=poll_clock,
            leases=StoreFeedLeases(store, self.replica, interval),
        )

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        window_start = self._now() - self._settings.dedupe_window_hours * 3600
        self._story_seq = await self._store.latest_story_seq()  # before loading: none falls in between
        for story_id, data, at in await self._store.stories_since(window_start):
            self._stories.add_signature(story_id, data, datetime.fromtimestamp(at, UTC))
        await self.refresh()
        await self.deliver_pending()  # replay what a previous run queued but never saw confirmed
        self._poller.start()
        self._retrier = asyncio.create_task(
            self._retry_pending(self._settings.retry_seconds), name="alert-retry"
        )

    async def stop(self) -> None:
        await self._poller.stop()
        if self._retrier is not None:
            self._retrier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrier

    async def _retry_pending(self, every: float) -> None:
        """Alerts a platform refused (down, not connected yet) go out as soon as it takes them again; a
        paused channel's parked alerts are tried now and then (parked_retry_seconds)."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.deliver_pending()
                if self._paused and self._now() >= self._next_parked_try:
                    self._next_parked_try = self._now() + self._settings.parked_retry_seconds
                    await self.retry_parked()
            except Exception:  # a store hiccup must not end retries for good
                log.exception("retrying queued alerts failed")

    async def retry_parked(self) -> int:
        """Try each paused channel's oldest parked alert; when the platform takes it, the channel resumes
        and its other parked alerts are queued again. Returns how many channels resumed."""
        resumed = 0
        for platform, channel in list(self._paused):
            if self._platforms is not None and platform not in self._platforms:
                continue  # another process, one that runs the platform, tries it
            # Claimed like any alert, so that two processes retrying the channel never send one alert twice.
            parked = await self._store.claim_parked_delivery(
                platform, channel, self.replica, now=self._now(), seconds=self._settings.claim_seconds
            )
            if parked is None and await self._store.parked_deliveries(platform, channel):
                continue  # another process is trying them now
            if parked is not None:
                try:
                    ref = await self._sink.deliver(parked)
                except asyncio.CancelledError:
                    raise
                except Exception:  # still refused, or the platform is down: try again later
                    await self._store.release_deliveries([parked.key], self.replica)
                    continue
                await self._store.mark_delivered(parked.key, self._now(), ref)
            await self._store.resume_channel(platform, channel)
            log.info("alerts to %s:%s resumed: the platform takes them again", platform, channel)
            resumed += 1
        if resumed:
            self._paused = await self._store.paused_channels()
            await self.deliver_pending()
        return resumed

    async def poll_due(self) -> int:
        """Poll the feeds that are due now (the background loop does this by itself)."""
        return await self._poller.poll_due()

    async def refresh(self) -> None:
        """Reload subscriptions and sources (after a command changed them)."""
        subscriptions = await self._store.subscriptions()
        self._index = QueryIndex()
        for subscription in subscriptions:
            self._index.add(subscription.id, subscription.query)
        self._subscriptions = {s.id: s for s in subscriptions}
        self._paused = await self._store.paused_channels()
        readers: dict[str, set[tuple[str, str]]] = defaultdict(set)
        channels = {(s.platform, s.channel) for s in subscriptions}
        for channel in channels:
            for url in self._settings.default_feed_urls:
                readers[url].add(channel)
        for feed in await self._store.channel_feeds():
            if (feed.platform, feed.channel) in channels:
                readers[feed.url].add((feed.platform, feed.channel))
        # A search feed per distinct query, read by the channels that follow it.
        for template in self._settings.search_feeds:
            for subscription in subscriptions:
                readers[search_feed_url(template, subscription.query)].add(
                    (subscription.platform, subscription.channel)
                )
        self._readers = dict(readers)
        states = {}
        for url in self._readers:
            row = await self._store.feed_state(url)
            if row is not None:
                states[url] = feed_state(row)
        self._poller.restore(states)
        self._poller.set_feeds(self._readers)

    # --- feeds ----------------------------------------------------------------------------------------

    async def _save_state(self, url: str, state: FeedState) -> None:
        await self._store.save_feed_state(feed_row(url, state))

    async def _feed_disabled(self, url: str, error: BriefError) -> None:
        log.warning("feed %s disabled after repeated failures: %s", url, error.code)
        now = self._now()
        for platform, channel in sorted(self._readers.get(url, ())):
            text = (
                f"I stopped checking the feed {url}: it failed too many times in a row ({error.message}). "
                "Remove it with `/brief source remove`, or add it again once it works."
            )
            await self._store.enqueue_delivery(
                Delivery(f"disabled:{url}:{int(now)}:{channel}", platform, channel, Notice(text), now)
            )
        await self.deliver_pending()

    async def handle_items(self, url: str, items: list[FeedItem]) -> None:
        now = self._now()
        keys = [item.key for item in items]
        if not await self._store.feed_seen_before(url):
            # A new feed: what it holds now is old news. The marker row remembers the baseline was taken
            # even when the feed was empty.
            await self._store.mark_seen(url, [*keys, BASELINE_KEY], now)
            log.info("feed %s: baseline of %d items", url, len(items))
            return
        if not items:
            return  # an empty feed whose baseline is taken: nothing to look up or record
        known = await self._store.first_seen(url, keys)
        readers = self._readers.get(url, set())
        for item in items:
            if item.key in known:
                continue
            if await self._process(item, readers, now):
                await self.deliver_pending()  # each alert leaves as soon as it is queued
            # Seen once its alerts are queued, and the feed's lease renewed: a process that polls the feed
            # after a long run of briefings (this one's lease run out, or this one killed) skips this item.
            await self._store.mark_seen(url, [item.key], now)
            await self._poller.keep_lease(url)

    async def _process(self, item: FeedItem, readers: set[tuple[str, str]], now: float) -> bool:
        """Queue the item's alerts; True when at least one was queued."""
        if item.link:  # a search engine's redirector link: the alert is about the publisher's article
            item = replace(item, link=publisher_link(item.link))
        # A subscription sees the feeds of its own channel, and only stories first seen after it was made.
        candidates = [
            s
            for s in self._subscriptions.values()
            if (s.platform, s.channel) in readers
            and s.created_at <= now
            and (s.platform, s.channel) not in self._paused  # the platform refuses posts there for now
        ]
        if not item.link:  # nothing more to read than the feed's own words: they must match
            matched = self._index.match(Matchable.from_parts(item.title, item.summary))
            candidates = [s for s in candidates if s.id in matched]
        # With a link, every subscription watching the feed is a candidate: a story often names its topic only
        # in the article or as a demonym ("North Korean" for "North Korea"). Its briefing decides, and is
        # made once per story however many channels and subscriptions read it (bench/alerts_recall.py).
        if not candidates:
            return False
        data = await asyncio.to_thread(signature, item.title, item.summary)
        story, new = await self._story_of(item, data)
        # One item of a story at a time: an outlet polled at the same moment as the first waits until the
        # first's alerts are queued, then joins their "also reported by" lines instead of racing them.
        async with self._story_locks.hold(story):
            return await self._alert_story(item, story, new, candidates, now)

    async def _story_of(self, item: FeedItem, data: bytes) -> tuple[str, bool]:
        """The story the item belongs to, and whether the item is its first (then it is recorded).

        Known here, it is decided at once. Otherwise the store decides, one process of the cluster at a
        time: against the stories the other processes recorded since this one last looked, then by
        recording it, so an outlet another replica saw first is never a second story.
        """
        async with self._finding:
            # The time of the look-up, not of the poll: another feed polled at the same moment may have added
            # the story a moment later than this poll began, and a story from the future is never found.
            at = datetime.fromtimestamp(self._now(), UTC)
            if (story := self._stories.find_duplicate_signature(data, at)) is not None:
                return story, False

            def same_as(recorded: list[StoredStory]) -> str | None:
                for other in recorded:
                    if other.id not in self._stories:  # their clock may run ahead of ours: not "future"
                        seen = datetime.fromtimestamp(min(other.first_seen_at, at.timestamp()), UTC)
                        self._stories.add_signature(other.id, other.signature, seen)
                return self._stories.find_duplicate_signature(data, at)

            mine = StoredStory(item.key, data, at.timestamp(), title=item.title, url=item.link or "")
            story, self._story_seq = await self._store.add_story_once(
                mine, after=self._story_seq, same_as=same_as
            )
            if story == item.key:
                self._stories.add_signature(story, data, at)
            return story, story == item.key

    async def _alert_story(
        self, item: FeedItem, story: str, new: bool, candidates: list[Subscription], now: float
    ) -> bool:
        """Queue the alerts of an item of `story`; `new`: the item is the story's first."""
        if not new:
            # Same-story detection never crosses channels: a subscription already alerted to the story gets
            # this outlet on its "also reported by" line; the others have not seen the story yet.
            read = self._read.get(story, set())
            candidates = [
                c for c in await self._add_other_source(story, candidates, item) if c.id not in read
            ]
            if not candidates:
                return False
        briefing = await self._brief(item)
        self._read.setdefault(story, set()).update(c.id for c in candidates)
        self._read.move_to_end(story)
        while len(self._read) > READ_STORIES_KEPT:
            self._read.popitem(last=False)
        matchable = story_matchable(item, briefing)
        briefing = replace(briefing, text=None)  # queued alerts carry what is shown, not the article
        queued = False
        matched = self._index.match(matchable)
        for subscription in candidates:
            if subscription.id not in matched:
                continue  # the full briefing shows it is not about the topic after all
            # A digest subscription's story waits for the digest time, then goes out with the day's others.
            due = next_due(subscription.digest, now, self._zone) if subscription.digest else None
            alert = StoryAlert(subscription.id, subscription.query, briefing, digest_due=due)
            delivery = Delivery(f"{subscription.id}:{story}", subscription.platform, subscription.channel,
                                alert, now, subscription.mention)  # fmt: skip
            if await self._store.enqueue_delivery(delivery):
                await self._store.count_alert(subscription.id)
                queued = True
        return queued

    async def _brief(self, item: FeedItem) -> Briefing:
        if not item.link:
            return _teaser(item)
        try:
            return await self._briefer.brief_url(item.link)
        except BriefError as error:
            log.info("alert for %s without a briefing: %s", item.link, error.code)
            return _teaser(item)

    async def _add_other_source(
        self, story: str, subscriptions: list[Subscription], item: FeedItem
    ) -> list[Subscription]:
        """Another outlet of a story: for each subscription already alerted to it, the link joins the alert's
        "also reported by" line, in the queue while the alert waits there, else by editing the posted
        message. Returns the subscriptions that have no alert for the story yet."""
        if story == item.key:  # its own first item again (after a crash, or polled by two replicas at once)
            return [s for s in subscriptions if await self._store.delivery(f"{s.id}:{story}") is None]
        unalerted = []
        for subscription in subscriptions:
            # Not while a delivery round runs: the alert is either still queued (its row is changed before
            # it is read for posting) or posted (the message is edited), never posted without the link.
            async with self._delivering:
                if not await self._add_link(f"{subscription.id}:{story}", item):
                    unalerted.append(subscription)
        return unalerted

    async def _add_link(self, key: str, item: FeedItem) -> bool:
        """Add the item's link to the alert `key`; False when there is no such alert.

        Another process sharing the store may be posting the alert, or adding another outlet to it, at the
        same moment: the content is replaced only if unchanged since it was read and not claimed for
        posting, else it is read again (and, once posted, its message edited), so no outlet is lost.
        """
        while True:
            found = await self._store.delivery_for_edit(key, now=self._now())
            if found is None:
                return False
            delivery, alert = found.delivery, found.delivery.content
            if not item.link or not isinstance(alert, StoryAlert) or item.link in alert.also:
                return True
            if found.claimed:  # being posted elsewhere now: edit the message once it is posted
                await asyncio.sleep(EDIT_WAIT_SECONDS)
                continue
            alert = replace(alert, also=(*alert.also, item.link))
            owed = False  # the message must be edited by a process that runs its platform (_make_owed_edits)
            if found.delivered:
                if found.ref is None:
                    return True  # posted by a platform that gave no reference: it cannot be edited
                if self._platforms is not None and delivery.platform not in self._platforms:
                    owed = True
                elif not await self._edit(replace(delivery, content=alert), found.ref):
                    return True
            if await self._store.replace_delivery_content(
                key, alert, revision=found.revision, now=self._now(), edit_owed=owed
            ):
                return True

    async def _edit(self, delivery: Delivery, ref: str) -> bool:
        """Edit the posted message `ref` to show the alert as it is now; False when that failed (logged)."""
        try:
            await self._sink.update(delivery, ref)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("could not add another source to alert %s", delivery.key, exc_info=True)
            return False
        return True

    async def _make_owed_edits(self) -> None:
        """Edit the posted alerts of this process's platforms to which another process, one that does not run
        the platform, added an outlet. Tried once each, as an edit made here at once is."""
        for owed in await self._store.owed_edits(self._platforms):
            if owed.ref is not None:
                await self._edit(owed.delivery, owed.ref)
            await self._store.settle_edit(owed.delivery.key, owed.revision)

    # --- delivery -------------------------------------------------------------------------------------

    async def deliver_pending(self) -> int:
        """Post every queued alert, oldest first, and every digest that is due; a failure leaves it queued."""
        delivered = 0
        now = self._now()
        async with self._delivering:
            self._refused_now.clear()
            digests: dict[tuple[int, float], list[tuple[Delivery, StoryAlert]]] = defaultdict(list)
            # Claimed, so that another process sharing the store does not post them too; the claims of
            # whatever is not delivered in this round are given up at its end.
            pending = await self._store.claim_deliveries(
                self.replica, now=now, seconds=self._settings.claim_seconds, platforms=self._platforms
            )
            try:
                for delivery in pending:
                    if (delivery.platform, delivery.channel) in self._refused_now:
                        continue  # the platform refused this channel a post a moment ago: its others wait
                    alert = delivery.content
                    if not isinstance(alert, StoryAlert) or alert.digest_due is None:
                        delivered += await self._send(delivery, [delivery])
                    elif alert.digest_due <= now:
                        digests[alert.subscription_id, alert.digest_due].append((delivery, alert))
                incomplete = await self._held_elsewhere(digests, {d.key for d in pending})
                for (subscription, due), parts in digests.items():
                    if (subscription, due) in incomplete:
                        log.info("digest %s of #%d: another process holds some of it; it goes out whole", due,
                                 subscription)  # fmt: skip
                        continue
                    first = parts[0][0]
                    text = digest_text([story for _, story in parts])
                    # One key per subscription and day: a replay after a crash is recognized like any alert.
                    combined = Delivery(f"digest:{subscription}:{int(due)}", first.platform, first.channel,
                                        Notice(text), now, first.mention,
                                        handed_over=any(part.handed_over for part, _ in parts))  # fmt: skip
                    delivered += await self._send(combined, [queued for queued, _ in parts])
            finally:
                if pending:
                    await self._store.release_deliveries([d.key for d in pending], self.replica)
            await self._make_owed_edits()
        return delivered

    async def _held_elsewhere(
        self, digests: dict[tuple[int, float], list[tuple[Delivery, StoryAlert]]], mine: set[str]
    ) -> set[tuple[int, float]]:
        """The due digests (subscription, due) some of whose parts this process did not claim: another process
        claimed them in a round of its own, or queued them since. Sent in pieces they would be two messages;
        left alone, their claims are given up at the end of the round and a later round takes them whole."""
        if not digests:
            return set()
        return {
            (alert.subscription_id, alert.digest_due)
            for queued in await self._store.pending_deliveries()
            if isinstance(alert := queued.content, StoryAlert)
            and alert.digest_due is not None
            and (alert.subscription_id, alert.digest_due) in digests
            and queued.key not in mine
        }

    async def _send(self, delivery: Delivery, covers: list[Delivery]) -> int:
        try:
            ref = await self._sink.deliver(delivery)
        except asyncio.CancelledError:
            raise
        except AlertRefused as refusal:
            ALERT_DELIVERIES.labels(delivery.platform, "refused").inc()
            await self._refused(delivery, covers, refusal)
            return 0
        except AlertNotNow as reason:
            ALERT_DELIVERIES.labels(delivery.platform, "retry").inc()
            log.info("alert %s not delivered yet (%s); will retry", delivery.key, reason)
            return 0
        except Exception:
            ALERT_DELIVERIES.labels(delivery.platform, "retry").inc()
            log.warning("alert %s not delivered yet; will retry", delivery.key, exc_info=True)
            return 0
        ALERT_DELIVERIES.labels(delivery.platform, "delivered").inc()
        for queued in covers:
            await self._store.mark_delivered(queued.key, self._now(), ref)
        return 1

    async def _refused(self, delivery: Delivery, covers: list[Delivery], refusal: AlertRefused) -> None:
        """A refusal for good: retried a few times (an edit of permissions may be on its way), then the
        channel's alerts are parked, not retried forever, and its subscriptions paused; logged once."""
        self._refused_now.add((delivery.platform, delivery.channel))
        refusals = [await self._store.record_refusal(queued.key) for queued in covers]
        if max(refusals, default=0) < MAX_REFUSALS:
            log.info("alert %s refused (%s); will retry", delivery.key, refusal.reason)
            return
        where = (delivery.platform, delivery.channel)
        if await self._store.park_channel(*where, refusal.reason, self._now()):
            self._next_parked_try = self._now() + self._settings.parked_retry_seconds
            log.warning(
                "alerts to %s:%s parked after %d refusals (%s); its subscriptions are paused until the "
                "platform takes a post there again",
                *where, MAX_REFUSALS, refusal.reason,
            )  # fmt: skip
        self._paused = await self._store.paused_channels()


class PlatformSink:
    """Routes each alert to the running adapter of its platform; with none running, it stays queued."""

    def __init__(self, adapters: dict[str, AlertSink]) -> None:
        self._adapters = adapters

    def _adapter(self, platform: str) -> AlertSink:
        adapter = self._adapters.get(platform)
        if adapter is None:
            raise LookupError(f"no {platform} adapter is running")
        return adapter

    async def deliver(self, delivery: Delivery) -> str | None:
        return await self._adapter(delivery.platform).deliver(delivery)

    async def update(self, delivery: Delivery, ref: str) -> None:
        await self._adapter(delivery.platform).update(delivery, ref)
