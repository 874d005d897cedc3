"""Runs the blocking briefing pipeline off the event loop.

Batch mode and the bot use a process pool (one process per core, models loaded once per process by the
initializer); a one-shot `briefbot brief` uses a single thread, since starting a process and loading the
models a second time would double its start-up time.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Self

from bot.config import Settings
from bot.models import Briefing, Source

log = logging.getLogger(__name__)


def _load_models() -> None:
    """Import and load everything a briefing needs, so the first real request pays nothing extra."""
    from bot import pipeline  # noqa: PLC0415 - imported here so the parent process stays light

    pipeline.warm_up()


def _brief(source: Source, settings: Settings) -> Briefing:
    from bot.pipeline import brief_source  # noqa: PLC0415 - already imported by _load_models

    return brief_source(source, settings)


class BriefingWorkers:
    """An executor for briefings; `brief()` raises the pipeline's BriefError for user-caused failures."""

    def __init__(self, executor: Executor, settings: Settings) -> None:
        self._executor = executor
        self._settings = settings

    @classmethod
    def in_processes(cls, settings: Settings, processes: int = 0) -> Self:
        count = processes or settings.briefing.workers or os.cpu_count() or 1
        # forkserver: never fork a process that already runs an event loop and threads.
        context = multiprocessing.get_context("forkserver")
        executor = ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_load_models)
        return cls(executor, settings)

    @classmethod
    def in_thread(cls, settings: Settings) -> Self:
        return cls(ThreadPoolExecutor(max_workers=1, thread_name_prefix="briefing"), settings)

    async def warm_up(self) -> None:
        """Load the models now (in every process) rather than on the first request."""
        loop = asyncio.get_running_loop()
        count = getattr(self._executor, "_max_workers", 1)
        await asyncio.gather(*(loop.run_in_executor(self._executor, _load_models) for _ in range(count)))

    async def brief(self, source: Source) -> Briefing:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _brief, source, self._settings)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.close)
