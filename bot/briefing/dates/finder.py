"""Key dates: the dates an article speaks of, as ISO 8601 values at their real granularity.

spaCy's DATE, TIME and EVENT entities say *where* a date is; our own patterns, run inside each entity, say
*which* date (several per entity: "from Sept. 14 to Thursday") and how fine it is: a year "2021", a month
"2021-01", an ISO week "2021-W36" or a day "2021-09-09". Relative forms ("last October", "next week",
"Friday", "two years ago", "by year-end", "on Thanksgiving") are resolved against the publication date, or
against a wire dateline's day ("HAVANA, August 7 (Xinhua) --"); "that year" and "two years earlier"
against a date written out nearby. Where the calendar alone can't decide ("in June", "Friday", "September 9"
without a year) the tense of the surrounding words picks the past or the future occurrence. What fits none
of the four forms (durations, quarters, seasons, decades, "recently", "the 8th") is skipped, and so are
dates in page furniture ("Updated ...", "© 2024"). Spans follow TimeML: "earlier this year", "fiscal 1989",
"Friday night". The patterns cover the forms news uses; dateparser is only a fallback for a month name
our patterns missed, imported lazily because it costs ~0.2 s to import and warm up.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Iterator
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from typing import Literal, NamedTuple

from spacy.tokens import Doc

from bot.briefing.boilerplate import strip_dateline
from bot.models import DateMention

Direction = Literal["past", "future", "either"]
TenseFn = Callable[[], Direction]  # looked up lazily: most dates need no tense

_MONTHS = (
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
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NUMBER_WORDS = {
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

# Month and weekday names must be capitalised: that alone rules out "may" (the verb) and "march" (walk).
_MONTH = (
    r"(?P<month>Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?"
    r"|Sep(?:tember|t\.|t|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?|JANUARY|FEBRUARY|MARCH"
    r"|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER)(?![A-Za-z])"
)
_WEEKDAY = r"(?P<weekday>(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)(?![A-Za-z])"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?(?!\d|:\d)"  # not a clock time "5:30"
_YEAR = r"(?P<year>1[6-9]\d\d|20\d\d|21\d\d)(?!\d|['’]?s\b)"  # not "1990s": decades are not one date
# Modifiers kept in a date's span: they narrow the date without changing its value at our granularity.
_LEFT_MODIFIER = re.compile(
    r"(?<![A-Za-z])(?i:(?:the\s+)?(?:end|beginning|start|middle)\s+of\s+|(?:earlier|later|early|late|fiscal)\s+"
    r"|mid-?\s*)$"
)
MODIFIER_WINDOW_CHARS = 25
LOOKAHEAD_CHARS = 2
_DAY_PART = re.compile(r"\s+(?i:morning|afternoon|evening|night)(?![A-Za-z])")
_DATE_LABELS = frozenset(["DATE", "TIME", "EVENT"])
_LEFT_RELATIVE = re.compile(r"(?<![A-Za-z])(?i:this|last|next|coming)\s+$")
RELATIVE_WINDOW_CHARS = 8
_JOINER = re.compile(r"[\s,]*")
_WEEKDAY_PREFIX = rf"(?:{_WEEKDAY},?\s+)?"
_NOT_AFTER_THE = r"(?<![Tt]he\s)"  # "the last year", "the past month" are durations, not dates
_UNIT = r"(?P<unit>day|week|month|year)"


Groups = dict[str, str | None]
Resolver = Callable[[Groups, date, TenseFn], str | None]


class _Rule(NamedTuple):
    pattern: re.Pattern[str]
    resolve: Resolver


def _rule(pattern: str, resolve: Resolver) -> _Rule:
    return _Rule(re.compile(pattern), resolve)


def _iso(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    return _day_value(int(g["year"] or 0), int(g["mon"] or 0), int(g["day"] or 0))


def _numeric(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    """3/9/2021: month first as in US news, unless only day-first makes a valid date."""
    first, second, year = int(g["a"] or 0), int(g["b"] or 0), int(g["year"] or 0)
    return _day_value(year, first, second) or _day_value(year, second, first)


def _month_year(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    return f"{int(g['year'] or 0):04d}-{_month_number(g['month']):02d}"


def _month_of_year(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    """ "June last year", "January this year"."""
    year = anchor.year + {"this": 0, "last": -1, "next": 1}[(g["rel"] or "").lower()]
    return f"{year:04d}-{_month_number(g['month']):02d}" if _in_calendar(year) else None


def _year(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    return g["year"]


def _deictic_day(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    shift = {"yesterday": -1, "tomorrow": 1}.get((g["word"] or "").lower(), 0)
    return _shift_unit(anchor, "day", shift)


def _this_unit(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    step = {"this": 0, "current": 0, "last": -1, "next": 1, "coming": 1}[(g["rel"] or "").lower()]
    return _shift_unit(anchor, (g["unit"] or "").lower(), step)


def _year_end(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    """ "by year-end" is this year's end; "since year-end" (past) the last one."""
    return _shift_unit(anchor, "year", -(tense() == "past"))


