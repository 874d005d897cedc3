"""Digest mode (`--digest daily@08:00`): a subscription's matching stories wait and go out as one message
a day, at that time in the configured time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.alerts.model import StoryAlert


def next_due(spec: str, after: float, zone: ZoneInfo) -> float:
    """The first `daily@HH:MM` moment strictly after `after` (epoch seconds), as epoch seconds."""
    hours, minutes = (int(part) for part in spec.removeprefix("daily@").split(":"))
    local = datetime.fromtimestamp(after, zone)
    due = datetime.combine(local.date(), time(hours, minutes), zone)
    if due.timestamp() <= after:
        due = datetime.combine(local.date() + timedelta(days=1), time(hours, minutes), zone)
    return due.timestamp()


def digest_text(stories: Sequence[StoryAlert]) -> str:
    """One message listing the day's stories of one subscription, oldest first."""
    first = stories[0]
    lines = [f"Daily digest for `{first.query}` (#{first.subscription_id}): {len(stories)} new stor"
             f"{'y' if len(stories) == 1 else 'ies'}"]  # fmt: skip
    for story in stories:
        briefing = story.briefing
        title = briefing.title or briefing.url or "Untitled"
        lead = (briefing.summary or [""])[0]
        lines.append(f"• {title} {briefing.url or ''}".rstrip())
        if lead:
            lines.append(f"  {lead}")
    return "\n".join(lines)
