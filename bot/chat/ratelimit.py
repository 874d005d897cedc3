"""Per-user and per-channel briefing limits: token buckets, on an injectable monotonic time for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows `burst` events at once and `per_minute` events per minute on average, per key."""

    def __init__(
        self, per_minute: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str) -> bool:
        now = self._monotonic()
        bucket = self._buckets.setdefault(key, _Bucket(self._burst, now))
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        if len(self._buckets) > 10_000:
            self._forget_full_buckets(now)
        return True

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may act again (0 when it may now)."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket.tokens >= 1:
            return 0.0
        return (1 - bucket.tokens) / self._rate if self._rate else float("inf")

    def _forget_full_buckets(self, now: float) -> None:
        """Keys idle long enough to be full again carry no state: drop them so memory stays bounded."""
        refill = self._burst / self._rate if self._rate else float("inf")
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refill}
