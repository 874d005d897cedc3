"""Sentence splitting with offsets, and a tokenizer object for sumy that needs no NLTK data.

nupunkt does the splitting (fast, no downloads). Paragraphs (blank-line separated blocks) are split apart
first so that a sentence never spans two paragraphs, and one cheap fix is applied on top: nupunkt keeps
"5 p.m. Officials said" together because "p.m." is a known abbreviation. The pipeline takes the same
paragraphs from here (`trimmed_paragraphs`: blank ones dropped, whitespace trimmed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import nupunkt

from bot.models import Sentence

_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")
# "a.m."/"p.m." followed by a capitalised word starts a new sentence unless that word belongs to the time
# ("5 p.m. ET", "9 a.m. Monday", "p.m. GMT").
_TIME_THEN_CAPITAL = re.compile(r"\b[ap]\.m\.(?=\s+([A-Z][A-Za-z]*))")
_TIME_CONTINUATIONS = frozenset(
    "ET EST EDT CT CST CDT MT MST MDT PT PST PDT GMT BST UTC CET CEST IST JST AEST AEDT HKT SGT KST"
    " Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
    " January February March April May June July August September October November December"
    " Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)
# Words for sumy: letters, inner hyphens and apostrophes ("Bergen-Belsen", "don't"); numbers are not words
# for sumy's scoring, as with its own tokenizer.
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)


def _paragraph_blocks(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every block between paragraph breaks as it is: blank or not, whitespace kept."""
    start = 0
    for brk in _PARAGRAPH_BREAK.finditer(text):
        yield start, brk.start()
        start = brk.end()
    yield start, len(text)


def trimmed_paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph (blank-line separated block) that is not blank, surrounding whitespace
    trimmed."""
    spans = [_trimmed(text, start, end) for start, end in _paragraph_blocks(text)]
    return [(start, end) for start, end in spans if start < end]


def _split_after_times(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split the span [start, end) after "a.m."/"p.m." where a new sentence clearly begins."""
    for match in _TIME_THEN_CAPITAL.finditer(text, start, end):
        if match.group(1) not in _TIME_CONTINUATIONS:
            yield start, match.end()
            start = match.end()
    yield start, end


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of `text` in order; each one's start/end slice `text` exactly (whitespace trimmed)."""
    sentences: list[Sentence] = []
    paragraph = 0
    for para_start, para_end in _paragraph_blocks(text):
        block = text[para_start:para_end]
        if not block.strip():
            continue
        for rel_start, rel_end in nupunkt.sent_spans(block):
            for piece in _split_after_times(text, para_start + rel_start, para_start + rel_end):
                start, end = _trimmed(text, *piece)
                if start < end:
                    sentences.append(Sentence(text[start:end], start, end, paragraph, len(sentences)))
        paragraph += 1
    return sentences


def words(sentence: str) -> tuple[str, ...]:
    """Words of a sentence as sumy expects them: no numbers or punctuation, possessive "'s" dropped."""
    return tuple(_POSSESSIVE.sub("", word) for word in _WORD.findall(sentence))


class SumyTokenizer:
    """What sumy's parsers and summarizers call on a tokenizer; replaces sumy's NLTK-backed Tokenizer."""

    language = "english"

    def to_sentences(self, text: str) -> tuple[str, ...]:
        return tuple(s.text for s in split_sentences(text))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return words(sentence)
