"""Runs the blocking briefing pipeline off the event loop, each briefing bounded in time and memory.

The bot and batch mode use a pebble process pool (one process per core, models loaded once per process
by the initializer). A briefing that overruns `time_limit_seconds` has its process killed; pebble starts a
replacement, so the pool is never short, and the user gets a `timeout`. Each process has a ceiling on its
data segment (`memory_limit_mb`): an allocation beyond it is a MemoryError, answered `too_large`. Workers
exit by themselves when briefbot is gone, however it died (bot.worker_process).

A one-shot `briefbot brief` uses a single thread: starting a process and loading the models a second time
would double its start-up time, and its input is bounded by the caps of bot.briefing.limits all the same.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Self

from pebble import ProcessExpired, ProcessPool

from bot.config import Settings
from bot.errors import BriefingTimeoutError, TooLargeError
from bot.models import Briefing, Source
from bot.worker_process import FORKSERVER_PRELOAD, brief, load_models, start_worker

log = logging.getLogger(__name__)


OUT_OF_MEMORY_EXITS = frozenset({-signal.SIGKILL, -signal.SIGABRT, 1})


def _what(source: Source) -> str:
    return source.url or f"pasted text ({len(source.text or source.html or '')} characters)"


class BriefingWorkers:
    """Briefings off the event loop; `brief()` raises the pipeline's BriefError for user-caused failures."""

    def __init__(self, settings: Settings, *, pool: ProcessPool | None = None, count: int = 1) -> None:
        self._settings = settings
        self._pool = pool
        self._count = count
        self._thread = None if pool else ThreadPoolExecutor(max_workers=1, thread_name_prefix="briefing")

    @classmethod
    def in_processes(cls, settings: Settings, processes: int = 0) -> Self:
        count = processes or settings.briefing.workers or os.cpu_count() or 1
        # forkserver: never fork a process that already runs an event loop and threads. The forkserver loads
        # the models before it forks any worker, so the workers share them (bot.briefing.forkserver).
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([FORKSERVER_PRELOAD])
        pool = ProcessPool(
            max_workers=count,
            initializer=start_worker,
            initargs=(os.getpid(), settings.briefing.memory_limit_mb),
            context=context,
        )
        return cls(settings, pool=pool, count=count)

    @classmethod
    def in_thread(cls, settings: Settings) -> Self:
        return cls(settings)

    async def warm_up(self) -> None:
        """Load the models now rather than on the first request (each process loads them as it starts)."""
        if self._pool is None:
            await asyncio.get_running_loop().run_in_executor(self._thread, load_models)
            return
        pool = self._pool
        await asyncio.gather(*(asyncio.wrap_future(pool.schedule(load_models)) for _ in range(self._count)))

    async def brief(self, source: Source) -> Briefing:
        if self._pool is None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, brief, source, self._settings)
        limit = self._settings.briefing.time_limit_seconds
        future = self._pool.schedule(brief, args=(source, self._settings), timeout=limit)
        try:
            return await asyncio.wrap_future(future)
        except concurrent.futures.TimeoutError:
            log.warning("briefing of %s over its time limit (%ss): worker replaced", _what(source), limit)
            raise BriefingTimeoutError() from None
        except MemoryError:
            log.warning("briefing of %s over the worker memory limit", _what(source))
            raise TooLargeError() from None
        except ProcessExpired as error:
            # Out of memory shows as the kernel's SIGKILL, as SIGABRT when C++ code (spaCy, numpy) fails an
            # allocation under the memory limit (std::bad_alloc), or as exit code 1 when Python's MemoryError
            # escapes the task itself (pebble pickling the answer at the ceiling); any other end is a fault.
            if error.exitcode not in OUT_OF_MEMORY_EXITS:
                raise
            log.warning("briefing worker out of memory on %s (exit %s)", _what(source), error.exitcode)
            raise TooLargeError() from None

    def close(self) -> None:
        if self._pool is None:
            assert self._thread is not None
            self._thread.shutdown(wait=True, cancel_futures=True)
            return
        self._pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves stop() unannotated
        self._pool.join()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.close)
