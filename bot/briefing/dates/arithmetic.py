"""Calendar arithmetic for the date rules: month and weekday names, counts in words, valid days, shifts by
a day, week, month or year, and the ends of Python's calendar (years 1 to 9999), never overflowed.
"""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, date, timedelta

MONTHS = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}


def parse_count(word: str) -> int | None:
    """ "3", "three", "a": how many; None for a number too long to be a count of days (no date that far
    away exists, and Python refuses to read numbers of over 4300 digits)."""
    word = word.lower()
    if word.isdigit():
        return int(word) if len(word) <= MAX_COUNT_DIGITS else None
    return NUMBER_WORDS[word]


MAX_COUNT_DIGITS = 7  # 9,999,999 days reach past both ends of the calendar from any day in it


def in_calendar(year: int) -> bool:
    """Whether Python's calendar (years 1 to 9999) has this year: a publication date at either end must
    not make "next year" or "last October" overflow."""
    return MINYEAR <= year <= MAXYEAR


def years_around(anchor: date) -> list[int]:
    """Last year, this year and next year, those the calendar has."""
    return [year for year in (anchor.year - 1, anchor.year, anchor.year + 1) if in_calendar(year)]


def day_value(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def month_number(name: str | None) -> int:
    return MONTHS.index((name or "")[:3].lower()) + 1


def safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def shift_unit(anchor: date, unit: str, amount: int) -> str | None:
    """The day, ISO week, month or year `amount` units from `anchor`; None if it falls off the calendar."""
    if unit in ("day", "week"):
        try:
            shifted = anchor + timedelta(days=amount * (7 if unit == "week" else 1))
        except OverflowError:
            return None
        if unit == "day":
            return shifted.isoformat()
        iso_year, week, _ = shifted.isocalendar()
        return f"{iso_year:04d}-W{week:02d}"
    if unit == "month":
        index = anchor.year * 12 + anchor.month - 1 + amount
        return f"{index // 12:04d}-{index % 12 + 1:02d}" if in_calendar(index // 12) else None
    year = anchor.year + amount
    return f"{year:04d}" if in_calendar(year) else None
