"""Poll schedule: jitter, backoff, disabling, due feeds; the poller on a fake clock and real local feeds."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
from fakes import T0, FakeClock
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer

from bot.alerts.feeds import FeedFetch, FeedItem, ParsedFeed, fetch_feed
from bot.alerts.schedule import (
    BackoffPolicy,
    FeedLeases,
    FeedPoller,
    FeedState,
    after_failure,
    after_success,
    backoff_delay,
    due,
    new_feed_state,
    reenabled,
)
from bot.config import FetchSettings
from bot.errors import BriefError, UnreachableError
from bot.fetch import Fetcher

INTERVAL = timedelta(minutes=15)
NO_JITTER = BackoffPolicy(jitter=0.0)


# --- pure policy ---


def test_success_schedules_one_interval_ahead_within_jitter() -> None:
    rng = random.Random(1)
    times = [after_success(new_feed_state(T0), T0, INTERVAL, rng=rng).next_poll_at - T0 for _ in range(200)]
    assert min(times) >= INTERVAL * 0.9
    assert max(times) <= INTERVAL * 1.1
    assert len(set(times)) > 100  # actually spread


def test_success_resets_failures_and_stores_validators() -> None:
    failing = FeedState(next_poll_at=T0, failures=3, etag='"old"', last_error="timeout")
    state = after_success(failing, T0, INTERVAL, etag='"new"', last_modified="Mon, 05 Jan 2026 11:00:00 GMT")
    assert (state.failures, state.last_error, state.etag) == (0, None, '"new"')
    assert state.last_modified == "Mon, 05 Jan 2026 11:00:00 GMT"


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    state = new_feed_state(T0)
    delays = []
    for _ in range(7):
        state = after_failure(state, T0, INTERVAL, error="timeout", policy=NO_JITTER)
        delays.append(state.next_poll_at - T0)
    assert delays[:4] == [INTERVAL * 2, INTERVAL * 4, INTERVAL * 8, INTERVAL * 16]
    assert delays[4:] == [timedelta(hours=6)] * 3
    assert state.failures == 7 and state.last_error == "timeout" and not state.disabled


def test_backoff_delay_survives_huge_failure_counts() -> None:
    assert backoff_delay(10_000, INTERVAL) == timedelta(hours=6)


def test_failure_jitter_stays_within_bounds() -> None:
    rng = random.Random(7)
    state = FeedState(next_poll_at=T0, failures=1)
    delays = {after_failure(state, T0, INTERVAL, rng=rng).next_poll_at - T0 for _ in range(100)}
    assert min(delays) >= INTERVAL * 4 * 0.9 and max(delays) <= INTERVAL * 4 * 1.1
    assert len(delays) > 50


def test_disabled_after_max_consecutive_failures_keeping_validators() -> None:
    state = FeedState(next_poll_at=T0, etag='"e"')
    for _ in range(7):
        state = after_failure(state, T0, INTERVAL)
    assert not state.disabled
    state = after_failure(state, T0, INTERVAL)
    assert state.disabled and state.failures == 8 and state.etag == '"e"'
    again = reenabled(state, T0 + INTERVAL)
    assert not again.disabled and again.failures == 0 and again.next_poll_at == T0 + INTERVAL


def test_due_lists_ready_enabled_feeds_oldest_first() -> None:
    states = {
        "late": FeedState(next_poll_at=T0 - timedelta(minutes=1)),
        "early": FeedState(next_poll_at=T0 - timedelta(minutes=9)),
        "future": FeedState(next_poll_at=T0 + timedelta(seconds=1)),
        "off": FeedState(next_poll_at=T0 - timedelta(hours=1), disabled=True),
        "exact": FeedState(next_poll_at=T0),
    }
    assert due(states, T0) == ["early", "late", "exact"]


# --- the poller with a fake fetch ---


def item(title: str) -> FeedItem:
    return FeedItem(f"title:{title}", None, None, title, "", None, "u")


class FakeFetch:
    """Answers per URL from a script: a FeedFetch, or a BriefError/other exception to raise."""

    def __init__(self, script: dict[str, list[FeedFetch | Exception]]) -> None:
        self.script = script
        self.calls: list[tuple[str, str | None, str | None]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, url: str, *, etag: str | None, last_modified: str | None) -> FeedFetch:
        self.calls.append((url, etag, last_modified))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            answers = self.script[url]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            self.in_flight -= 1


def ok(*titles: str, etag: str | None = '"1"') -> FeedFetch:
    return FeedFetch("ok", ParsedFeed("t", [item(t) for t in titles]), etag, None)


class Recorder:
    def __init__(self) -> None:
        self.items: list[tuple[str, list[str]]] = []
        self.disabled: list[tuple[str, str]] = []
        self.saved: list[tuple[str, FeedState]] = []

    async def on_items(self, url: str, items: list[FeedItem]) -> None:
        self.items.append((url, [i.title for i in items]))

    async def on_disabled(self, url: str, error: BriefError) -> None:
        self.disabled.append((url, error.code))

    async def on_state(self, url: str, state: FeedState) -> None:
        self.saved.append((url, state))


def poller(fetch: FakeFetch, rec: Recorder, clock: FakeClock, **kwargs: object) -> FeedPoller:
    return FeedPoller(
        fetch,
        on_items=rec.on_items,
        on_disabled=rec.on_disabled,
        on_state=rec.on_state,
        interval=INTERVAL,
        clock=clock,
        rng=random.Random(0),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_each_url_is_fetched_once_however_often_listed() -> None:
    fetch = FakeFetch({"a": [ok("A1")], "b": [ok("B1")]})
    rec, clock = Recorder(), FakeClock()
    p = poller(fetch, rec, clock)
    p.set_feeds(["a", "b", "a", "a"])
    assert await p.poll_due() == 2
    assert sorted(c[0] for c in fetch.calls) == ["a", "b"]
    assert await p.poll_due() == 0  # nothing due until an interval has passed
    clock.advance(INTERVAL * 1.1)
    assert await p.poll_due() == 2


async def test_validators_are_sent_back_and_not_modified_delivers_nothing() -> None:
    fetch = FakeFetch({"a": [ok("A1", etag='"v1"'), FeedFetch("not_modified", None, '"v1"', None)]})
    rec, clock = Recorder(), FakeClock()
    p = poller(fetch, rec, clock)
    p.set_feeds(["a"])
    await p.poll_due()
    clock.advance(INTERVAL * 2)
    await p.poll_due()
    assert fetch.calls == [("a", None, None), ("a", '"v1"', None)]
    assert rec.items == [("a", ["A1"])]
    assert p.states["a"].failures == 0


async def test_failing_feed_backs_off_then_is_disabled_once() -> None:
    fetch = FakeFetch({"bad": [UnreachableError()], "good": [ok("G")]})
    rec, clock = Recorder(), FakeClock()
    p = poller(fetch, rec, clock, policy=BackoffPolicy(max_failures=3))
    p.set_feeds(["bad", "good"])
    for _ in range(10):
        await p.poll_due()
        clock.advance(timedelta(hours=7))
    assert [c[0] for c in fetch.calls].count("bad") == 3
    assert rec.disabled == [("bad", "unreachable")]
    assert p.states["bad"].disabled and p.states["bad"].last_error == "unreachable"
    assert not p.states["good"].disabled


async def test_unexpected_exception_counts_as_a_failure_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fetch = FakeFetch({"a": [ValueError("bug")]})
    rec, clock = Recorder(), FakeClock()
    p = poller(fetch, rec, clock)
    p.set_feeds(["a"])
    await p.poll_due()
    assert p.states["a"].failures == 1 and p.states["a"].last_error == "internal_error"
    assert "fetching feed a failed" in caplog.text


async def test_failing_on_items_keeps_old_validators_so_items_come_again() -> None:
    fetch = FakeFetch({"a": [ok("A1", etag='"v2"')]})
    clock = FakeClock()
    calls = []

    async def broken(url: str, items: list[FeedItem]) -> None:
        calls.append(url)
        raise RuntimeError("store down")

    async def ignore(url: str, error: BriefError) -> None:
        return None

    p = FeedPoller(fetch, on_items=broken, on_disabled=ignore, interval=INTERVAL, clock=clock)
    p.set_feeds(["a"])
    await p.poll_due()
    assert calls == ["a"]
    assert p.states["a"].etag is None  # so the next poll is a full fetch
    assert p.states["a"].failures == 0


async def test_concurrency_is_capped() -> None:
    urls = [f"f{n}" for n in range(20)]
    fetch = FakeFetch({u: [ok("x")] for u in urls})
    p = poller(fetch, Recorder(), FakeClock(), concurrency=3)
    p.set_feeds(urls)
    assert await p.poll_due() == 20
    assert fetch.most_in_flight == 3


async def test_states_are_saved_and_restored() -> None:
    fetch = FakeFetch({"a": [ok("A1", etag='"v1"')]})
    rec, clock = Recorder(), FakeClock()
    p = poller(fetch, rec, clock)
    p.set_feeds(["a"])
    await p.poll_due()
    assert rec.saved[-1] == ("a", p.states["a"])
    restored = poller(fetch, Recorder(), clock, states=p.states)
    restored.set_feeds(["a"])
    clock.advance(INTERVAL * 2)
    await restored.poll_due()
    assert fetch.calls[-1] == ("a", '"v1"', None)


async def test_removed_feed_is_no_longer_polled() -> None:
    fetch = FakeFetch({"a": [ok("A")], "b": [ok("B")]})
    p = poller(fetch, Recorder(), FakeClock())
    p.set_feeds(["a", "b"])
    p.set_feeds(["b"])
    await p.poll_due()
    assert [c[0] for c in fetch.calls] == ["b"]
    assert set(p.states) == {"b"}


async def test_background_run_polls_once_per_interval_on_fake_time() -> None:
    fetch = FakeFetch({"a": [ok("A")], "b": [UnreachableError()]})
    rec = Recorder()
    clock = FakeClock(stop_at=T0 + timedelta(hours=2))
    p = poller(fetch, rec, clock, policy=BackoffPolicy(max_failures=100))
    p.set_feeds(["a", "b"])
    async with p:
        await asyncio.wait_for(clock.parked.wait(), timeout=5)  # fake time, real safety net
    a_polls = [c for c in fetch.calls if c[0] == "a"]
    b_polls = [c for c in fetch.calls if c[0] == "b"]
    assert 8 <= len(a_polls) <= 9  # two hours of 15 min ± 10%
    assert len(b_polls) == 3  # t=0, +30 min, +1 h 30 (± jitter), then past two hours
    assert max(clock.sleeps) <= 60.0


async def test_stop_cancels_and_a_new_feed_wakes_the_loop() -> None:
    fetch = FakeFetch({"a": [ok("A")], "b": [ok("B")]})
    clock = FakeClock(stop_at=T0)  # time never moves: the loop parks at its first sleep
    p = poller(fetch, Recorder(), clock)
    p.set_feeds(["a"])
    p.start()
    await asyncio.wait_for(clock.parked.wait(), timeout=5)
    clock.parked.clear()
    p.set_feeds(["a", "b"])
    await asyncio.wait_for(clock.parked.wait(), timeout=5)  # woken: it polled again and parked again
    await p.stop()
    assert [c[0] for c in fetch.calls] == ["a", "b"]


# --- the poller against the local feed server ---


@pytest_asyncio.fixture
async def fetcher(fetch_settings: FetchSettings) -> AsyncIterator[Fetcher]:
    async with Fetcher(dataclasses.replace(fetch_settings, timeout_seconds=0.5)) as fetcher:
        yield fetcher


async def test_real_feeds_conditional_polls_and_a_broken_feed_disabled(
    page_server: PageServer, fetcher: Fetcher
) -> None:
    feeds = FeedServer(page_server)
    story = Entry("Harbour bridge reopens", "https://news.example/bridge", "g", "Text.", T0)
    good = feeds.feed("/good.xml", rss20("Good", [story]))
    broken = feeds.feed("/broken.xml", "<html><body>Our feed moved</body></html>", content_type="text/html")
    slow = feeds.feed("/slow.xml", rss20("Slow", [story]), delay=3.0)
    rec, clock = Recorder(), FakeClock()
    p = FeedPoller(
        functools.partial(fetch_feed, fetcher),
        on_items=rec.on_items,
        on_disabled=rec.on_disabled,
        interval=INTERVAL,
        clock=clock,
        policy=BackoffPolicy(max_failures=3),
    )
    p.set_feeds([good, broken, slow, good])
    for _ in range(4):
        await p.poll_due()
        clock.advance(timedelta(hours=7))
    assert rec.items == [(good, ["Harbour bridge reopens"])]  # later polls were 304s
    assert feeds.stats["/good.xml"].fetches == 4
    assert feeds.stats["/good.xml"].not_modified == 3
    assert sorted(rec.disabled) == sorted([(broken, "not_a_feed"), (slow, "timeout")])
    assert feeds.stats["/broken.xml"].fetches == 3


class StoreDown(FeedLeases):
    """Leases whose store cannot be reached."""

    def __init__(self) -> None:
        self.asked = 0

    async def acquire(self, url: str, now: datetime) -> bool:
        self.asked += 1
        raise ConnectionError("store unreachable")

    async def release(self, url: str) -> None:
        raise AssertionError("nothing was taken")

    async def stored(self, url: str) -> FeedState | None:
        raise AssertionError("not asked without a lease")


async def test_a_lease_the_store_cannot_give_postpones_the_feed_instead_of_retrying_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fetch, rec, clock, leases = FakeFetch({"a": [ok("A1")]}), Recorder(), FakeClock(), StoreDown()
    p = poller(fetch, rec, clock, leases=leases, max_sleep=30.0)
    p.set_feeds(["a"])
    assert await p.poll_due() == 1
    assert await p.poll_due() == 0, "not asked again in the same breath: the loop would spin"
    assert fetch.calls == [] and leases.asked == 1
    clock.advance(30)
    assert await p.poll_due() == 1
    assert leases.asked == 2
    assert "could not take its lease" in caplog.text
