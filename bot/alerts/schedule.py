"""When to poll each feed: interval with jitter, exponential backoff after failures, disabling; the poller.

The policy functions are pure and take the time and the random source as arguments, so tests and the
store see exactly what happens. `FeedState` holds plain fields (datetimes in UTC, ints, strings) that map
one to one onto a table row. `FeedPoller` polls each URL it is given once per interval, whatever the number
of channels behind it (the caller passes each URL once), and owns its one background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol

from bot.alerts.feeds import FeedFetch, FeedItem
from bot.errors import BriefError, InternalError
from bot.metrics import FEED_POLLS

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = timedelta(minutes=15)


@dataclass(frozen=True)
class BackoffPolicy:
    jitter: float = 0.1  # every delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    max_delay: timedelta = timedelta(hours=6)
    max_failures: int = 8  # consecutive failures before the feed is disabled (~ a day at a 15 min interval)


DEFAULT_POLICY = BackoffPolicy()


@dataclass(frozen=True)
class FeedState:
    next_poll_at: datetime  # UTC
    failures: int = 0  # consecutive; back to 0 after any success
    disabled: bool = False
    etag: str | None = None  # validators of the last full response, for the next conditional GET
    last_modified: str | None = None
    last_error: str | None = None  # BriefError code of the last failure, None after a success


def new_feed_state(now: datetime) -> FeedState:
    """A feed just subscribed to: due at once."""
    return FeedState(next_poll_at=now)


def jittered(delay: timedelta, rng: random.Random, fraction: float) -> timedelta:
    # Spreads feeds added together (or failing together) so they don't all poll in the same second.
    return delay * (1 + rng.uniform(-fraction, fraction))


def after_success(
    state: FeedState,
    now: datetime,
    interval: timedelta,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    rng: random.Random | None = None,
    policy: BackoffPolicy = DEFAULT_POLICY,
) -> FeedState:
    """Next poll one interval (± jitter) from now; failures forgotten; validators replaced by these."""
    rng = rng or random.Random()
    return replace(
        state,
        next_poll_at=now + jittered(interval, rng, policy.jitter),
        failures=0,
        etag=etag,
        last_modified=last_modified,
        last_error=None,
    )


def backoff_delay(failures: int, interval: timedelta, policy: BackoffPolicy = DEFAULT_POLICY) -> timedelta:
    """interval · 2^failures, capped at policy.max_delay (before jitter)."""
    exponent = min(failures, 30)  # 2^30 intervals is past any cap; keeps the arithmetic small
    factor: int = 2**exponent  # int ** int is Any to mypy (a negative power would be a float)
    return min(interval * factor, policy.max_delay)


def after_failure(
    state: FeedState,
    now: datetime,
    interval: timedelta,
    *,
    error: str = "unreachable",
    rng: random.Random | None = None,
    policy: BackoffPolicy = DEFAULT_POLICY,
) -> FeedState:
    """One more consecutive failure: back off exponentially (± jitter); disable after policy.max_failures.

    Validators are kept: the feed's content is unchanged as far as we know.
    """
    rng = rng or random.Random()
    failures = state.failures + 1
    delay = jittered(backoff_delay(failures, interval, policy), rng, policy.jitter)
    return replace(
        state,
        next_poll_at=now + delay,
        failures=failures,
        disabled=failures >= policy.max_failures,
        last_error=error,
    )


def reenabled(state: FeedState, now: datetime) -> FeedState:
    """A disabled feed given another chance (a channel subscribed again): due now, failures forgotten."""
    return replace(state, next_poll_at=now, failures=0, disabled=False, last_error=None)


def due(states: Mapping[str, FeedState], now: datetime) -> list[str]:
    """URLs of enabled feeds whose time has come, the longest waiting first."""
    ready = [(s.next_poll_at, url) for url, s in states.items() if not s.disabled and s.next_poll_at <= now]
    return [url for _, url in sorted(ready)]


# --- the poller ---


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FetchFeed(Protocol):
    """`functools.partial(bot.alerts.feeds.fetch_feed, fetcher)` fits."""

    async def __call__(self, url: str, *, etag: str | None, last_modified: str | None) -> FeedFetch: ...


class FeedLeases(Protocol):
    """Processes sharing a store poll each feed once per interval: a poll takes the feed's lease first."""

    async def acquire(self, url: str, now: datetime) -> bool:
        """True when this process may poll the feed now (it is due and nobody else holds it)."""
        ...

    async def release(self, url: str) -> None: ...

    async def stored(self, url: str) -> FeedState | None:
        """The feed's state as the last process to poll it saved it."""
        ...


