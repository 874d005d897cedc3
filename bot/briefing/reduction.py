"""sumy's Reduction sentence ratings as one matrix product instead of a Python loop over every pair.

sumy rates each pair of sentences by the words they share (counted with repeats: a word twice in one and
three times in the other is 6 matches) over log(len a) + log(len b), and a sentence by the sum over its
pairs. That loop was ~10% of a briefing's CPU time (quadratic in sentences, each pair a Python double loop
over words); here it is a term-count matrix times its transpose. The ratings are sumy's own up to float
rounding (tests/test_reduction.py compares them with the stock summarizer's).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from sumy.summarizers.reduction import ReductionSummarizer


class MatrixReduction(ReductionSummarizer):  # type: ignore[misc]  # sumy has no type hints
    def rate_sentences(self, document: Any) -> defaultdict[Any, float]:
        sentences = document.sentences
        terms = [self._to_words_set(sentence) for sentence in sentences]
        vocabulary: dict[str, int] = {}
        rows = [i for i, words in enumerate(terms) for _ in words]
        columns = [vocabulary.setdefault(word, len(vocabulary)) for words in terms for word in words]
        counts = np.zeros((len(sentences), len(vocabulary)))
        np.add.at(counts, (rows, columns), 1.0)
        shared = counts @ counts.T
        lengths = np.array([len(words) for words in terms], dtype=float)
        logs = np.log(lengths, out=np.zeros_like(lengths), where=lengths > 0)
        norms = logs[:, None] + logs[None, :]
        # sumy: 0 for pairs sharing nothing, and for two one-word sentences (a zero norm)
        edges = np.divide(shared, norms, out=np.zeros_like(shared), where=(shared > 0) & (norms != 0))
        np.fill_diagonal(edges, 0.0)
        # keyed by sentence as in sumy, where equal sentences are one key and add up
        ratings: defaultdict[Any, float] = defaultdict(float)
        for sentence, rating in zip(sentences, edges.sum(axis=1).tolist(), strict=True):
            ratings[sentence] += rating
        return ratings
