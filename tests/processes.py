"""Process trees for tests that kill the real bot: which processes it started, and whether they are gone."""

from __future__ import annotations

import asyncio
from pathlib import Path


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the command may hold spaces and parentheses


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in {"Z", "X"}  # a zombie has exited; only its exit status is left


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (its children, theirs, ...)."""
    parents = {int(p.name): _parent(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


async def still_running(pids: set[int], wait: float) -> set[int]:
    """Those of `pids` still running after waiting up to `wait` seconds for them to exit."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    alive = {pid for pid in pids if _running(pid)}
    while alive and loop.time() < deadline:
        await asyncio.sleep(0.1)
        alive = {pid for pid in alive if _running(pid)}
    return alive