def _ago(g: Groups, anchor: date, tense: TenseFn) -> str | None:
    amount = _count(g["num"] or "")
    return None if amount is None else _shift_unit(anchor, (g["unit"] or "").lower(), -amount)


def _count(word: str) -> int | None:
    """ "3", "three", "a": how many; None for a number too long to be a count of days (no date that far
    away exists, and Python refuses to read numbers of over 4300 digits)."""
    word = word.lower()
    if word.isdigit():
        return int(word) if len(word) <= MAX_COUNT_DIGITS else None
    return _NUMBER_WORDS[word]


MAX_COUNT_DIGITS = 7  # 9,999,999 days reach past both ends of the calendar from any day in it


# Tense cues near a date that the calendar can't place on its own ("in June", "Friday", "Sept. 9").
_FUTURE_CUES = frozenset(
    "will 'll ’ll shall would could might may expected scheduled due upcoming planned going "
    "next coming tomorrow soon payable".split()
)
_INTENT_WORDS = frozenset("plan plans planning".split())
_PAST_CUES = frozenset("was were had did ago last earlier previous since".split())
# "said Friday" dates the saying; "..., he said." at the end of a clause says nothing about the date. The
# same holds for a regular past tense ("ended Sept. 30", "signed on Friday"): near the date it dates it.
_REPORTING_VERBS = frozenset("said says added told announced reported stated noted".split())
ADJACENT_MAX_DISTANCE = 2  # words between such a verb and the date it dates ("signed on the Friday")
MIN_PAST_ED_WORD = 5  # "ended", "signed": long enough not to be "red" or "bed"
_NOT_PAST_ED = frozenset("hundred indeed need speed seed united embed ahmed mohammed fred".split())
# With no tense cue, a past reading is likelier in news: a future candidate counts this much farther away.
FUTURE_DISTANCE_WEIGHT = 2
# A day within a month of publication is in its year whatever the tense says ("extended to Nov. 20").
DAY_GRACE = 31
_CUE_WORD = re.compile(r"[A-Za-z'’]+")
_SENTENCE_END = re.compile(r"[.!?]\s|\n")
_VERB_MONTHS = frozenset(["March", "May"])
_NAME_WORDS = frozenset(["Today", "Tonight"])
_PREVIOUS_WORD = re.compile(r"([A-Za-z'’]+)[ \t]+$")  # the word just before, on the same line, no punctuation
_BEFORE_VERB = frozenset(
    "will would can could may might shall should must to they we you i he she who did not n't".split()
)
CUE_WINDOW_CHARS = 120  # how far either side of a date we look for tense cues, within its sentence
# After the date only its own clause's verb counts ("On Friday, the team left"); farther on, a cue belongs to
# a clause of its own ("a statement Friday saying the treaty will ...").
AFTER_MAX_WORDS = 3
DATELINE_MAX_CHARS = 80
DATELINE_MAX_DAYS = 3  # farther off, the dateline names some other day than the day of writing
# Page furniture (when the page changed, its copyright), not what the article speaks of: a line that starts
# so, or the part of a line after "| Updated" or a ©. "The report, published in 2019," is news.
_FURNITURE_WORD = r"updated|published|posted|last (?:updated|modified)|modified"
_FURNITURE_LINE = re.compile(rf"\W*(?:{_FURNITURE_WORD}|copyright|©|\(c\))", re.IGNORECASE)
# A time stamp inside running text: "PUBLISHED: . 10:39 EST, 3 March 2014" (copied pages keep them inline).
_CLOCK = r"\d{1,2}[:.]\d\d\s*(?:[ap]\.?m\.?\s*)?(?:[a-z]{2,4}\b)?[\s,]*"


