"""Neutral presentation helpers shared by the CLI and the chat adapters: what to show, in human form."""

from __future__ import annotations

import calendar
from datetime import date

from bot.models import Actor, Briefing, DateMention

# Shown with a briefing of an article cut to the caps of bot.briefing.limits: the summary covers its
# first part.
TRUNCATED_NOTE = "Very long article: only its first part was briefed"


def human_date(value: str) -> str:
    """ISO value at its granularity → words: "2021-09-09" → "9 September 2021", "2021-01" → "January 2021"."""
    try:
        if "-W" in value:
            year, week = value.split("-W")
            monday = date.fromisocalendar(int(year), int(week), 1)
            return f"week of {monday.day} {calendar.month_name[monday.month]} {monday.year}"
        parts = [int(p) for p in value.split("-")]
    except ValueError:
        return value
    if len(parts) == 3:
        return f"{parts[2]} {calendar.month_name[parts[1]]} {parts[0]}"
    if len(parts) == 2:
        return f"{calendar.month_name[parts[1]]} {parts[0]}"
    return value


def top_actors(briefing: Briefing, limit: int) -> list[Actor]:
    return briefing.actors[:limit]


def _names_publication(value: str, published: date | None) -> bool:
    """The publication day or a period holding it ("today", "this month", "this week", "this year")."""
    if published is None:
        return False
    year, week, _ = published.isocalendar()
    return value in {
        published.isoformat(),
        published.isoformat()[:7],
        str(published.year),
        f"{year}-W{week:02d}",
    }


def key_dates(briefing: Briefing, limit: int) -> list[DateMention]:
    """The first mention of each distinct date, in article order. Dates that only repeat the publication
    date (shown beside the title anyway) come last for the limit: about a quarter of news dates do."""
    firsts: dict[str, DateMention] = {}
    for mention in briefing.dates:
        firsts.setdefault(mention.value, mention)
    ranked = sorted(firsts.values(), key=lambda m: _names_publication(m.value, briefing.published))
    picked = ranked[:limit]
    return sorted(picked, key=lambda m: m.start)


def format_text(briefing: Briefing, *, max_actors: int = 6, max_dates: int = 5) -> str:
    """A plain-text briefing for terminals and the console adapter."""
    lines = [briefing.title or "Briefing"]
    meta = [part for part in (briefing.url, briefing.published and f"published {briefing.published}") if part]
    if meta:
        lines.append(" · ".join(meta))
    lines.append("")
    lines += [f"• {sentence}" for sentence in briefing.summary]
    actors = top_actors(briefing, max_actors)
    if actors:
        lines += ["", "Key actors: " + ", ".join(f"{a.name} ({a.kind})" for a in actors)]
    dates = key_dates(briefing, max_dates)
    if dates:
        lines += ["", "Key dates:"]
        lines += [f"  {human_date(d.value)} ({d.value}): “{d.text}”" for d in dates]
    if briefing.url:
        lines += ["", f"Source: {briefing.url}"]
    if briefing.truncated:
        lines.append(TRUNCATED_NOTE)
    return "\n".join(lines)
