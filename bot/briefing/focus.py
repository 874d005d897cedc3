"""NER only where it pays: which sentences of an article the NER must read, and the names it found there
matched by string in the others.

NER was ~70% of a briefing's cost (bench/README.md). Most sentences of a news story name nobody new: "He
said the plan would cost more." or "Obama said..." once "Barack Obama" was read. The NER reads the lead, the
summary, and a few words around each cue of a date or time ("last week", "2019", "Friday") and around the
first mention of each capitalised word it has not read yet; the names it found (and a person's surname) are
then matched in the rest, with the label the NER gave them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence

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

# The NER reads this many words either side of a new name or a date cue: its window of context is 4 tokens.
# 6 words cost 10% more CPU on CoNLL dev than 5 for +0.1 actor F1 [+0.0, +0.2] (paired), dates the same;
# 4 lost 0.2 (organisations 0.4) for 2% more (bench/quality/notes.md).
WINDOW_WORDS = 5
_WORD = re.compile(r"\S+")
_NAME_JOINERS = frozenset("of the and & de la le du da van von der al bin".split())
_RUN = re.compile(
    rf"{_CAPITALISED.pattern}(?:[ \t]+(?:(?:{'|'.join(sorted(_NAME_JOINERS - {'&'}))}|&)[ \t]+)*"
    rf"[^\W\d_a-z][\w'’.&-]*)*"
)

Span = tuple[int, int]
Entity = tuple[int, int, str]  # start, end, label


def _runs(text: str, start: int, end: int) -> Iterator[tuple[str, int, bool]]:
    """Runs of capitalised words ("Workers' Party of Korea") in text[start:end]: each as text, offset and
    whether it starts the sentence; a leading "Mr" or "I" is left out of it."""
    for run in _RUN.finditer(text, start, end):
        name, at = run.group().rstrip(".'’-"), run.start()
        first = name.split(maxsplit=1)
        if first[0].rstrip(".") in _NOT_NAMES or first[0].startswith(("I'", "I’")):
            if len(first) == 1:
                continue
            name, at = first[1], at + len(run.group()) - len(run.group().split(maxsplit=1)[1])
        yield name, at, text[start:at].strip(" \t\n\"'“‘([") == ""


def candidates(text: str, sentence: Span, lowercase: set[str]) -> dict[str, int]:
    """The runs of capitalised words of a sentence that may be names, each with where it first is. A
    sentence's first word alone counts only when it is no common word: no stop word, never in lower case
    elsewhere."""
    found: dict[str, int] = {}
    for name, at, first in _runs(text, *sentence):
        folded = name.casefold()
        if first and " " not in name and (folded in stop_words("english") or folded in lowercase):
            continue
        found.setdefault(name, at)
    return found


def _is_new(name: str, read: set[str]) -> bool:
    """A run the NER has not read: one word it never read, or several never read together."""
    return name not in read


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit() or word.casefold() in _NAME_JOINERS


def _window(text: str, words: list[Span], at: int) -> Span:
    """WINDOW_WORDS words either side of the word at offset `at`, widened while a name may run across its
    edge (a capitalised word, a number or "of" just outside it)."""
    i = next((n for n, (_, end) in enumerate(words) if at < end), len(words) - 1)
    lo, hi = max(0, i - WINDOW_WORDS), min(len(words), i + WINDOW_WORDS + 1)
    while lo > 0 and _is_name_word(text[slice(*words[lo - 1])]):
        lo -= 1
    while hi < len(words) and _is_name_word(text[slice(*words[hi])]):
        hi += 1
    return words[lo][0], words[hi - 1][1]


def choose(text: str, sentences: Sequence[Span], read: set[str], lowercase: set[str]) -> list[Span]:
    """Where the NER must read, given the capitalised words it has read already: around each date cue, and
    around the first mention of each capitalised word it has not read (where that word was a name, its other
    mentions are matched by name_pattern; where it was none, they are none either)."""
    scheduled = set(read)
    chosen = []
    for sentence in sentences:
        new = {
            name: at for name, at in candidates(text, sentence, lowercase).items() if name not in scheduled
        }
        scheduled |= {part for name in new for part in (name, *name.split())}
        cues = [m.start() for m in _TIME_CUE.finditer(text, *sentence)]
        cues += [m.start() for m in _CALENDAR.finditer(text, *sentence)]
        if new or cues:
            words = [m.span() for m in _WORD.finditer(text, *sentence)]
            chosen += [_window(text, words, at) for at in [*new.values(), *cues]]
    return regions(chosen)


def complement(spans: Sequence[Span], length: int) -> list[Span]:
    """The parts of [0, length) outside the sorted, disjoint `spans`."""
    out, start = [], 0
    for a, b in spans:
        if a > start:
            out.append((start, a))
        start = max(start, b)
    if start < length:
        out.append((start, length))
    return out


def read_words(text: str, spans: Iterable[Span]) -> set[str]:
    """Every run of capitalised words in `spans`, and every word of each (what the NER has read)."""
    read = set()
    for start, end in spans:
        for name, _, _ in _runs(text, start, end):
            read.add(name)
            read.update(word.group().rstrip(".'’-") for word in _CAPITALISED.finditer(name))
    return read


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
