"""Extractive news summary: lead bias + centrality, minus boilerplate and repeats, within a chat budget.

News is written lead-first, so position is the main signal; a sumy-style centrality score (how much a
sentence shares with the rest of the article, LexRank's cosine over tf-idf of sumy-stemmed words) lets a
central sentence beat a weak lead sentence (an anecdote, a teaser question). The choice and the one
weight were measured in bench/quality_summary.py (table in bench/results/summary.md).

Centrality is computed with numpy rather than through sumy's summarizers: those compare sentence pairs in
Python and cost ~55 ms per 700-word article on our machines, against a few ms here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from sumy.nlp.stemmers import Stemmer
from sumy.utils import get_stop_words

from bot.boilerplate import is_boilerplate
from bot.models import Sentence
from bot.sentences import words

MIN_WORDS = 6  # shorter "sentences" are fragments, headings or teasers, rarely a summary line
CENTRALITY_WEIGHT = 0.2  # share of the score given to centrality, the rest to position (chosen on CNN/DM)
MAX_OVERLAP = 0.6  # a sentence sharing more of its content words with a chosen one is a repeat

_STOP_WORDS = frozenset(get_stop_words("english"))
_stem = functools.lru_cache(maxsize=65536)(Stemmer("english"))  # words repeat within and across articles


def content_terms(text: str) -> tuple[str, ...]:
    """Stemmed, lower-cased words of a sentence without stop words."""
    lowered = (w.lower() for w in words(text))
    return tuple(_stem(w) for w in lowered if w not in _STOP_WORDS)


def centrality(term_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """Sum of tf-idf cosine similarity of each sentence to all others, scaled to a maximum of 1."""
    vocabulary: dict[str, int] = {}
    for terms in term_lists:
        for term in terms:
            vocabulary.setdefault(term, len(vocabulary))
    counts = np.zeros((len(term_lists), max(len(vocabulary), 1)))
    for row, terms in enumerate(term_lists):
        for term in terms:
            counts[row, vocabulary[term]] += 1
    idf = np.log(len(term_lists) / np.maximum((counts > 0).sum(axis=0), 1)) + 1.0
    vectors = counts * idf
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    degree = similarity.sum(axis=1)
    top = degree.max(initial=0.0)
    return degree / top if top > 0 else degree


def _is_question(text: str) -> bool:
    return text.rstrip("\"'”’ ").endswith("?")


def _is_candidate(sentence: Sentence) -> bool:
    """Long enough, not furniture, not a question: a teaser ("Or fancy a change?") never sums up news."""
    text = sentence.text
    return len(text.split()) >= MIN_WORDS and not _is_question(text) and not is_boilerplate(text)


def _scores(term_lists: Sequence[Sequence[str]], weight: float) -> list[float]:
    """Position prior (1, 1/2, 1/3, ... by order among candidates) blended with centrality."""
    central = centrality(term_lists) if weight > 0 else np.zeros(len(term_lists))
    return [(1 - weight) / (rank + 1) + weight * float(c) for rank, c in enumerate(central)]


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _display_length(sentence: Sentence) -> int:
    return len(" ".join(sentence.text.split()))


def summarize(
    sentences: Sequence[Sentence],
    *,
    max_sentences: int = 3,
    max_chars: int = 700,
    centrality_weight: float = CENTRALITY_WEIGHT,
) -> list[Sentence]:
    """The best `max_sentences` sentences in article order: no boilerplate, no repeats, whole sentences
    whose lengths (whitespace collapsed, plus one space between them) fit in `max_chars`."""
    candidates = [s for s in sentences if _is_candidate(s)] or [
        s for s in sentences if not is_boilerplate(s.text)
    ]
    if not candidates:
        return []
    term_lists = [content_terms(s.text) for s in candidates]
    scores = _scores(term_lists, centrality_weight)
    ranked = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))  # ties: earlier sentence first

    chosen: list[int] = []
    used_chars = 0
    for i in ranked:
        if len(chosen) == max_sentences:
            break
        length = _display_length(candidates[i]) + (1 if chosen else 0)
        terms = frozenset(term_lists[i])
        if used_chars + length > max_chars or not terms:
            continue
        if any(_overlap(terms, frozenset(term_lists[j])) > MAX_OVERLAP for j in chosen):
            continue
        chosen.append(i)
        used_chars += length
    return [candidates[i] for i in sorted(chosen)]
