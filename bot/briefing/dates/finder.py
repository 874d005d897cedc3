"""Where an article speaks of dates, and which: the entry point of the date finder.

spaCy's DATE, TIME and EVENT entities say *where* a date is; the rules (rules.py), run inside each entity,
say *which* date (several per entity: "from Sept. 14 to Thursday"). Relative forms count from the
publication date, or from a wire dateline's day ("HAVANA, August 7 (Xinhua) --"); "that year" and "two
years earlier" from a date written out nearby. Weekdays and "today" that spaCy missed and holidays
(holidays.py) are found around their words. Dates in page furniture ("Updated ...", "© 2024") are skipped.
Spans follow TimeML: "earlier this year", "fiscal 1989", "Friday night". dateparser is only a fallback for
a month name the rules missed, imported lazily because it costs ~0.2 s to import and warm up.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import date, datetime

from spacy.tokens import Doc

from bot.briefing.boilerplate import PUBLISHED_STAMP, in_stamp_line, leading_dateline
from bot.briefing.dates.arithmetic import NUMBER_WORDS, parse_count, shift_unit
from bot.briefing.dates.holidays import holiday_mentions
from bot.briefing.dates.rules import DAY_PATTERN, DAY_RULES, MONTH, RULES, Rule, month_day
from bot.briefing.dates.tense import tense_near
from bot.models import DateMention

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

_VERB_MONTHS = frozenset(["March", "May"])
_NAME_WORDS = frozenset(["Today", "Tonight"])
_PREVIOUS_WORD = re.compile(r"([A-Za-z'’]+)[ \t]+$")  # the word just before, on the same line, no punctuation
_BEFORE_VERB = frozenset(
    "will would can could may might shall should must to they we you i he she who did not n't".split()
)

DATELINE_MAX_CHARS = 80
DATELINE_MAX_DAYS = 3  # farther off, the dateline names some other day than the day of writing
STAMP_SEARCH_CHARS = 1000  # a page's own time stamp sits at its top

_ANAPHOR = re.compile(
    r"(?<![A-Za-z])(?i:(?:that|the\s+(?P<step>following|previous))\s+(?P<unit>year|month)"
    rf"|(?P<num>\d+|{'|'.join(NUMBER_WORDS)})\s+(?P<units>year|month)s?\s+(?:earlier|before))(?![A-Za-z])"
)
ANAPHOR_REACH_CHARS = 250  # about two sentences: farther back, "a year earlier" is the year-ago quarter
_FULL_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
# Every weekday and today/tonight/yesterday/tomorrow; a character class first keeps the scan cheap.
_DAY_WORD = re.compile(
    r"[MTWFSYty](?:(?:on|ues|ednes|hurs|ri|atur|un)day|o(?:day|night|morrow)|esterday)(?![a-z])"
)
DAY_WINDOW_CHARS = 40  # around a day word: room for "last", "Saturday, April 25, 2020", "night"


def find_dates(doc: Doc, published: date) -> list[DateMention]:
    """The dates `doc` speaks of, resolved against `published`, sorted by position, one per span."""
    anchor = published.date() if isinstance(published, datetime) else published
    text = doc.text  # ~0.5 ms on an 800-token article, half of this function's cost: read it once
    anchor = _dateline_day(text, anchor) or anchor
    found: dict[tuple[int, int], DateMention] = {}
    spans = [span for span in _date_spans(doc, text) if not in_stamp_line(text, span[0])]
    for start, end in spans:
        mentions = list(_mentions_in(text, start, end, anchor, RULES)) or _fallback(text, start, end, anchor)
        for mention in mentions:
            found.setdefault((mention.start, mention.end), mention)
    for mention in _anaphora(text, spans, sorted(found.values(), key=lambda m: m.start), anchor):
        found[(mention.start, mention.end)] = mention
    # Weekdays and "today", which spaCy now and then misses ("Late Monday"), and holidays, which it calls
    # events or nothing ("last Thanksgiving").
    for mention in [*_missed_days(text, anchor, list(found)), *holiday_mentions(text, anchor)]:
        if not any(mention.start < b and a < mention.end for a, b in found) and not in_stamp_line(
            text, mention.start
        ):
            found[(mention.start, mention.end)] = mention
    return sorted(found.values(), key=lambda m: (m.start, m.end))


def stamped_publication(text: str) -> date | None:
    """The date of a "Published: 3 March 2014" stamp near the top of pasted text: the anchor for relative
    dates when the caller gave no publication date."""
    head = text[:STAMP_SEARCH_CHARS]
    for stamp in PUBLISHED_STAMP.finditer(head):
        for mention in _mentions_in(head, stamp.end(), min(len(head), stamp.end() + 30), date.today(), RULES):
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
                count = parse_count(match["num"])
                if count is None:
                    continue
                step = -count
            else:
                step = {"following": 1, "previous": -1}.get((match["step"] or "").lower(), 0)
            first, last = _with_modifiers(text, *match.span(), day=False)
            if (value := shift_unit(reference, unit, step)) is not None:
                yield DateMention(text=text[first:last], value=value, start=first, end=last)


def _missed_days(text: str, anchor: date, found: list[tuple[int, int]]) -> Iterator[DateMention]:
    """Weekday names and "today" outside every entity, read in a few words around them: the day rules run
    over the whole text would cost more than all the rest of this module."""
    for day in _DAY_WORD.finditer(text):
        if any(a < day.end() and day.start() < b for a, b in found):
            continue
        window = (max(0, day.start() - DAY_WINDOW_CHARS), min(len(text), day.end() + DAY_WINDOW_CHARS))
        for mention in _mentions_in(text, *window, anchor, DAY_RULES):
            if mention.start < day.end() and day.start() < mention.end:
                yield mention


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
    match = DAY_PATTERN.search(leading_dateline(first))
    value = month_day(match.groupdict(), published, lambda: "either") if match else None  # None: "Feb. 30"
    if not value:
        return None
    day = date.fromisoformat(value)
    return day if abs((day - published).days) <= DATELINE_MAX_DAYS else None


def _mentions_in(text: str, start: int, end: int, anchor: date, rules: list[Rule]) -> Iterator[DateMention]:
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
            value = resolve(match.groupdict(), anchor, functools.partial(tense_near, text, *span))
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


# Only a month name or a dotted/dashed numeric date our patterns left unresolved goes to dateparser: on
# the dev sets, every other leftover entity was an age or a count ("49", "the age of 15").
_FALLBACK_GATE = re.compile(rf"{MONTH}|\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b")
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
    day: date = data.date_obj.date()
    if data.period == "day":
        return day.isoformat()
    if data.period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if data.period == "year":
        return f"{day.year:04d}"
    return None