def _stamp(words: str) -> str:
    return rf"\b(?:{words})\s*:[\s.|]*(?:{_CLOCK})?"


_FURNITURE_BEFORE = re.compile(
    rf"(?:[|•·]\s*(?:{_FURNITURE_WORD})\b[^|•·\n]*|(?:©|\(c\)|copyright)\s*|{_stamp(_FURNITURE_WORD)})$",
    re.IGNORECASE,
)
FURNITURE_REACH_CHARS = 60
_PUBLISHED_STAMP = re.compile(_stamp("published|posted"), re.IGNORECASE)
STAMP_SEARCH_CHARS = 1000  # a page's own time stamp sits at its top


def find_dates(doc: Doc, published: date) -> list[DateMention]:
    """The dates `doc` speaks of, resolved against `published`, sorted by position, one per span."""
    anchor = published.date() if isinstance(published, datetime) else published
    text = doc.text  # ~0.5 ms on an 800-token article, half of this function's cost: read it once
    anchor = _dateline_day(text, anchor) or anchor
    found: dict[tuple[int, int], DateMention] = {}
    spans = [span for span in _date_spans(doc, text) if not _in_furniture_line(text, span[0])]
    for start, end in spans:
        mentions = list(_mentions_in(text, start, end, anchor, _RULES)) or _fallback(text, start, end, anchor)
        for mention in mentions:
            found.setdefault((mention.start, mention.end), mention)
    for mention in _anaphora(text, spans, sorted(found.values(), key=lambda m: m.start), anchor):
        found[(mention.start, mention.end)] = mention
    # Weekdays and "today", which spaCy now and then misses ("Late Monday"), and holidays, which it calls
    # events or nothing ("last Thanksgiving").
    for mention in [*_missed_days(text, anchor, list(found)), *_holidays(text, anchor)]:
        if not any(mention.start < b and a < mention.end for a, b in found) and not _in_furniture_line(
            text, mention.start
        ):
            found[(mention.start, mention.end)] = mention
    return sorted(found.values(), key=lambda m: (m.start, m.end))


def stamped_publication(text: str) -> date | None:
    """The date of a "Published: 3 March 2014" stamp near the top of pasted text: the anchor for relative
    dates when the caller gave no publication date."""
    head = text[:STAMP_SEARCH_CHARS]
    for stamp in _PUBLISHED_STAMP.finditer(head):
        for mention in _mentions_in(
            head, stamp.end(), min(len(head), stamp.end() + 30), date.today(), _RULES
        ):
            if mention.start == stamp.end() and len(mention.value) == len("YYYY-MM-DD"):
                return date.fromisoformat(mention.value)
    return None


