"""Neutral chat events and replies: what adapters translate platform payloads into and render out of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

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
class Mention:
    """Who a subscription's alerts ping: the people active in the channel (`@here`), or one group of people
    (a Slack user group, a Discord role) by its platform id. Nothing else in an alert ever pings."""

    group: str | None = None  # the platform's id of the group; None for @here
    label: str = "@here"  # how people know it, e.g. "@oncall"

    @property
    def token(self) -> str:
        """The stored form: "here", or "group:<id>:<label>"."""
        return "here" if self.group is None else f"group:{self.group}:{self.label}"

    @classmethod
    def from_token(cls, token: str | None) -> Self | None:
        if not token:
            return None
        if token == "here":
            return cls()
        _, group, label = token.split(":", 2)
        return cls(group, label)


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
