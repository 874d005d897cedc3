"""The date patterns, each with the resolver that turns its match into an ISO value at its granularity.

The patterns cover the forms news uses: ISO and numeric days, "Sept. 9, 2021", "9th of September",
"March 2021", "June last year", "last October", "2021", "yesterday", "next week", "the current fiscal year",
"by year-end", "two years ago", "Friday". Relative forms count from the anchor (the publication day); where
the calendar can't decide, the tense (tense.py) picks the past or the future occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from bot.briefing.dates.arithmetic import (
    NUMBER_WORDS,
    WEEKDAYS,
    day_value,
    in_calendar,
    month_number,
    parse_count,
    safe_date,
    shift_unit,
    years_around,
)
from bot.briefing.dates.tense import DAY_GRACE, TenseFn, closest

# Month and weekday names must be capitalised: that alone rules out "may" (the verb) and "march" (walk).
MONTH = (
    r"(?P<month>Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?"
    r"|Sep(?:tember|t\.|t|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?|JANUARY|FEBRUARY|MARCH"
    r"|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER)(?![A-Za-z])"
)
_WEEKDAY = r"(?P<weekday>(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)(?![A-Za-z])"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?(?!\d|:\d)"  # not a clock time "5:30"
_YEAR = r"(?P<year>1[6-9]\d\d|20\d\d|21\d\d)(?!\d|['’]?s\b)"  # not "1990s": decades are not one date

_WEEKDAY_PREFIX = rf"(?:{_WEEKDAY},?\s+)?"
_NOT_AFTER_THE = r"(?<![Tt]he\s)"  # "the last year", "the past month" are durations, not dates
_UNIT = r"(?P<unit>day|week|month|year)"

Groups = dict[str, str | None]
Resolver = Callable[[Groups, date, TenseFn], str | None]


class Rule(NamedTuple):
    pattern: re.Pattern[str]
    resolve: Resolver


def _rule(pattern: str, resolve: Resolver) -> Rule:
    return Rule(re.compile(pattern), resolve)


def _iso(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    return day_value(int(g["year"] or 0), int(g["mon"] or 0), int(g["day"] or 0))


def _numeric(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    """3/9/2021: month first as in US news, unless only day-first makes a valid date."""
    first, second, year = int(g["a"] or 0), int(g["b"] or 0), int(g["year"] or 0)
    return day_value(year, first, second) or day_value(year, second, first)


def _month_year(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    return f"{int(g['year'] or 0):04d}-{month_number(g['month']):02d}"


def _month_of_year(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    """ "June last year", "January this year"."""
    year = anchor.year + {"this": 0, "last": -1, "next": 1}[(g["rel"] or "").lower()]
    return f"{year:04d}-{month_number(g['month']):02d}" if in_calendar(year) else None


def _year(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    return g["year"]


def _deictic_day(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    shift = {"yesterday": -1, "tomorrow": 1}.get((g["word"] or "").lower(), 0)
    return shift_unit(anchor, "day", shift)


def _this_unit(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    step = {"this": 0, "current": 0, "last": -1, "next": 1, "coming": 1}[(g["rel"] or "").lower()]
    return shift_unit(anchor, (g["unit"] or "").lower(), step)


def _year_end(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    """ "by year-end" is this year's end; "since year-end" (past) the last one."""
    return shift_unit(anchor, "year", -(tense() == "past"))