def _anaphora(
    text: str, spans: list[tuple[int, int]], found: list[DateMention], anchor: date
) -> Iterator[DateMention]:
    """ "that year", "the following month", "two years earlier": counted from the last date written out with
    its year before them ("in June 1998 ... later that year"), not from the publication date. Without one,
    "that year" is skipped and "a year earlier" counts from publication (the year-ago quarter)."""
    for start, end in spans:
        for match in _ANAPHOR.finditer(text, start, end):
            if any(m.start < match.end() and match.start() < m.end for m in found):
                continue
            unit = (match["unit"] or match["units"]).lower()
            earlier = [
                m.value
                for m in found
                if match.start() - ANAPHOR_REACH_CHARS <= m.end <= match.start()
                and _FULL_YEAR.search(m.text)
                and "W" not in m.value  # a week ("1000 weeks ago") names no month to count from
            ]
            if earlier and (unit == "year" or len(earlier[-1]) >= len("YYYY-MM")):
                latest = earlier[-1]
                reference = date(int(latest[:4]), int(latest[5:7]) if unit == "month" else 1, 1)
            elif match["num"]:
                reference = anchor
            else:
                continue
            if match["num"]:
                count = _count(match["num"])
                if count is None:
                    continue
                step = -count
            else:
                step = {"following": 1, "previous": -1}.get((match["step"] or "").lower(), 0)
            first, last = _with_modifiers(text, *match.span(), day=False)
            if (value := _shift_unit(reference, unit, step)) is not None:
                yield DateMention(text=text[first:last], value=value, start=first, end=last)


def _missed_days(text: str, anchor: date, found: list[tuple[int, int]]) -> Iterator[DateMention]:
    """Weekday names and "today" outside every entity, read in a few words around them: the day rules run
    over the whole text would cost more than all the rest of this module."""
    for day in _DAY_WORD.finditer(text):
        if any(a < day.end() and day.start() < b for a, b in found):
            continue
        window = (max(0, day.start() - DAY_WINDOW_CHARS), min(len(text), day.end() + DAY_WINDOW_CHARS))
        for mention in _mentions_in(text, *window, anchor, _DAY_RULES):
            if mention.start < day.end() and day.start() < mention.end:
                yield mention


def _holidays(text: str, anchor: date) -> Iterator[DateMention]:
    """ "on Thanksgiving Day", "last Christmas", "by Halloween": the holiday's day in the year the relative
    word or the tense picks. A bare "Christmas" needs such a word: "Christmas sales" is no date."""
    for match in _HOLIDAY.finditer(text):
        before = _HOLIDAY_PREFIX.search(text, max(0, match.start() - HOLIDAY_PREFIX_CHARS), match.start())
        rel = (before["rel"] or "").lower() if before else ""
        if match.group() in _BARE_HOLIDAYS and before is None:
            continue
        day_of = _HOLIDAY_DAYS[match.group().replace("’", "'")]
        candidates = [day_of(year) for year in _years_around(anchor)]
        day: date | None
        if rel == "last":
            day = max((c for c in candidates if c < anchor), default=None)
        elif rel == "next":
            day = min((c for c in candidates if c > anchor), default=None)
        elif rel == "this":
            day = day_of(anchor.year)
        else:
            day = _closest(candidates, anchor, _tense(text, *match.span()), grace=DAY_GRACE)
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


def _in_calendar(year: int) -> bool:
    """Whether Python's calendar (years 1 to 9999) has this year: a publication date at either end must
    not make "next year" or "last October" overflow."""
    return MINYEAR <= year <= MAXYEAR


def _years_around(anchor: date) -> list[int]:
    """Last year, this year and next year, those the calendar has."""
    return [year for year in (anchor.year - 1, anchor.year, anchor.year + 1) if _in_calendar(year)]


def _date_spans(doc: Doc, text: str) -> list[tuple[int, int]]:
    """spaCy's DATE, TIME ("Friday night") and EVENT ("the Aug. 7 bombings") entities, joined where spaCy
    split one date in two ("Friday" + "Oct. 13") and widened over a "this" it left out ("This year's")."""
    spans: list[tuple[int, int]] = []
    for ent in doc.ents:
        if ent.label_ not in _DATE_LABELS:
            continue
        start = ent.start_char
        if relative := _LEFT_RELATIVE.search(text, max(0, start - RELATIVE_WINDOW_CHARS), start):
            start = relative.start()
        if spans and _JOINER.fullmatch(text, spans[-1][1], start):
            start = spans.pop()[0]
        spans.append((start, ent.end_char))
    return spans


