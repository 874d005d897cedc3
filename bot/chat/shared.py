"""What the processes sharing a store share for chat (issue 15: several `briefbot run` on one PostgreSQL):
a link's briefing is made once by whichever process asks first, and people's and channels' rate limits hold
across processes. With one process and SQLite they cost a store round trip each, and behave as before."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.models import Briefing

log = logging.getLogger(__name__)


class SharedStore(Protocol):
    async def cached_briefing(self, url: str, *, since: float) -> Briefing | None: ...
    async def claim_briefing(
        self, url: str, maker: str, *, now: float, seconds: float, since: float
    ) -> bool: ...
    async def save_briefing(self, url: str, maker: str, briefing: Briefing | None, *, now: float) -> None: ...
    async def take_token(self, key: str, *, now: float, per_second: float, burst: float) -> float: ...
    async def forget_full_buckets(self, *, before: float) -> int: ...


PRUNE_EVERY = 1000  # rate-limit events between two clean-ups of idle buckets


class SharedBriefings:
    """A link's briefing, made once within `ttl_seconds` however many processes are asked for it.

    The first to ask claims the making; the others wait for its briefing in the store, polling. A maker that
    fails ends its claim (failures are not shared: the next person tries again) and one that dies leaves it to
    expire after `claim_seconds`, longer than any briefing may take; then another process makes it.
    """

    def __init__(
        self,
        store: SharedStore,
        ttl_seconds: float,
        maker: str,
        *,
        claim_seconds: float = 120.0,
        poll_seconds: float = 0.25,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._maker = maker
        self._claim = claim_seconds
        self._poll = poll_seconds
        self._now = now

    async def get(self, url: str, make: Callable[[], Awaitable[Briefing]]) -> Briefing:
        waited = False
        while True:
            now = self._now()
            since = now - self._ttl
            if (briefing := await self._store.cached_briefing(url, since=since)) is not None:
                if waited:
                    log.info("briefing of %s made by another process", url)
                return briefing
            if await self._store.claim_briefing(url, self._maker, now=now, seconds=self._claim, since=since):
                return await self._make(url, make)
            waited = True
            await asyncio.sleep(self._poll)

    async def _make(self, url: str, make: Callable[[], Awaitable[Briefing]]) -> Briefing:
        try:
            briefing = await make()
        except BaseException:
            # The claim ends at once, so a process waiting for this link tries it itself.
            await asyncio.shield(self._store.save_briefing(url, self._maker, None, now=self._now()))
            raise
        await self._store.save_briefing(url, self._maker, briefing, now=self._now())
        return briefing


class SharedLimits:
    """`per_minute` events per minute on average and `burst` at once, per key, across every process."""

    def __init__(
        self, store: SharedStore, per_minute: float, burst: int, *, now: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._per_second = per_minute / 60.0
        self._burst = float(burst)
        self._now = now
        self._events = 0

    async def allow(self, key: str) -> bool:
        now = self._now()
        wait = await self._store.take_token(key, now=now, per_second=self._per_second, burst=self._burst)
        self._events += 1
        if self._events % PRUNE_EVERY == 0 and self._per_second > 0:
            # A bucket idle long enough to be full again carries no state: the table stays small.
            await self._store.forget_full_buckets(before=now - self._burst / self._per_second)
        return wait == 0
