"""Digest mode (`--digest daily@08:00`): a subscription's matching stories wait and go out as one message
a day, at that time in the configured time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.store import Delivery


def next_due(spec: str, after: float, zone: ZoneInfo) -> float:
    """The first `daily@HH:MM` moment strictly after `after` (epoch seconds), as epoch seconds."""
    hours, minutes = (int(part) for part in spec.removeprefix("daily@").split(":"))
    local = datetime.fromtimestamp(after, zone)
    due = datetime.combine(local.date(), time(hours, minutes), zone)
    if due.timestamp() <= after:
        due = datetime.combine(local.date() + timedelta(days=1), time(hours, minutes), zone)
    return due.timestamp()


def digest_text(parts: Sequence[Delivery]) -> str:
    """One message listing the day's stories of one subscription, oldest first."""
    first = parts[0].payload
    lines = [f"Daily digest for `{first['query']}` (#{first['subscription']}): {len(parts)} new stor"
             f"{'y' if len(parts) == 1 else 'ies'}"]  # fmt: skip
    for part in parts:
        briefing = part.payload["briefing"]
        title = briefing.get("title") or briefing.get("url") or "Untitled"
        lead = (briefing.get("summary") or [""])[0]
        lines.append(f"• {title} {briefing.get('url') or ''}".rstrip())
        if lead:
            lines.append(f"  {lead}")
    return "\n".join(lines)