def _dateline_day(text: str, published: date) -> date | None:
    """The day in a wire dateline ("HAVANA, August 7 (Xinhua) --") is when the story was written: its
    "Friday" and "today" count from there when the page's publication date is a day or two later."""
    first = text.lstrip()[:DATELINE_MAX_CHARS]
    dateline = first[: len(first) - len(strip_dateline(first))]
    match = _DAY_PATTERN.search(dateline)
    value = _month_day(match.groupdict(), published, lambda: "either") if match else None  # None: "Feb. 30"
    if not value:
        return None
    day = date.fromisoformat(value)
    return day if abs((day - published).days) <= DATELINE_MAX_DAYS else None


def _in_furniture_line(text: str, position: int) -> bool:
    line_start = text.rfind("\n", 0, position) + 1
    reach = max(line_start, position - FURNITURE_REACH_CHARS)
    return bool(_FURNITURE_LINE.match(text, line_start) or _FURNITURE_BEFORE.search(text, reach, position))


def _mentions_in(text: str, start: int, end: int, anchor: date, rules: list[_Rule]) -> Iterator[DateMention]:
    """Resolve each date expression inside text[start:end]; the rules' matches never overlap."""
    taken: list[tuple[int, int]] = []
    for pattern, resolve in rules:
        # Let look-aheads see just past the entity ("1990" + "'s" is a decade), but keep matches inside it.
        for match in pattern.finditer(text, start, end + LOOKAHEAD_CHARS):
            span = match.span()
            if (
                span[1] > end
                or any(span[0] < b and a < span[1] for a, b in taken)
                or _is_word_not_date(text, match)
            ):
                continue
            value = resolve(match.groupdict(), anchor, functools.partial(_tense, text, *span))
            if value is not None:
                taken.append(span)
                first, last = _with_modifiers(text, *span, day=len(value) == len("YYYY-MM-DD"))
                yield DateMention(text=text[first:last], value=value, start=first, end=last)


def _with_modifiers(text: str, start: int, end: int, *, day: bool) -> tuple[int, int]:
    """Widen a date over words that narrow it but keep its value, as TimeML spans do: "earlier this year",
    "the end of 1990", "fiscal 1989", "mid-September"; and "Friday night" for a day."""
    if before := _LEFT_MODIFIER.search(text, max(0, start - MODIFIER_WINDOW_CHARS), start):
        start = before.start()
    if day and (after := _DAY_PART.match(text, end)):
        end = after.end()
    return start, end


def _is_word_not_date(text: str, match: re.Match[str]) -> bool:
    """ "will March on the capital", "they May": a bare March or May after a modal or subject is a verb;
    "USA Today", "VOA Today": a capitalised Today right after a capitalised word is a name."""
    word = match.group()
    if word not in _VERB_MONTHS and word not in _NAME_WORDS:
        return False
    previous = _PREVIOUS_WORD.search(text, max(0, match.start() - 20), match.start())
    if previous is None:
        return False
    if word in _NAME_WORDS:
        return previous.group(1)[0].isupper()
    return previous.group(1).lower() in _BEFORE_VERB


