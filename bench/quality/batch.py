"""Drive the real `briefbot batch` CLI once over many rows, timestamping its output lines as they arrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))

Output = dict[str, Any]


@dataclass(frozen=True)
class BatchRun:
    lines: dict[str, str]  # raw output line by id
    outputs: dict[str, Output]  # parsed, by id
    startup_s: float  # process start to first output line (imports, model load in each worker, first row)
    rate: float  # output lines per second after the first: the steady state
    wall_s: float
    load: tuple[float, float]  # 1-minute load average before and after

    def errors(self, prefix: str) -> Counter[str]:
        """Error codes of the rows whose id starts with `prefix`."""
        return Counter(
            out["error"]["code"]
            for key, out in self.outputs.items()
            if key.startswith(prefix) and "error" in out
        )


def _feed(stdin: IO[str], rows: list[dict[str, Any]]) -> None:
    """Written from a thread: batch reads input only as it frees room, so writing it all first could block
    against a full stdout pipe."""
    try:
        with stdin:
            for row in rows:
                stdin.write(json.dumps(row, ensure_ascii=False) + "\n")
    except BrokenPipeError:
        pass  # batch died; run_batch reports its stderr


def run_batch(rows: list[dict[str, Any]], *, workers: int, hash_seed: str) -> BatchRun:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    command = [BRIEFBOT, "batch", "--workers", str(workers)]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        )
        assert process.stdin and process.stdout
        writer = threading.Thread(target=_feed, args=(process.stdin, rows), daemon=True)
        writer.start()
        lines, stamps = [], []
        for line in process.stdout:
            stamps.append(time.perf_counter())
            lines.append(line.rstrip("\n"))
        writer.join()
        if process.wait() != 0 or len(lines) != len(rows):
            stderr.seek(0)
            raise RuntimeError(
                f"briefbot batch failed ({len(lines)}/{len(rows)} lines): {stderr.read()[-2000:]}"
            )
    outputs = {}
    for row, line in zip(rows, lines, strict=True):
        outputs[row["id"]] = out = json.loads(line)
        if out.get("id") != row["id"]:
            raise RuntimeError(f"batch output out of order at {row['id']}")
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return BatchRun(
        lines={row["id"]: line for row, line in zip(rows, lines, strict=True)},
        outputs=outputs,
        startup_s=stamps[0] - started,
        rate=steady,
        wall_s=stamps[-1] - started,
        load=(load_before, os.getloadavg()[0]),
    )