OnItems = Callable[[str, list[FeedItem]], Awaitable[None]]
OnDisabled = Callable[[str, BriefError], Awaitable[None]]
OnState = Callable[[str, FeedState], Awaitable[None]]


class FeedPoller:
    """Polls feeds when due, at most `concurrency` at a time; `async with poller:` runs it in the background.

    Callbacks: `on_items(url, items)` gets every item of a changed feed (telling new from seen is the
    caller's job); `on_disabled(url, error)` once when a feed is disabled; `on_state(url, state)` after
    every change, for persistence. A failing callback is logged; if `on_items` fails, the feed's
    validators are not advanced, so the next poll delivers the same items again.
    """

    def __init__(
        self,
        fetch: FetchFeed,
        *,
        on_items: OnItems,
        on_disabled: OnDisabled,
        on_state: OnState | None = None,
        interval: timedelta = DEFAULT_INTERVAL,
        concurrency: int = 8,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        policy: BackoffPolicy = DEFAULT_POLICY,
        states: Mapping[str, FeedState] | None = None,  # restored from the store
        max_sleep: float = 60.0,  # seconds; bounds how stale the loop's idea of "next due" can get
        leases: FeedLeases | None = None,  # when processes share the store
        lease_time: timedelta | None = None,  # how long a lease lasts: by default one interval
    ) -> None:
        self._fetch = fetch
        self._on_items = on_items
        self._on_disabled = on_disabled
        self._on_state = on_state
        self._interval = interval
        self._limit = asyncio.Semaphore(concurrency)
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._policy = policy
        self._states: dict[str, FeedState] = dict(states or {})
        self._max_sleep = max_sleep
        self._leases = leases
        # A dead holder's feeds move on when its lease expires: within one interval.
        self._lease_time = lease_time or interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def states(self) -> dict[str, FeedState]:
        return dict(self._states)

    def restore(self, states: Mapping[str, FeedState]) -> None:
        """Saved states (from the store) for feeds not tracked yet; kept by the next set_feeds."""
        for url, state in states.items():
            self._states.setdefault(url, state)

    def set_feeds(self, urls: Iterable[str]) -> None:
        """The feeds to poll (each once however often it is listed); new ones are due now, others dropped."""
        wanted = set(urls)
        now = self._clock.now()
        for url in self._states.keys() - wanted:
            del self._states[url]
        for url in wanted - self._states.keys():
            self._states[url] = new_feed_state(now)
        self._wake.set()

    def reenable(self, url: str) -> None:
        if url in self._states:
            self._states[url] = reenabled(self._states[url], self._clock.now())
            self._wake.set()

    async def poll_due(self) -> int:
        """Poll every feed that is due now (concurrency-capped); returns how many were polled."""
        urls = due(self._states, self._clock.now())
        await asyncio.gather(*(self._poll_limited(url) for url in urls))
        return len(urls)

    async def run(self) -> None:
        """Poll forever; cancel to stop (or use `async with`)."""
        while True:
            try:
                await self.poll_due()
            except Exception:  # a bug here must not end polling for every channel
                log.exception("feed poller cycle failed")
            await self._wait(self._seconds_until_next())

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="feed-poller")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> FeedPoller:
        self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def _seconds_until_next(self) -> float:
        upcoming = [s.next_poll_at for s in self._states.values() if not s.disabled]
        if not upcoming:
            return self._max_sleep
        seconds = (min(upcoming) - self._clock.now()).total_seconds()
        return min(max(seconds, 0.0), self._max_sleep)

    async def _wait(self, seconds: float) -> None:
        """Sleep `seconds`, or less if set_feeds/reenable add work meanwhile."""
        self._wake.clear()
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def _poll_limited(self, url: str) -> None:
        async with self._limit:
            await self._poll(url)

    async def _poll(self, url: str) -> None:
        if self._leases is None:
            await self._fetch_and_save(url, self._states[url])
            return
        try:
            won = await self._leases.acquire(url, self._clock.now())
            if not won:
                await self._adopt_stored(url)
                return
        except Exception:  # the store unreachable: not this cycle, nor the next one at once
            log.warning("feed %s: could not take its lease; trying again later", url, exc_info=True)
            self._postpone(url)
            return
        try:
            # Another process may have polled it before: its validators and failure count are current.
            stored = await self._leases.stored(url)
            if stored is not None and stored.disabled:
                self._states[url] = stored  # disabled by another process, which told the channels
            elif url in self._states:
                await self._fetch_and_save(url, stored or self._states[url])
        finally:
            try:
                await self._leases.release(url)
            except Exception:  # it expires by itself
                log.warning("feed %s: could not release its lease", url, exc_info=True)

    async def keep_lease(self, url: str) -> None:
        """Extend this process's lease on a feed it is handling: briefing its new items can outlast the lease,
        and another process would then poll the feed and brief them again (alert keys keep the posts single,
        not the work)."""
        if self._leases is None:
            return
        try:
            await self._leases.acquire(url, self._clock.now())
        except Exception:  # it runs out by itself; at worst another process briefs an item again
            log.warning("feed %s: could not renew its lease", url, exc_info=True)

    def _postpone(self, url: str) -> None:
        if url in self._states:
            delay = min(self._lease_time, timedelta(seconds=self._max_sleep))
            self._states[url] = replace(self._states[url], next_poll_at=self._clock.now() + delay)

    async def _adopt_stored(self, url: str) -> None:
        """Another process polls the feed, or has just polled it: wait for the next poll it saved, or for its
        lease to expire if it saved none yet (it may have died), instead of asking again every cycle."""
        stored = await self._leases.stored(url) if self._leases is not None else None
        if url not in self._states:
            return
        retry = self._clock.now() + self._lease_time
        if stored is None or stored.next_poll_at <= self._clock.now():
            stored = replace(stored or self._states[url], next_poll_at=retry)
        self._states[url] = stored

    async def _fetch_and_save(self, url: str, state: FeedState) -> None:
        try:
            result = await self._fetch(url, etag=state.etag, last_modified=state.last_modified)
        except BriefError as error:
            FEED_POLLS.labels(error.code).inc()
            await self._failed(url, state, error)
            return
        except Exception:
            log.exception("fetching feed %s failed", url)
            FEED_POLLS.labels(InternalError.code).inc()
            await self._failed(url, state, InternalError())
            return
        FEED_POLLS.labels("ok").inc()
        etag, last_modified = result.etag, result.last_modified
        if result.parsed is not None and not await self._deliver(url, result.parsed.items):
            etag, last_modified = state.etag, state.last_modified
        now = self._clock.now()
        new = after_success(
            state,
            now,
            self._interval,
            etag=etag,
            last_modified=last_modified,
            rng=self._rng,
            policy=self._policy,
        )
        await self._save(url, new)

    async def _deliver(self, url: str, items: list[FeedItem]) -> bool:
        # Empty too: the first poll of a feed that is empty when added is its baseline (nothing is old news).
        try:
            await self._on_items(url, items)
        except Exception:
            log.exception("handling the items of feed %s failed", url)
            return False
        return True

    async def _failed(self, url: str, state: FeedState, error: BriefError) -> None:
        log.info("feed %s failed (%s), %d in a row", url, error.code, state.failures + 1)
        new = after_failure(
            state, self._clock.now(), self._interval, error=error.code, rng=self._rng, policy=self._policy
        )
        await self._save(url, new)
        if new.disabled and not state.disabled and url in self._states:
            try:
                await self._on_disabled(url, error)
            except Exception:
                log.exception("reporting disabled feed %s failed", url)

    async def _save(self, url: str, state: FeedState) -> None:
        if url not in self._states:
            return  # unsubscribed while it was being polled
        self._states[url] = state
        if self._on_state is not None:
            try:
                await self._on_state(url, state)
            except Exception:
                log.exception("saving the state of feed %s failed", url)
