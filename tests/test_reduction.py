"""MatrixReduction rates sentences as stock sumy Reduction does, on dev-set articles and edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sumy.models.dom import ObjectDocumentModel, Paragraph
from sumy.models.dom import Sentence as SumySentence
from sumy.summarizers.reduction import ReductionSummarizer

from bot.briefing.reduction import MatrixReduction
from bot.briefing.sentences import SumyTokenizer, split_sentences
from bot.briefing.summarize import _stem
from bot.stopwords import stop_words

DEV = Path(__file__).resolve().parents[2] / "shared" / "bench" / "data" / "summ_cnndm_dev.jsonl"
ARTICLES = 40


def _document(texts: list[str]) -> ObjectDocumentModel:
    tokenizer = SumyTokenizer()
    return ObjectDocumentModel([Paragraph([SumySentence(text, tokenizer) for text in texts])])


def _ratings(summarizer: ReductionSummarizer, texts: list[str]) -> list[float]:
    summarizer.stop_words = stop_words("english")
    document = _document(texts)
    ratings = summarizer.rate_sentences(document)
    return [ratings[sentence] for sentence in document.sentences]


def _dev_articles() -> list[list[str]]:
    with DEV.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for _, line in zip(range(ARTICLES), lines, strict=False)]
    return [[s.text for s in split_sentences(row["text"])] for row in rows]


def test_dev_set_is_there() -> None:
    assert len(_dev_articles()) == ARTICLES


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param([], id="no sentences"),
        pytest.param(["Only one sentence here about rain."], id="one sentence"),
        pytest.param(["Rain.", "Rain.", "Snow."], id="one-word sentences: zero norm"),
        pytest.param(["The the of and.", "Rain fell on the town.", "Rain fell again."], id="stop words only"),
        pytest.param(
            ["Rain fell on the town.", "Rain fell on the town.", "Rain and rain fell.", "Snow came."],
            id="a repeated sentence and a repeated word",
        ),
    ],
)
def test_same_ratings_as_sumy_on_edge_cases(texts: list[str]) -> None:
    expected = _ratings(ReductionSummarizer(_stem), texts)
    assert _ratings(MatrixReduction(_stem), texts) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_same_ratings_as_sumy_on_dev_articles() -> None:
    compared = 0
    for texts in _dev_articles():
        expected = _ratings(ReductionSummarizer(_stem), texts)
        assert _ratings(MatrixReduction(_stem), texts) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        compared += len(texts)
    assert compared > 10 * ARTICLES
