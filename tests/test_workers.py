"""Briefing workers: an overrun is killed and answered `timeout`, the pool keeps its size, a worker over its
memory ceiling answers `too_large` and keeps serving, and a worker exits when its owner is gone."""

import asyncio
import concurrent.futures
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pebble import ProcessExpired
from processes import descendants, still_running

from bot.config import Settings
from bot.errors import BriefError
from bot.models import Source
from bot.workers import BriefingWorkers

STORY = (
    "The city council of Northbridge voted on Tuesday to close the old river bridge to cars from next "
    "month. Engineers found cracks in two of its supports in January 2024, the council said. Mayor Ellen "
    "Brook told reporters that buses and bicycles would still cross until repairs begin in the spring."
)
# Seconds of work even within the caps (a 4 MB page of a million tiny paragraphs): far over a 1 s limit,
# while STORY takes a few hundredths of a second.
SLOW = Source(html="<html><body>" + "<p>a</p>" * 1_000_000 + "</body></html>")
LONGER = Source(text="\n\n".join([STORY] * 40))  # an ordinary length, but past a 1 MB heap


def settings(**briefing: object) -> Settings:
    base = Settings()
    return replace(base, briefing=replace(base.briefing, **briefing))


async def answer(workers: BriefingWorkers, source: Source) -> str:
    try:
        await workers.brief(source)
    except BriefError as error:
        return error.code
    return "ok"


def pool_processes() -> set[int]:
    """The briefing processes of this test's pool: the children of this process's forkserver."""
    forkservers = {
        pid
        for pid in descendants(os.getpid())
        if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
        and os.getpid() == int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    }
    return {pid for server in forkservers for pid in descendants(server)}


async def test_an_overrun_is_a_timeout_and_the_pool_keeps_its_size() -> None:
    async with BriefingWorkers.in_processes(settings(time_limit_seconds=1.0), processes=2) as workers:
        await workers.warm_up()
        before = pool_processes()
        assert len(before) == 2
        assert await asyncio.gather(answer(workers, SLOW), answer(workers, SLOW)) == ["timeout", "timeout"]
        # Both processes were replaced, and the new ones brief as many stories at once as before.
        assert await asyncio.gather(*(answer(workers, Source(text=STORY)) for _ in range(4))) == ["ok"] * 4
        after = pool_processes()
        assert len(after) == 2
        assert not after & before, "the overrunning processes were killed, not reused"
        assert not await still_running(before, wait=30)


async def test_a_worker_over_its_memory_ceiling_answers_too_large_and_keeps_serving() -> None:
    async with BriefingWorkers.in_processes(settings(memory_limit_mb=1), processes=1) as workers:
        await workers.warm_up()
        assert len(pool_processes()) == 1
        assert await answer(workers, LONGER) == "too_large"
        # Python code over the limit raises MemoryError and the process serves on; C++ code (spaCy, numpy)
        # aborts on std::bad_alloc and pebble replaces the process. Either way: the person's answer, never
        # a fault, and the pool back at one worker.
        assert await answer(workers, LONGER) in {"too_large", "ok"}
        for _ in range(300):  # a replacement is started by pebble's own thread, a moment later
            if len(pool_processes()) == 1:
                break
            await asyncio.sleep(0.1)
        assert len(pool_processes()) == 1


async def test_without_a_ceiling_the_same_story_is_briefed() -> None:
    async with BriefingWorkers.in_processes(settings(memory_limit_mb=0), processes=1) as workers:
        assert await answer(workers, LONGER) == "ok"


@pytest.mark.parametrize("watch", ["pidfd", "polling"])
async def test_a_worker_exits_when_its_owner_is_gone(watch: str) -> None:
    owner = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(600)")
    hide_pidfd = "del os.pidfd_open; " if watch == "polling" else ""
    code = (
        f"import os, time; {hide_pidfd}from bot.worker_process import exit_with; "
        f"exit_with({owner.pid}); time.sleep(600)"
    )
    worker = await asyncio.create_subprocess_exec(sys.executable, "-c", code)
    try:
        await asyncio.sleep(0.5)
        assert worker.returncode is None, "the worker runs while its owner does"
        owner.kill()
        await owner.wait()
        assert not await still_running({worker.pid}, wait=30)
        assert await worker.wait() == 0
    finally:
        for process in (owner, worker):
            if process.returncode is None:
                process.kill()
                await process.wait()


def _inherited() -> tuple[int, bool]:
    import gc  # noqa: PLC0415

    return gc.get_freeze_count(), "scipy" in sys.modules


async def test_workers_fork_from_a_forkserver_that_loaded_the_models_and_no_scipy() -> None:
    async with BriefingWorkers.in_processes(settings(), 1) as workers:
        await workers.warm_up()
        assert workers._pool is not None
        frozen, scipy = await asyncio.wrap_future(workers._pool.schedule(_inherited))
    # The forkserver loaded the models and froze its objects before forking: the workers share those pages.
    assert frozen > 100_000
    assert not scipy  # nltk (under sumy) would pull in 75 MB of scipy for nothing


class EndedPool:
    """A pool whose every task ends with its worker process ending with `exitcode`."""

    def __init__(self, exitcode: int) -> None:
        self.exitcode = exitcode

    def schedule(self, *_args: object, **_kwargs: object) -> "concurrent.futures.Future[object]":
        future: concurrent.futures.Future[object] = concurrent.futures.Future()
        future.set_exception(ProcessExpired("Abnormal termination", code=self.exitcode))
        return future


@pytest.mark.parametrize(
    ("exitcode", "code"),
    [
        (-signal.SIGKILL, "too_large"),
        (-signal.SIGABRT, "too_large"),
        (1, "too_large"),
        (-signal.SIGSEGV, None),
    ],
)
async def test_a_worker_that_ends_out_of_memory_is_the_inputs_size_any_other_end_a_fault(
    exitcode: int, code: str | None
) -> None:
    """The kernel's SIGKILL, C++'s abort on bad_alloc, and a MemoryError escaping the task (exit code 1, seen
    when pebble pickles the answer at the ceiling) are the input's size; a crash is ours (internal_error)."""
    workers = BriefingWorkers(Settings(), pool=EndedPool(exitcode))  # type: ignore[arg-type]
    if code is None:
        with pytest.raises(ProcessExpired):
            await workers.brief(Source(text=STORY))
    else:
        assert await answer(workers, Source(text=STORY)) == code
