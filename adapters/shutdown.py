"""The work an adapter must stop when the bot stops: the events it is handling and the replies it queued.

Both platform adapters handle each event in a task they own, so a stop can cancel briefings in progress and
no fault goes unlogged; then queued replies get a few seconds to leave before the rest are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

from bot.chat.outbox import Outbox

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 5.0  # queued replies still go out for this long after a stop


class EventTasks:
    """The tasks handling a platform's events: each fault logged, all of them cancelled at shutdown."""

    def __init__(self, platform: str) -> None:
        self._platform = platform
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, what: str, work: Coroutine[Any, Any, None]) -> None:
        """Handle an event in a new task, so the listener can return (and acknowledge) at once."""
        task = asyncio.create_task(self.track(what, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)  # also when cancelled before it started

    async def track(self, what: str, work: Awaitable[None]) -> None:
        """Handle an event in the current task (one the SDK started for it), owned like a spawned one."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: handling %s failed", self._platform, what)
        finally:
            self._tasks.discard(task)

    async def wait(self) -> None:
        """Until no event is being handled (events that arrive meanwhile included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def shut_down(platform: str, tasks: EventTasks, outbox: Outbox) -> None:
    """Abandon events in progress, let queued replies go out for a moment, then drop the rest."""
    await tasks.cancel()
    try:
        async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
            await outbox.flush()
    except TimeoutError:
        log.warning("%s: replies still queued at shutdown were dropped", platform)
    await outbox.close()
