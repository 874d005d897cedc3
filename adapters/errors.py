"""What a platform's error answer means for a post, the same for every adapter: wait, give up, or retry.

- rate limited (HTTP 429): wait the platform's retry-after, then send the same request again;
- refused for good (any other answer below 500: Slack's `ok: false`, which comes with HTTP 200, or a 4xx:
  channel gone, not in channel, missing permission, archived, invalid auth...): sending it again cannot help;
- transient (5xx): the platform failed this time; worth a few more tries.

Each adapter reads the status (and headers) off its SDK's exception; errors that carry no answer at all
(timeouts, lost connections) are transient and never reach this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from enum import Enum
from typing import Any

from bot.chat.outbox import RateLimited

DEFAULT_RETRY_AFTER = 1.0  # platforms always send the header; one second if a proxy dropped it
# Discord's precise (fractional) wait first; Retry-After is what every platform sends.
_RETRY_AFTER_HEADERS = ("x-ratelimit-reset-after", "retry-after")


class Verdict(Enum):
    RATE_LIMITED = "rate limited"
    REFUSED = "refused for good"
    TRANSIENT = "transient"


def classify(status: int) -> Verdict:
    """The verdict on an error answer with this HTTP status."""
    if status == 429:
        return Verdict.RATE_LIMITED
    if status >= 500:
        return Verdict.TRANSIENT
    return Verdict.REFUSED


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds a 429 asks us to wait, from its headers (any case; slack-sdk keeps repeated ones as lists)."""
    values: dict[str, Any] = {}
    for name, value in headers.items():
        values.setdefault(name.lower(), value)
    for name in _RETRY_AFTER_HEADERS:
        value = values.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            continue
        with contextlib.suppress(TypeError, ValueError):
            return max(float(value), 0.0)
    return DEFAULT_RETRY_AFTER


def refused_for_good(status: int, headers: Mapping[str, Any]) -> bool:
    """For a post the Outbox runs: True when the platform refused it for good (the caller records or logs
    that; no retry), False when it failed for now (the caller re-raises and the Outbox tries again a few
    times). A 429 raises RateLimited, which the Outbox waits out before sending the same post again."""
    verdict = classify(status)
    if verdict is Verdict.RATE_LIMITED:
        raise RateLimited(retry_after(headers))
    return verdict is Verdict.REFUSED
