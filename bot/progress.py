"""`briefbot batch`'s progress bar: rows done, articles/s and an ETA, on one line of a terminal.

Only ever on stderr and only when stderr is a terminal (`BatchProgress.on` returns None otherwise), so
stdout stays pure JSON Lines and logs or pipes never fill with carriage returns. The ETA needs the input's
size (stdin redirected from a file); from a pipe the bar shows the count and the rate.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from typing import Self, TextIO

BAR_WIDTH = 24
REDRAW_S = 0.2  # at most five redraws a second


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class BatchProgress:
    def __init__(
        self, out: TextIO, total_bytes: int | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._out = out
        self._total_bytes = total_bytes
        self._clock = clock
        self._bytes_read = 0
        self._lines_read = 0
        self._done = 0
        self._first_done: float | None = None
        self._drawn = 0.0

    @classmethod
    def on(cls, out: TextIO, source: TextIO) -> Self | None:
        """A bar on `out` if it is a terminal; its ETA from `source`'s size if that is a regular file."""
        if not out.isatty():
            return None
        try:
            info = os.fstat(source.fileno())
        except (OSError, ValueError):
            return cls(out, None)
        return cls(out, info.st_size if stat.S_ISREG(info.st_mode) and info.st_size else None)

    def read(self, size: int) -> None:
        """One input line of `size` bytes was read."""
        self._bytes_read += size
        self._lines_read += 1

    def done(self) -> None:
        """One row was answered."""
        self._done += 1
        now = self._clock()
        if self._first_done is None:
            self._first_done = now
        if now - self._drawn >= REDRAW_S:
            self._drawn = now
            self._draw(now)

    def finish(self) -> None:
        if self._done:
            self._draw(self._clock())
            self._out.write("\n")
            self._out.flush()

    def line(self, now: float) -> str:
        parts = [f"{self._done} articles"]
        rate = None
        if self._first_done is not None and self._done > 1 and now > self._first_done:
            rate = (self._done - 1) / (now - self._first_done)  # from the first answer: start-up left out
            parts.append(f"{rate:.1f} articles/s")
        total = self._expected_rows()
        if total:
            share = min(1.0, self._done / total)
            filled = round(share * BAR_WIDTH)
            parts.insert(0, f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {share:4.0%}")
            if rate:
                parts.append(f"ETA {_clock(max(0.0, total - self._done) / rate)}")
        return "  ".join(parts)

    def _expected_rows(self) -> float | None:
        """Rows in the whole input, from its size and the bytes per line read so far."""
        if not self._total_bytes or not self._bytes_read:
            return None
        return max(self._lines_read * self._total_bytes / self._bytes_read, self._done)

    def _draw(self, now: float) -> None:
        self._out.write(f"\r{self.line(now)}\x1b[K")  # \x1b[K: clear what a longer line left
        self._out.flush()