def _ago(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    amount = parse_count(g["num"] or "")
    return None if amount is None else shift_unit(anchor, (g["unit"] or "").lower(), -amount)


def month_day(groups: Groups, anchor: date, tense: TenseFn) -> str | None:
    month, day = month_number(groups["month"] or ""), int(groups["day"] or 0)
    if groups["year"]:
        return day_value(int(groups["year"]), month, day)
    candidates = [c for y in years_around(anchor) if (c := safe_date(y, month, day))]
    if not candidates:
        return None
    if groups["weekday"]:  # "Saturday, April 25": the weekday names the year
        weekday = WEEKDAYS.index(groups["weekday"][:3].lower())
        matching = [c for c in candidates if c.weekday() == weekday]
        candidates = matching or candidates
    return closest(candidates, anchor, tense(), grace=DAY_GRACE).isoformat()


def _month(groups: Groups, anchor: date, tense: TenseFn) -> str | None:
    month = month_number(groups["month"] or "")
    rel = (groups["rel"] or "").lower()
    if rel == "last":  # "last October": the latest October before this month
        year = anchor.year if month < anchor.month else anchor.year - 1
    elif rel in ("next", "coming"):
        year = anchor.year if month > anchor.month else anchor.year + 1
    elif rel == "this":
        year = anchor.year
    else:
        candidates = [date(y, month, 1) for y in years_around(anchor)]
        year = closest(candidates, anchor.replace(day=1), tense(), grace=0).year
    return f"{year:04d}-{month:02d}" if in_calendar(year) else None


def _weekday(groups: Groups, anchor: date, tense: TenseFn) -> str | None:
    weekday = WEEKDAYS.index((groups["weekday"] or "")[:3].lower())
    rel = (groups["rel"] or "").lower()
    offsets = [d for d in range(-7, 8) if (anchor.weekday() + d) % 7 == weekday]  # two or three days
    if rel == "last":
        offset = max(d for d in offsets if d < 0)
    elif rel == "next":
        offset = min(d for d in offsets if d > 0)
    elif rel == "this":
        offset = min(d for d in offsets if d >= 0)
    else:  # news speaks mostly of the past: "said Friday"; "will meet Friday" is the coming one
        direction = tense()
        offset = (
            min(d for d in offsets if d >= 0) if direction == "future" else max(d for d in offsets if d <= 0)
        )
    return shift_unit(anchor, "day", offset)


DAY_PATTERN = re.compile(rf"{_WEEKDAY_PREFIX}{MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?")
# Tried in this order; a later rule never takes text an earlier one matched ("May 5" before "May").
RULES = [
    _rule(r"(?<![\d-])(?P<year>\d{4})-(?P<mon>[01]\d)-(?P<day>[0-3]\d)(?![\d-])", _iso),
    _rule(r"(?<![\d/.])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>\d{4})(?![\d/])", _numeric),
    _rule(DAY_PATTERN.pattern, month_day),
    _rule(
        rf"{_WEEKDAY_PREFIX}(?:the\s+)?{_DAY}\s+(?:of\s+)?{MONTH}(?:,?\s+{_YEAR})?",
        month_day,
    ),
    _rule(rf"{MONTH},?\s+(?:of\s+)?{_YEAR}", _month_year),
    _rule(rf"{MONTH},?\s+(?:of\s+)?(?i:(?P<rel>this|last|next)\s+year)(?![A-Za-z])", _month_of_year),
    _rule(rf"(?:(?i:(?P<rel>last|next|this|coming))\s+)?{MONTH}", _month),
    _rule(rf"(?:(?<=[Mm]id-)|(?<![\d$£€.,/-])){_YEAR}", _year),
    _rule(r"(?i:(?P<word>today|tonight|yesterday|tomorrow))(?![A-Za-z])", _deictic_day),
    _rule(rf"{_NOT_AFTER_THE}(?i:(?P<rel>this|last|next|coming)\s+{_UNIT})(?![A-Za-z])", _this_unit),
    _rule(rf"(?i:(?:the\s+)?(?P<rel>current)\s+(?:fiscal\s+)?{_UNIT})(?![A-Za-z])", _this_unit),
    _rule(r"(?i:(?:the\s+)?end\s+of\s+the\s+year|year['’]s\s+end|year[-\s]end)(?![A-Za-z])", _year_end),
    _rule(rf"(?i:(?P<num>\d+|{'|'.join(NUMBER_WORDS)})\s+{_UNIT}s?\s+ago)(?![A-Za-z])", _ago),
    _rule(rf"(?:(?i:(?P<rel>last|next|this))\s+)?{_WEEKDAY}", _weekday),
]
DAY_RULES = [rule for rule in RULES if rule.resolve in (month_day, _deictic_day, _weekday)]