def _day_value(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _month_number(name: str | None) -> int:
    return _MONTHS.index((name or "")[:3].lower()) + 1


def _month_day(groups: Groups, anchor: date, tense: TenseFn) -> str | None:
    month, day = _month_number(groups["month"] or ""), int(groups["day"] or 0)
    if groups["year"]:
        return _day_value(int(groups["year"]), month, day)
    candidates = [c for y in _years_around(anchor) if (c := _safe_date(y, month, day))]
    if not candidates:
        return None
    if groups["weekday"]:  # "Saturday, April 25": the weekday names the year
        weekday = _WEEKDAYS.index(groups["weekday"][:3].lower())
        matching = [c for c in candidates if c.weekday() == weekday]
        candidates = matching or candidates
    return _closest(candidates, anchor, tense(), grace=DAY_GRACE).isoformat()


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month(groups: Groups, anchor: date, tense: TenseFn) -> str | None:
    month = _month_number(groups["month"] or "")
    rel = (groups["rel"] or "").lower()
    if rel == "last":  # "last October": the latest October before this month
        year = anchor.year if month < anchor.month else anchor.year - 1
    elif rel in ("next", "coming"):
        year = anchor.year if month > anchor.month else anchor.year + 1
    elif rel == "this":
        year = anchor.year
    else:
        candidates = [date(y, month, 1) for y in _years_around(anchor)]
        year = _closest(candidates, anchor.replace(day=1), tense(), grace=0).year
    return f"{year:04d}-{month:02d}" if _in_calendar(year) else None


def _weekday(groups: Groups, anchor: date, tense: TenseFn) -> str | None:
    weekday = _WEEKDAYS.index((groups["weekday"] or "")[:3].lower())
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
    return _shift_unit(anchor, "day", offset)


def _shift_unit(anchor: date, unit: str, amount: int) -> str | None:
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
        return f"{index // 12:04d}-{index % 12 + 1:02d}" if _in_calendar(index // 12) else None
    year = anchor.year + amount
    return f"{year:04d}" if _in_calendar(year) else None


def _closest(candidates: list[date], anchor: date, direction: Direction, grace: int) -> date:
    """The candidate nearest `anchor`, unless the tense points the other way by more than `grace` days."""

    def cost(candidate: date) -> float:
        days = (candidate - anchor).days
        against = (direction == "past" and days > grace) or (direction == "future" and days < -grace)
        weight = FUTURE_DISTANCE_WEIGHT if direction == "either" and days > 0 else 1
        return abs(days) * weight + (100_000 if against else 0)

    return min(candidates, key=cost)


def _tense(text: str, start: int, end: int) -> Direction:
    """Past or future from the nearest tense cue word in the same sentence, 'either' if there is none."""
    left = _SENTENCE_END.split(text[max(0, start - CUE_WINDOW_CHARS) : start])[-1]
    right = _SENTENCE_END.split(text[end : end + CUE_WINDOW_CHARS])[0]
    before = list(reversed(_CUE_WORD.findall(left)))
    after = _CUE_WORD.findall(right)
    for distance in range(max(len(before), AFTER_MAX_WORDS)):
        if distance < len(before) and (
            cue := _cue(before[distance], distance, before[distance - 1 : distance])
        ):
            return cue
        if distance < min(len(after), AFTER_MAX_WORDS) and (
            cue := _cue(after[distance], distance, after[distance + 1 : distance + 2])
        ):
            return cue
    return "either"


def _looks_past_tense(word: str) -> bool:
    """'ended', 'Signed': a regular past tense; a capital inside ("McLeod") or a listed name is no verb."""
    lower = word.lower()
    return (
        word[1:].islower()
        and lower.endswith("ed")
        and len(word) >= MIN_PAST_ED_WORD
        and lower not in _NOT_PAST_ED
    )


def _cue(word: str, distance: int, following: list[str]) -> Direction | None:
    lower = word.lower()
    if lower in _INTENT_WORDS:  # "plans to meet" looks ahead; "the plan", "vacation plans" say nothing
        return "future" if [w.lower() for w in following] == ["to"] else None
    if lower in _FUTURE_CUES:
        return "future"
    if lower in _PAST_CUES:
        return "past"
    if distance <= ADJACENT_MAX_DISTANCE and (lower in _REPORTING_VERBS or _looks_past_tense(word)):
        return "past"
    return None


_ANAPHOR = re.compile(
    r"(?<![A-Za-z])(?i:(?:that|the\s+(?P<step>following|previous))\s+(?P<unit>year|month)"
    rf"|(?P<num>\d+|{'|'.join(_NUMBER_WORDS)})\s+(?P<units>year|month)s?\s+(?:earlier|before))(?![A-Za-z])"
)
ANAPHOR_REACH_CHARS = 250  # about two sentences: farther back, "a year earlier" is the year-ago quarter
_FULL_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
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

# Only a month name or a dotted/dashed numeric date our patterns left unresolved goes to dateparser: on
# the dev sets, every other leftover entity was an age or a count ("49", "the age of 15").
_FALLBACK_GATE = re.compile(rf"{_MONTH}|\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b")
_DURATION_HINT = re.compile(
    r"(?i)\b(?:years?|months?|weeks?|days?|hours?|decades?|centur(?:y|ies)|quarters?|half|old|"
    r"season|spring|summer|fall|autumn|winter|\d+s)\b"
)


def _fallback(text: str, start: int, end: int, anchor: date) -> Iterator[DateMention]:
    """Give dateparser the rare entity that names a month or a number our patterns didn't place."""
    span = text[start:end]
    if not _FALLBACK_GATE.search(span) or _DURATION_HINT.search(span):
        return
    try:
        result = _parse_with_dateparser(span, anchor)
    except (OverflowError, ValueError):  # its relative base at either end of the calendar
        return
    if result is not None:
        yield DateMention(text=span, value=result, start=start, end=end)


def _parse_with_dateparser(span: str, anchor: date) -> str | None:
    from dateparser.date import DateDataParser  # noqa: PLC0415 - slow import, rarely needed

    parser = DateDataParser(
        languages=["en"],
        settings={"RELATIVE_BASE": datetime.combine(anchor, datetime.min.time()), "STRICT_PARSING": True},
    )
    data = parser.get_date_data(span)
    if data.date_obj is None:
        return None
    day = data.date_obj.date()
    if data.period == "day":
        return day.isoformat()
    if data.period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if data.period == "year":
        return f"{day.year:04d}"
    return None


_DAY_PATTERN = re.compile(rf"{_WEEKDAY_PREFIX}{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?")
# Tried in this order; a later rule never takes text an earlier one matched ("May 5" before "May").
_RULES = [
    _rule(r"(?<![\d-])(?P<year>\d{4})-(?P<mon>[01]\d)-(?P<day>[0-3]\d)(?![\d-])", _iso),
    _rule(r"(?<![\d/.])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>\d{4})(?![\d/])", _numeric),
    _rule(_DAY_PATTERN.pattern, _month_day),
    _rule(
        rf"{_WEEKDAY_PREFIX}(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?",
        _month_day,
    ),
    _rule(rf"{_MONTH},?\s+(?:of\s+)?{_YEAR}", _month_year),
    _rule(rf"{_MONTH},?\s+(?:of\s+)?(?i:(?P<rel>this|last|next)\s+year)(?![A-Za-z])", _month_of_year),
    _rule(rf"(?:(?i:(?P<rel>last|next|this|coming))\s+)?{_MONTH}", _month),
    _rule(rf"(?:(?<=[Mm]id-)|(?<![\d$£€.,/-])){_YEAR}", _year),
    _rule(r"(?i:(?P<word>today|tonight|yesterday|tomorrow))(?![A-Za-z])", _deictic_day),
    _rule(rf"{_NOT_AFTER_THE}(?i:(?P<rel>this|last|next|coming)\s+{_UNIT})(?![A-Za-z])", _this_unit),
    _rule(rf"(?i:(?:the\s+)?(?P<rel>current)\s+(?:fiscal\s+)?{_UNIT})(?![A-Za-z])", _this_unit),
    _rule(r"(?i:(?:the\s+)?end\s+of\s+the\s+year|year['’]s\s+end|year[-\s]end)(?![A-Za-z])", _year_end),
    _rule(rf"(?i:(?P<num>\d+|{'|'.join(_NUMBER_WORDS)})\s+{_UNIT}s?\s+ago)(?![A-Za-z])", _ago),
    _rule(rf"(?:(?i:(?P<rel>last|next|this))\s+)?{_WEEKDAY}", _weekday),
]
_DAY_RULES = [rule for rule in _RULES if rule.resolve in (_month_day, _deictic_day, _weekday)]
# Every weekday and today/tonight/yesterday/tomorrow; a character class first keeps the scan cheap.
_DAY_WORD = re.compile(
    r"[MTWFSYty](?:(?:on|ues|ednes|hurs|ri|atur|un)day|o(?:day|night|morrow)|esterday)(?![a-z])"
)
DAY_WINDOW_CHARS = 40  # around a day word: room for "last", "Saturday, April 25, 2020", "night"
