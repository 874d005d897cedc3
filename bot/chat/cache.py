"""Briefings by canonical URL: the same link asked for by many channels within a few minutes is fetched and
summarized once. Concurrent requests for a URL share one in-flight job (single flight); failures are not
cached, so a site that was down is tried again by the next person."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlightCache(Generic[T]):
    def __init__(
        self, ttl_seconds: float, max_entries: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._done: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._running: dict[str, asyncio.Future[T]] = {}

    def _fresh(self, key: str) -> T | None:
        entry = self._done.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self._monotonic() - stored_at > self._ttl:
            del self._done[key]
            return None
        self._done.move_to_end(key)
        return value

    async def get(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        value = self._fresh(key)
        if value is not None:
            return value
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(make())
            self._running[key] = running
            running.add_done_callback(lambda job: self._finish(key, job))
        # shield: one impatient caller cancelling must not cancel the job the others wait for
        return await asyncio.shield(running)

    def _finish(self, key: str, job: asyncio.Future[T]) -> None:
        self._running.pop(key, None)
        if job.cancelled() or job.exception() is not None:
            return
        self._done[key] = (self._monotonic(), job.result())
        self._done.move_to_end(key)
        while len(self._done) > self._max:
            self._done.popitem(last=False)
