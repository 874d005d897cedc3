"""Topic alerts as values: a channel's subscriptions, and what is queued for a channel and posted there.

The store alone turns these into rows and JSON and back; the watcher makes them and the adapters render them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat.model import Mention, Notice
from bot.models import Briefing


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    platform: str
    channel: str
    query: str  # normalized query text
    digest: str | None  # e.g. "daily@08:00", None for one message per story
    created_by: str
    created_at: float  # epoch seconds: only items first seen after this alert
    alerts: int
    mention: Mention | None = None  # pinged with each alert (`--mention`)


@dataclass(frozen=True, slots=True)
class StoryAlert:
    """A new story that matched a subscription: its briefing, and the other outlets that reported it."""

    subscription_id: int
    query: str  # the subscription's normalized query, as the channel sees it in the header
    briefing: Briefing
    also: tuple[str, ...] = ()  # links of other outlets with the same story, in the order they turned up
    digest_due: float | None = None  # epoch seconds: held back for the subscription's digest until then


# What one queued alert shows: a story, or a notice (a feed was disabled, a day's digest).
AlertContent = StoryAlert | Notice


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert queued for a channel, posted and marked delivered once the platform confirms."""

    key: str  # idempotency: one row per (subscription, story) however often it is replayed
    platform: str
    channel: str
    content: AlertContent
    created_at: float
    mention: Mention | None = None  # its subscription's, pinged when it is first posted (never on edits)
    # Another process (or an earlier run) had claimed it and did not confirm it: it may be posted already,
    # so the platform adapter looks before posting (replicas sharing a store, bot/store.py claim_deliveries).
    handed_over: bool = False


class AlertNotNow(Exception):
    """The platform can't take the alert at the moment (not connected yet, a post that did not get through):
    it stays queued for the next round. Expected, so logged in one line; anything else with its traceback."""


class AlertRefused(Exception):
    """The platform refused an alert for good (channel gone or archived, bot removed, permission missing):
    sending it again as it is cannot help. Any other exception from a sink means "not now"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def story_header(query: str, subscription_id: int) -> str:
    """The line above a story alert on every platform; `query` as the platform can show it."""
    return f"New story for `{query}` (#{subscription_id})"
