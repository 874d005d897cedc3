"""Neutral chat events and replies: what adapters translate platform payloads into and render out of."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import Briefing


@dataclass(frozen=True, slots=True)
class Place:
    """Where something was said, and so where the answer goes."""

    platform: str  # "slack", "discord", "console"
    channel: str
    thread: str | None = None  # the message or thread to answer in (Slack thread_ts, Discord message id)

    @property
    def channel_key(self) -> str:
        return f"{self.platform}:{self.channel}"


@dataclass(frozen=True, slots=True)
class Person:
    user: str
    is_bot: bool = False
    # May change the channel's subscriptions and sources (Discord: Manage Channels; Slack: admins, owners and
    # the configured managers). The adapter decides; the core only reads it.
    can_manage: bool = False

    def key(self, platform: str) -> str:
        return f"{platform}:{self.user}"


@dataclass(frozen=True, slots=True)
class Notice:
    """A short text answer: help, a confirmation, or a friendly error (then `code` is set)."""

    text: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One reply and who sees it: everyone in the place, or only the person who asked (ephemeral)."""

    reply: Briefing | Notice
    private: bool = False
