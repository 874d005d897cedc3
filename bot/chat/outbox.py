"""One outbound queue per channel: replies leave in order, and a platform 429 delays them, never drops them.

Adapters hand in posts (zero-argument coroutine functions that post one reply or alert); a post that hits a
rate limit raises RateLimited and is retried after Retry-After, holding back that channel's later replies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Post = Callable[[], Awaitable[None]]


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:.2f} s")
        self.retry_after = retry_after


@dataclass
class _Channel:
    queue: asyncio.Queue[tuple[Post, asyncio.Future[None]]] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None


class Outbox:
    def __init__(
        self,
        *,
        max_rate_limit_waits: int = 20,
        max_failures: int = 3,
        failure_backoff: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._channels: dict[str, _Channel] = {}
        self._max_waits = max_rate_limit_waits
        self._max_failures = max_failures
        self._backoff = failure_backoff
        self._sleep = sleep

    def send(self, channel_key: str, post: Post) -> asyncio.Future[None]:
        """Queue a post; the future resolves once the platform accepted it (or it finally failed)."""
        channel = self._channels.setdefault(channel_key, _Channel())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        channel.queue.put_nowait((post, done))
        if channel.worker is None or channel.worker.done():
            channel.worker = asyncio.create_task(
                self._drain(channel_key, channel), name=f"outbox:{channel_key}"
            )
        return done

    async def _drain(self, key: str, channel: _Channel) -> None:
        while not channel.queue.empty():
            post, done = channel.queue.get_nowait()
            try:
                await self._deliver(key, post)
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
            else:
                if not done.done():
                    done.set_result(None)
        if self._channels.get(key) is channel and channel.queue.empty():
            del self._channels[key]  # idle channels hold no task and no memory

    async def _deliver(self, key: str, post: Post) -> None:
        waits = failures = 0
        while True:
            try:
                await post()
                return
            except RateLimited as limited:
                waits += 1
                if waits > self._max_waits:
                    raise
                log.info("channel %s rate limited; retrying in %.2f s", key, limited.retry_after)
                await self._sleep(max(limited.retry_after, 0.0))
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                if failures >= self._max_failures:
                    log.exception("channel %s: giving up on a reply after %d failures", key, failures)
                    raise
                log.warning("channel %s: reply failed, retrying", key, exc_info=True)
                await self._sleep(self._backoff * 2 ** (failures - 1))

    async def flush(self) -> None:
        """Wait until every queued reply has been delivered or has failed."""
        while workers := [c.worker for c in self._channels.values() if c.worker and not c.worker.done()]:
            await asyncio.gather(*workers, return_exceptions=True)

    async def close(self) -> None:
        for channel in list(self._channels.values()):
            if channel.worker:
                channel.worker.cancel()
        await asyncio.gather(*(c.worker for c in self._channels.values() if c.worker), return_exceptions=True)
        self._channels.clear()
