"""Tense: past or future, from the cue words around a date the calendar alone can't place ("in June",
"Friday", "September 9" without a year), and the candidate date that tense picks.

News speaks mostly of the past: with no cue a past reading wins unless the future one is much nearer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Literal

Direction = Literal["past", "future", "either"]
TenseFn = Callable[[], Direction]  # looked up lazily: most dates need no tense

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

CUE_WINDOW_CHARS = 120  # how far either side of a date we look for tense cues, within its sentence
# After the date only its own clause's verb counts ("On Friday, the team left"); farther on, a cue belongs to
# a clause of its own ("a statement Friday saying the treaty will ...").
AFTER_MAX_WORDS = 3


def closest(candidates: list[date], anchor: date, direction: Direction, grace: int) -> date:
    """The candidate nearest `anchor`, unless the tense points the other way by more than `grace` days."""

    def cost(candidate: date) -> float:
        days = (candidate - anchor).days
        against = (direction == "past" and days > grace) or (direction == "future" and days < -grace)
        weight = FUTURE_DISTANCE_WEIGHT if direction == "either" and days > 0 else 1
        return abs(days) * weight + (100_000 if against else 0)

    return min(candidates, key=cost)


def tense_near(text: str, start: int, end: int) -> Direction:
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
