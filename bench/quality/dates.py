"""Date scoring, TempEval-3 style, on TimeBank + AQUAINT (DATE timexes), and `dateparser.search_dates` as the
baseline.

Scored: strict (same span) and relaxed (overlapping span) P/R/F1, value accuracy on relaxed matches, and value
F1 (a mention counts when its span overlaps a gold DATE and its value equals the gold value), resolving
against each document's `dct`. Gold values outside the product's four forms (YYYY, YYYY-MM, YYYY-MM-DD,
YYYY-Www: PRESENT_REF, PAST_REF, quarters, seasons, decades, parts of days) are not held against a system:
they are left out of recall, and a mention that only overlaps such a timex (or a TIME or SET timex) is left
out of precision. A mention on a DURATION ("three years") is a false positive: durations are not dates.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from typing import Any

import numpy as np

from quality.stats import f1, ratio

FOUR_FORMS = re.compile(r"\d{4}(?:-\d\d(?:-\d\d)?|-W\d\d)?")
COLUMNS = ("system", "gold", "strict", "relaxed", "value")  # counts per document
SYSTEM, GOLD, STRICT, RELAXED, VALUE = range(len(COLUMNS))

Span = tuple[int, int]
Mention = tuple[int, int, str]  # start, end, value


def _overlaps(a: Span | Mention, b: Span | Mention) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _best_partner(mention: Mention, gold: list[Mention]) -> Mention | None:
    """The unmatched gold timex sharing the most characters with the mention."""
    overlapping = [g for g in gold if _overlaps(mention, g)]
    if not overlapping:
        return None
    return max(overlapping, key=lambda g: min(g[1], mention[1]) - max(g[0], mention[0]))


def split_gold(timexes: list[dict[str, Any]]) -> tuple[list[Mention], list[Span]]:
    """The scorable gold DATEs, and the spans a mention may overlap without counting (see module doc)."""
    gold: list[Mention] = []
    ignored: list[Span] = []
    for timex in timexes:
        span = (timex["start"], timex["end"])
        if timex["type"] == "DATE" and FOUR_FORMS.fullmatch(timex["value"]):
            gold.append((*span, timex["value"]))
        elif timex["type"] != "DURATION":
            ignored.append(span)
    return gold, ignored


def score_document(mentions: list[Mention], timexes: list[dict[str, Any]]) -> np.ndarray:
    gold, ignored = split_gold(timexes)
    kept = [
        m for m in mentions if any(_overlaps(m, g) for g in gold) or not any(_overlaps(m, s) for s in ignored)
    ]
    counts = np.zeros(len(COLUMNS), dtype=int)
    counts[SYSTEM], counts[GOLD] = len(kept), len(gold)
    unmatched = list(gold)
    for mention in sorted(kept, key=lambda m: (m[0], -m[1])):
        partner = _best_partner(mention, unmatched)
        if partner is None:
            continue
        unmatched.remove(partner)
        counts[RELAXED] += 1
        counts[STRICT] += partner[:2] == mention[:2]
        counts[VALUE] += partner[2] == mention[2]
    return counts


def score_set(mentions: list[list[Mention]], rows: list[dict[str, Any]]) -> np.ndarray:
    """(documents, COLUMNS) counts."""
    return np.array([score_document(m, row["timexes"]) for m, row in zip(mentions, rows, strict=True)])


def from_output(output: dict[str, Any]) -> list[Mention]:
    """Dates of one `briefbot batch` output line; an errored row has none."""
    return [(d["start"], d["end"], d["value"]) for d in output.get("dates", ())]


# Statistics of summed counts (..., COLUMNS), for stats.pooled_ci.
def strict_f1(c: np.ndarray) -> np.ndarray:
    return f1(c[..., STRICT], c[..., SYSTEM], c[..., GOLD])


def relaxed_f1(c: np.ndarray) -> np.ndarray:
    return f1(c[..., RELAXED], c[..., SYSTEM], c[..., GOLD])


def value_f1(c: np.ndarray) -> np.ndarray:
    return f1(c[..., VALUE], c[..., SYSTEM], c[..., GOLD])


def value_accuracy(c: np.ndarray) -> np.ndarray:
    return ratio(c[..., VALUE], c[..., RELAXED])


def precision_recall(c: np.ndarray, column: int) -> tuple[float, float]:
    total = c.sum(axis=0)
    return float(ratio(total[column], total[SYSTEM])), float(ratio(total[column], total[GOLD]))


def anchor(row: dict[str, Any]) -> date:
    return date.fromisoformat(str(row["dct"])[:10])


def dateparser_baseline(rows: list[dict[str, Any]]) -> tuple[list[list[Mention]], float]:
    """`search_dates(text, languages=['en'], RELATIVE_BASE=dct)`, one call per document (timed: median ms);
    values get their granularity from dateparser's own DateDataParser period, outside the timing."""
    from dateparser.date import DateDataParser  # noqa: PLC0415 - slow import, only when run
    from dateparser.search import search_dates  # noqa: PLC0415

    found, ms = [], []
    for row in rows:
        text = str(row["text"])
        settings = {"RELATIVE_BASE": datetime.combine(anchor(row), datetime.min.time())}
        started = time.perf_counter()
        results = search_dates(text, languages=["en"], settings=settings) or []
        ms.append((time.perf_counter() - started) * 1000)
        found.append(_locate(text, results, DateDataParser(languages=["en"], settings=settings)))
    return found, float(np.median(ms))


def _locate(text: str, results: list[tuple[str, datetime]], parser: Any) -> list[Mention]:
    """search_dates gives strings in text order without offsets: find each after the previous one."""
    mentions, position = [], 0
    for substring, moment in results:
        start = text.find(substring, position)
        if start < 0:
            continue
        position = start + len(substring)
        mentions.append((start, position, iso_value(moment.date(), parser.get_date_data(substring).period)))
    return mentions


def iso_value(day: date, period: str) -> str:
    if period == "year":
        return f"{day.year:04d}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "week":
        iso_year, week, _ = day.isocalendar()
        return f"{iso_year:04d}-W{week:02d}"
    return day.isoformat()
