"""Small parts of the chat core: links, canonical URLs, rate limits, the single-flight cache, the outbox."""

import asyncio

import pytest
from fakes import FakeClock

from bot.chat.cache import SingleFlightCache
from bot.chat.links import canonical_url, find_links
from bot.chat.outbox import Outbox, RateLimited
from bot.chat.shared import PRUNE_EVERY, SharedBriefings, SharedLimits
from bot.models import Briefing
from bot.store import Store


def test_find_links_in_order_without_duplicates_or_punctuation() -> None:
    text = (
        "Read https://news.example/a?id=1. And (https://news.example/b), "
        "again https://NEWS.example/a?id=1#top and https://en.wikipedia.org/wiki/Seoul_(city)! ftp://x.example/f"
    )
    assert find_links(text, 5) == [
        "https://news.example/a?id=1",
        "https://news.example/b",
        "https://en.wikipedia.org/wiki/Seoul_(city)",
    ]
    assert find_links(text, 2) == ["https://news.example/a?id=1", "https://news.example/b"]
    assert find_links("no links here, just http:// and www.example.com", 3) == []


def test_canonical_url_drops_tracking_and_fragment() -> None:
    assert canonical_url("HTTPS://News.Example:443/story?b=2&utm_source=x&a=1#comments") == (
        "https://news.example/story?b=2&a=1"
    )
    assert canonical_url("http://news.example") == "http://news.example/"
    assert canonical_url("http://news.example:8080/x") == "http://news.example:8080/x"


async def test_rate_limits_burst_then_refill_per_key_and_keep_the_store_small(store: Store) -> None:
    clock = FakeClock()
    limiter = SharedLimits(store, per_minute=6, burst=2, now=clock.time)
    assert await limiter.allow("u1") and await limiter.allow("u1")
    assert not await limiter.allow("u1")
    assert await limiter.allow("u2"), "keys are independent"
    clock.advance(10.0)
    assert await limiter.allow("u1")
    assert not await limiter.allow("u1")
    clock.advance(3600.0)
    for n in range(PRUNE_EVERY - 5):  # one event each from many people; the next clean-up drops the idle
        await limiter.allow(f"p{n}")
    # The 1000th event cleaned up: u1 and u2 (idle for an hour) are gone, the 995 just used are not.
    assert await store.forget_full_buckets(before=clock.time() + 1) == PRUNE_EVERY - 5


async def test_a_link_is_made_once_by_the_first_process_and_waited_for_by_the_others(store: Store) -> None:
    made: list[str] = []
    release = asyncio.Event()

    async def make() -> Briefing:
        made.append("x")
        await release.wait()
        return Briefing("Made", "https://a.example/", None, ["One."])

    first = SharedBriefings(store, 600, "first", poll_seconds=0.01)
    second = SharedBriefings(store, 600, "second", poll_seconds=0.01)
    waiting = asyncio.ensure_future(second.get("https://a.example/", make))
    making = asyncio.ensure_future(first.get("https://a.example/", make))
    await asyncio.sleep(0.1)
    release.set()
    assert (await making).title == (await waiting).title == "Made"
    assert made == ["x"], "briefed once"

    async def fail() -> Briefing:
        raise ConnectionError("site down")

    with pytest.raises(ConnectionError):
        await first.get("https://b.example/", fail)
    assert (await second.get("https://b.example/", make)).title == "Made", "a failure is not shared"


async def test_cache_runs_one_job_for_concurrent_callers_and_keeps_the_result() -> None:
    clock = FakeClock()
    cache: SingleFlightCache[str] = SingleFlightCache(
        ttl_seconds=60, max_entries=10, monotonic=clock.monotonic
    )
    calls = 0
    gate = asyncio.Event()

    async def make() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return f"briefing {calls}"

    waiting = [asyncio.create_task(cache.get("k", make)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == ["briefing 1"] * 5
    assert await cache.get("k", make) == "briefing 1"
    clock.advance(61)
    assert await cache.get("k", make) == "briefing 2", "expired entries are made again"
    assert calls == 2


async def test_cache_does_not_keep_failures_and_survives_a_cancelled_waiter() -> None:
    cache: SingleFlightCache[str] = SingleFlightCache(ttl_seconds=60, max_entries=10)
    attempts = 0
    site_answers = asyncio.Event()  # holds the second attempt in flight until the test lets it finish

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("site down")
        await site_answers.wait()
        return "ok"

    with pytest.raises(ConnectionError):
        await cache.get("k", flaky)
    impatient = asyncio.create_task(cache.get("k", flaky))
    patient = asyncio.create_task(cache.get("k", flaky))
    await asyncio.sleep(0)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    site_answers.set()
    assert await patient == "ok"
    assert attempts == 2


async def test_cache_evicts_least_recently_used() -> None:
    cache: SingleFlightCache[int] = SingleFlightCache(ttl_seconds=60, max_entries=2)
    made: list[str] = []

    def maker(key: str):
        async def make() -> int:
            made.append(key)
            return len(made)

        return make

    for key in ("a", "b", "a", "c", "a", "b"):
        await cache.get(key, maker(key))
    assert made == ["a", "b", "c", "b"]


async def test_outbox_keeps_order_per_channel_through_rate_limits() -> None:
    clock = FakeClock()  # its waits are recorded, not slept
    outbox = Outbox(sleep=clock.sleep)
    posted: list[str] = []
    limited = {"c1-1": 3}

    def delivery(channel: str, n: int):
        async def deliver() -> None:
            key = f"{channel}-{n}"
            if limited.get(key, 0) > 0:
                limited[key] -= 1
                raise RateLimited(retry_after=1.5)
            posted.append(key)

        return deliver

    futures = [outbox.send(ch, delivery(ch, n)) for n in range(4) for ch in ("c1", "c2")]
    await asyncio.gather(*futures)
    assert [p for p in posted if p.startswith("c1")] == ["c1-0", "c1-1", "c1-2", "c1-3"]
    assert [p for p in posted if p.startswith("c2")] == ["c2-0", "c2-1", "c2-2", "c2-3"]
    assert clock.sleeps == [1.5, 1.5, 1.5]
    assert posted.index("c2-3") < posted.index("c1-2"), "one channel's rate limit does not hold back another"


async def test_outbox_gives_up_on_a_broken_reply_but_delivers_the_next() -> None:
    outbox = Outbox(sleep=FakeClock().sleep, max_failures=2)
    posted: list[str] = []

    async def broken() -> None:
        raise ValueError("bad payload")

    async def fine() -> None:
        posted.append("fine")

    first, second = outbox.send("c", broken), outbox.send("c", fine)
    with pytest.raises(ValueError, match="bad payload"):
        await first
    await second
    assert posted == ["fine"]
