"""NER only where it pays: which sentences of an article the NER must read, and the names it found there
matched by string in the others.

NER was ~70% of a briefing's cost (bench/README.md). Most sentences of a news story name nobody new: "He
said the plan would cost more." or "Obama said..." once "Barack Obama" was read. The NER reads the lead, the
summary, every sentence with a cue of a date or time ("last week", "2019", "Friday"), and the first sentence
to hold each capitalised word it has not read yet; the names it found (and a person's surname) are then
matched in the sentences left, with the label the NER gave them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from bot.stopwords import stop_words

LEAD_SENTENCES = 3
# What the actors and dates never read: no need to find these outside the NER's regions.
_UNNAMED = frozenset("PERCENT MONEY QUANTITY ORDINAL CARDINAL DATE TIME EVENT".split())
_CAPITALISED = re.compile(r"(?<![\w'’-])[^\W\d_a-z][\w'’.&-]*")
# What spaCy's DATE and TIME entities are made of ("last week", "the 1990s", "3 p.m.", "Monday", "the past
# decade", "tonight"): a sentence holding one is read by the NER. A bare number is rarely a date by itself.
_TIME_CUE = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)s?\b|['’]\d\ds\b|\b\d{1,2}[:/]\d\d?\b|\b\d+(?:st|nd|rd|th|[ap]\.?m)\b|"
    r"\b(?:to(?:day|night|morrow)|yesterday|(?:mid)?(?:morning|afternoon|evening|night)s?|noon|midnight|"
    r"weeks?|weekends?|months?|years?|decades?|centur(?:y|ies)|seasons?|quarters?|spring|summer|autumn|"
    r"fall|winter|ago|hours?|minutes?|daily|weekly|monthly|yearly|annual(?:ly)?|dawn|dusk|overnight|"
    r"days?|aged?)\b",
    re.IGNORECASE,
)
_CALENDAR = re.compile(
    r"\b(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)days?|Jan(?:uary)?|Feb(?:ruary)?|March|April|May|June?|"
    r"July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|Christmas|Easter)\b"
)

# Capitalised but never a name by itself: the name follows ("Mr Smith"), or it is "I" ("I'm").
_NOT_NAMES = frozenset("I Mr Mrs Ms Miss Dr Sir Prof Rev Lord Lady Dame Mr. Mrs. Ms. Dr. Prof. Rev.".split())

Span = tuple[int, int]
Entity = tuple[int, int, str]  # start, end, label


def candidates(text: str, sentence: Span, lowercase: set[str]) -> set[str]:
    """The capitalised words of a sentence that may be (part of) a name. Its first word counts only when it
    is no common word: no stop word, never written in lower case elsewhere."""
    start, end = sentence
    found = set()
    for word in _CAPITALISED.finditer(text, start, end):
        name = word.group().rstrip(".'’-")
        if name in _NOT_NAMES or name.startswith(("I'", "I’")):
            continue
        if text[start : word.start()].strip(" \t\n\"'“‘([") == "":  # the sentence's first word
            folded = name.casefold()
            if folded in stop_words("english") or folded in lowercase:
                continue
        found.add(name)
    return found


def choose(text: str, sentences: Sequence[Span], read: set[str], lowercase: set[str]) -> list[Span]:
    """The sentences the NER must read, given the words it has read already: those with a date cue, and
    the first to hold each capitalised word it has not read (where it was a name, its other mentions are
    matched by name_pattern; where it was none, they are none either)."""
    scheduled = set(read)
    chosen = []
    for sentence in sentences:
        new = candidates(text, sentence, lowercase) - scheduled
        if new or _TIME_CUE.search(text, *sentence) or _CALENDAR.search(text, *sentence):
            chosen.append(sentence)
            scheduled |= new
    return chosen


def read_words(text: str, spans: Iterable[Span]) -> set[str]:
    """Every capitalised word in `spans` (what the NER has read)."""
    return {w.group().rstrip(".'’-") for start, end in spans for w in _CAPITALISED.finditer(text, start, end)}


def lowercase_words(text: str) -> set[str]:
    return set(re.findall(r"\b[a-z][a-z'’]*\b", text))


def regions(spans: Iterable[Span]) -> list[Span]:
    """Sorted spans joined where they touch or overlap (the gap between two sentences is whitespace)."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def name_labels(text: str, entities: Iterable[Entity]) -> dict[str, str]:
    """Each name the NER found (not numbers or dates), with the label it gave most; a person's surname too
    ("Obama" of "Barack Obama") unless the NER saw it standing for something else."""
    votes: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for start, end, label in entities:
        if label not in _UNNAMED:
            votes[text[start:end]][label] += 1
    labels = {name: counts.most_common(1)[0][0] for name, counts in votes.items()}
    for name, label in list(labels.items()):
        words = name.split()
        if label == "PERSON" and len(words) > 1 and words[-1][:1].isupper():
            labels.setdefault(words[-1], "PERSON")
    return labels


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for every name, longest first, each matched as whole words."""
    ordered = sorted(set(names), key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w-])")  # "Obama's" too


def matched_names(
    text: str, spans: Sequence[Span], pattern: re.Pattern[str] | None, labels: dict[str, str]
) -> list[Entity]:
    """The known names in `spans`, labelled as the NER labelled them elsewhere."""
    if pattern is None:
        return []
    return [
        (match.start(), match.end(), labels[match.group()])
        for start, end in spans
        for match in pattern.finditer(text, start, end)
    ]
