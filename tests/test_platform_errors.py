"""The one classifier both platform adapters use for an error answer: wait, give up, or retry."""

from __future__ import annotations

import pytest

from adapters.errors import Verdict, classify, refused_for_good, retry_after
from bot.chat.outbox import RateLimited


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (429, Verdict.RATE_LIMITED),
        (200, Verdict.REFUSED),  # Slack's ok=false: channel_not_found, not_in_channel, is_archived...
        (400, Verdict.REFUSED),
        (403, Verdict.REFUSED),  # Discord: Missing Permissions
        (404, Verdict.REFUSED),  # Discord: Unknown Channel / Unknown Message
        (500, Verdict.TRANSIENT),
        (503, Verdict.TRANSIENT),
    ],
)
def test_classify(status: int, verdict: Verdict) -> None:
    assert classify(status) is verdict


def test_refused_for_good_raises_rate_limited_with_the_wait() -> None:
    with pytest.raises(RateLimited) as limited:
        refused_for_good(429, {"Retry-After": "7"})
    assert limited.value.retry_after == 7.0
    assert refused_for_good(200, {}) is True
    assert refused_for_good(502, {}) is False


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": ["2"]}, 2.0),  # slack-sdk keeps repeated headers as lists
        ({"X-RateLimit-Reset-After": "0.25", "Retry-After": "1"}, 0.25),  # Discord's precise wait first
        ({"X-RateLimit-Reset-After": "soon", "Retry-After": "4"}, 4.0),
        ({"Retry-After": "-5"}, 0.0),
        ({"Retry-After": "later"}, 1.0),
        ({"Retry-After": []}, 1.0),
        ({}, 1.0),
    ],
)
def test_retry_after(headers: dict[str, object], seconds: float) -> None:
    assert retry_after(headers) == seconds
