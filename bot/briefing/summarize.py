"""Extractive news summary: lead bias + sumy's graph centrality, minus boilerplate and repeats, in a budget.

News is written lead-first, so position is the main signal, counted in paragraphs as well as sentences,
with the lead's first three positions level; centrality from sumy's Reduction summarizer (how strongly a
sentence is linked by shared words to the rest of the article) orders what follows the lead and breaks its
ties. Teasers (questions, exclamations) and fragments are never summary lines. Each choice was measured on
the dev sets (`make quality`, bench/quality/; numbers and the sweeps in bench/quality/notes.md).

sumy scores a document model we build from our own sentences (no parser, no NLTK) with a cached stemmer.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from sumy.models.dom import ObjectDocumentModel, Paragraph
from sumy.models.dom import Sentence as SumySentence
from sumy.nlp.stemmers import Stemmer

from bot.briefing.boilerplate import is_boilerplate
from bot.briefing.reduction import MatrixReduction
from bot.briefing.sentences import SumyTokenizer, words
from bot.models import Sentence
from bot.stopwords import stop_words

MIN_WORDS = 6  # shorter "sentences" are fragments, headings or teasers, rarely a summary line
CENTRALITY_WEIGHT = 0.2  # share of the score given to centrality, the rest to position (chosen on CNN/DM)
# The lead: this many positions share the top of the position prior. News puts its summary in the first
# sentences, but which of them opens best is not position's call: on CNN/DM dev the second sentence is the
# better summary line more often than the first (an anecdote or a hook opens features).
LEAD_POSITIONS = 3
MAX_OVERLAP = 0.6  # a sentence sharing more of its content words with a chosen one is a repeat
# Centrality compares every pair of sentences; past the first few hundred the position prior (< 1/300)
# leaves a sentence no chance anyway, so later ones are not rated (news articles run < 150 sentences).
CENTRALITY_WINDOW = 300

_STOP_WORDS = stop_words("english")
_stem = functools.lru_cache(maxsize=65536)(Stemmer("english"))  # words repeat within and across articles


def content_terms(text: str) -> tuple[str, ...]:
    """Stemmed, lower-cased words of a sentence without stop words."""
    lowered = (w.lower() for w in words(text))
    return tuple(_stem(w) for w in lowered if w not in _STOP_WORDS)


def _scorer() -> MatrixReduction:
    summarizer = MatrixReduction(_stem)
    summarizer.stop_words = _STOP_WORDS
    return summarizer


_SCORER = _scorer()
_TOKENIZER = SumyTokenizer()


def centrality(texts: Sequence[str]) -> np.ndarray:
    """sumy's Reduction score of each sentence (its weighted degree in the word graph), scaled to max 1."""
    document = ObjectDocumentModel([Paragraph([SumySentence(text, _TOKENIZER) for text in texts])])
    ratings = _SCORER.rate_sentences(document)
    scores = np.array([ratings[sentence] for sentence in document.sentences], dtype=float)
    top = scores.max(initial=0.0)
    return scores / top if top > 0 else scores


def _is_teaser(text: str) -> bool:
    """A question or an exclamation ("Talk about going out with a bang!"): a hook, never news summed up."""
    return text.rstrip("\"'”’ ").endswith(("?", "!"))


def _positions(paragraphs: Sequence[int]) -> list[int]:
    """Each sentence's distance from the lead: its paragraph's rank plus its place in the paragraph.

    In one block of text that is the sentence order; on a page the opening sentence of each paragraph
    moves up ahead of the third sentence of a long first paragraph (+1.9 ROUGE-1 on BBC, where paragraphs
    run 1-4 sentences; CNN/DM texts are one block, so nothing changes there)."""
    paragraph_rank = {p: rank for rank, p in enumerate(dict.fromkeys(paragraphs))}
    within: dict[int, int] = {}
    positions = []
    for p in paragraphs:
        positions.append(paragraph_rank[p] + within.get(p, 0))
        within[p] = within.get(p, 0) + 1
    return positions


def _scores(sentences: Sequence[Sentence], positions: Sequence[int], weight: float) -> list[float]:
    """Position prior (1 for the lead's positions, then 1/2, 1/3, ...) blended with centrality."""
    central = np.zeros(len(sentences))
    if weight > 0:
        window = sentences[:CENTRALITY_WINDOW]
        central[: len(window)] = centrality([s.text for s in window])
    past_lead = [max(0, pos - LEAD_POSITIONS + 1) for pos in positions]
    return [(1 - weight) / (pos + 1) + weight * float(c) for pos, c in zip(past_lead, central, strict=True)]


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
    # Full sentences, not teasers ("Or fancy a change?"). When every one
    # looks like furniture the text is not a page with captions (tokenized wire copy ends every sentence
    # with a detached " ."): summarize it as it is.
    full = [s for s in sentences if len(s.text.split()) >= MIN_WORDS and not _is_teaser(s.text)]
    candidates = (
        [s for s in full if not is_boilerplate(s.text)]
        or full
        or [s for s in sentences if not is_boilerplate(s.text)]
        or list(sentences)
    )
    if not candidates:
        return []
    term_lists = [content_terms(s.text) for s in candidates]
    positions = _positions([s.paragraph for s in candidates])
    scores = _scores(candidates, positions, centrality_weight)
    # ties (the lead's positions without centrality): nearer the lead first, then earlier in the text
    ranked = sorted(range(len(candidates)), key=lambda i: (-scores[i], positions[i], i))

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
