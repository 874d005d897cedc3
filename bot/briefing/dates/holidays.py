"""Holidays as dates: "on Thanksgiving Day", "last Christmas", "by Halloween" (spaCy calls them events or
nothing), each the holiday's day in the year its relative word or the tense picks.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from bot.briefing.dates.arithmetic import years_around
from bot.briefing.dates.tense import DAY_GRACE, closest, tense_near
from bot.models import DateMention

_HOLIDAY_DAYS: dict[str, Callable[[int], date]] = {
    "New Year's Day": lambda y: date(y, 1, 1),
    "New Year's Eve": lambda y: date(y, 12, 31),
    "Valentine's Day": lambda y: date(y, 2, 14),
    "Memorial Day": lambda y: _nth_weekday(y, 5, 0, -1),  # US holidays: US news names them so
    "Labor Day": lambda y: _nth_weekday(y, 9, 0, 1),
    "Halloween": lambda y: date(y, 10, 31),
    "Election Day": lambda y: _nth_weekday(y, 11, 0, 1) + timedelta(days=1),
    "Thanksgiving Day": lambda y: _nth_weekday(y, 11, 3, 4),
    "Thanksgiving": lambda y: _nth_weekday(y, 11, 3, 4),
    "Christmas Eve": lambda y: date(y, 12, 24),
    "Christmas Day": lambda y: date(y, 12, 25),
    "Christmas": lambda y: date(y, 12, 25),
}
_BARE_HOLIDAYS = frozenset(["Thanksgiving", "Christmas", "Halloween"])
# Starting with a capital from a short list lets the regex engine skip most of the text: keep it so.
_HOLIDAY = re.compile("|".join(name.replace("'", "['’]") for name in _HOLIDAY_DAYS) + r"(?![\w'’-]|\s+[A-Z])")
_HOLIDAY_PREFIX = re.compile(
    r"(?<![A-Za-z])(?:on|by|before|after|until|till|since|at|over|(?P<rel>(?i:last|this|next)))\s+$"
)
HOLIDAY_PREFIX_CHARS = 8


def holiday_mentions(text: str, anchor: date) -> Iterator[DateMention]:
    """ "on Thanksgiving Day", "last Christmas", "by Halloween": the holiday's day in the year the relative
    word or the tense picks. A bare "Christmas" needs such a word: "Christmas sales" is no date."""
    for match in _HOLIDAY.finditer(text):
        before = _HOLIDAY_PREFIX.search(text, max(0, match.start() - HOLIDAY_PREFIX_CHARS), match.start())
        rel = (before["rel"] or "").lower() if before else ""
        if match.group() in _BARE_HOLIDAYS and before is None:
            continue
        day_of = _HOLIDAY_DAYS[match.group().replace("’", "'")]
        candidates = [day_of(year) for year in years_around(anchor)]
        day: date | None
        if rel == "last":
            day = max((c for c in candidates if c < anchor), default=None)
        elif rel == "next":
            day = min((c for c in candidates if c > anchor), default=None)
        elif rel == "this":
            day = day_of(anchor.year)
        else:
            day = closest(candidates, anchor, tense_near(text, *match.span()), grace=DAY_GRACE)
        if day is None:  # "last Christmas" told in AD 1, "next Halloween" in 9999: the calendar has none
            continue
        start = before.start("rel") if before and rel else match.start()
        yield DateMention(text=text[start : match.end()], value=day.isoformat(), start=start, end=match.end())


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The nth (1-based; -1 for the last) given weekday of a month: Thanksgiving is the 4th Thursday."""
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)
