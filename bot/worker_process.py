"""The worker side of the process boundary: what runs inside a briefing worker process, its start-up
(limits, models) and its one task.

The one module outside bot/briefing/ that imports the pipeline (tests/test_imports.py checks), and only
inside its functions: a process loads the pipeline and its models when it briefs, and the bot's parent
process, which imports this module only to hand its functions to the pool, never does. Kept apart from
bot.workers so a worker imports only what it runs.
"""

from __future__ import annotations

import logging
import os
import resource
import select
import threading
import time

from bot.config import Settings
from bot.models import Briefing, Source

log = logging.getLogger(__name__)


# What the workers' forkserver imports first: the models, loaded once and shared by every worker it forks.
FORKSERVER_PRELOAD = "bot.briefing.forkserver"


def load_models() -> None:
    """Import and load everything a briefing needs, so the first real request pays nothing extra."""
    from bot.briefing import preload  # noqa: PLC0415 - imported here so the parent process stays light

    preload.load()


def brief(source: Source, settings: Settings) -> Briefing:
    from bot.briefing import preload  # noqa: PLC0415 - already imported by load_models, if it ran

    preload.import_lean()
    from bot.briefing.pipeline import brief_source  # noqa: PLC0415

    return brief_source(source, settings)


def start_worker(owner_pid: int, memory_limit_mb: int) -> None:
    """A worker's initializer: exit with its owner, load the models, then cap its memory (after loading, so
    a ceiling set too low makes briefings fail with too_large rather than workers crash on start)."""
    exit_with(owner_pid)
    load_models()
    limit_memory(memory_limit_mb)


def exit_with(pid: int) -> None:
    """End this process as soon as process `pid` has gone, however it died: a SIGKILLed briefbot can't stop
    its workers, and the pool's pipes never report it (every worker holds both ends)."""

    def watch() -> None:
        try:
            pidfd = os.pidfd_open(pid)  # Linux: readable once the process has exited
        except (AttributeError, OSError):
            while _alive(pid):
                time.sleep(1)
        else:
            select.select([pidfd], [], [])
        os._exit(0)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def limit_memory(megabytes: int) -> None:
    """Cap the data segment (heap and private anonymous memory, not mapped code): past it an allocation
    fails with MemoryError, which the caller answers as too_large."""
    if megabytes <= 0:
        return
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
