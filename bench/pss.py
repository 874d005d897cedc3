"""Memory of a process tree as PSS (proportional set size, /proc/<pid>/smaps_rollup): pages shared between
processes (a model preloaded in the forkserver, shared libraries) count once in the sum, where RSS counts them
in every process."""

from __future__ import annotations

import os
import time
from pathlib import Path


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def pss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _cmdline(pid: int) -> str:
    words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return " ".join(w.decode(errors="replace") for w in words if w)


def _name(pid: int) -> str:
    text = _cmdline(pid)
    if "forkserver" in text:  # its children, the workers, carry its command line
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        return "worker" if "forkserver" in _cmdline(ppid) else "forkserver"
    if "resource_tracker" in text:
        return "resource tracker"
    if "briefbot" in text:
        return "briefbot"
    return "worker"


def tree_pss_mb(pid: int) -> tuple[float, dict[str, float]]:
    """Total PSS of the tree in MB, and by process (workers numbered)."""
    by: dict[str, float] = {}
    for member in tree(pid):
        try:
            name, mb = _name(member), pss_kb(member) / 1024
        except (FileNotFoundError, ProcessLookupError):
            continue
        key, n = name, 1
        while key in by:
            n += 1
            key = f"{name} {n}"
        by[key] = mb
    return sum(by.values()), by


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and its living descendants."""
    return _cpu_ticks(tree(pid)) / os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def wait_until_idle(
    pid: int, *, min_processes: int = 2, quiet_s: float = 3.0, timeout_s: float = 120
) -> None:
    """Until the tree has its processes and has used (almost) no CPU for `quiet_s`: models loaded."""
    deadline = time.monotonic() + timeout_s
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        members = tree(pid)
        ticks = _cpu_ticks(members)
        now = time.monotonic()
        if len(members) <= min_processes or ticks - last > 2:
            quiet_since = now
        elif now - quiet_since >= quiet_s:
            return
        last = ticks
        time.sleep(0.5)
    raise TimeoutError("the bot never came to rest")
