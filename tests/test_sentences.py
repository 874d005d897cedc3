"""Sentence splitting: offsets, paragraphs, hard cases; and the tokenizer sumy gets."""

from __future__ import annotations

import pytest
from sumy.models.dom import ObjectDocumentModel
from sumy.parsers.plaintext import PlaintextParser

from bot.briefing.sentences import SumyTokenizer, split_sentences

TEXT = (
    "HARBOR CITY (Reuters) - The U.S. Navy moved two ships on Monday.\n\n"
    "  Officials met at 5 p.m. Nobody spoke to reporters afterwards.\n"
    "\n"
    'Dr. Lena Ortiz said the budget grew 2.5 percent. "We are ready," she said.'
)


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_offsets_slice_the_original_text() -> None:
    sentences = split_sentences(TEXT)
    assert sentences, "expected sentences"
    for sentence in sentences:
        assert TEXT[sentence.start : sentence.end] == sentence.text
        assert sentence.text == sentence.text.strip()


def test_indices_and_paragraphs() -> None:
    sentences = split_sentences(TEXT)
    assert [s.index for s in sentences] == list(range(len(sentences)))
    assert [s.paragraph for s in sentences] == [0, 1, 1, 2, 2]


def test_a_sentence_never_crosses_a_blank_line() -> None:
    # No closing mark before the blank line: still two sentences.
    assert texts("A heading without a full stop\n\nThe story starts here.") == [
        "A heading without a full stop",
        "The story starts here.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Officials met at 5 p.m. Nobody spoke.", ["Officials met at 5 p.m.", "Nobody spoke."]),
        ("The vote is at 9 a.m. Monday in the hall.", ["The vote is at 9 a.m. Monday in the hall."]),
        ("It starts at 8 p.m. ET on Friday.", ["It starts at 8 p.m. ET on Friday."]),
        ("The U.S. Army left. Then it rained.", ["The U.S. Army left.", "Then it rained."]),
        ("Mr. Smith and Dr. Jones met.", ["Mr. Smith and Dr. Jones met."]),
        ("Prices rose 3.5 percent. Wages did not.", ["Prices rose 3.5 percent.", "Wages did not."]),
        ('"We won," she said. He left.', ['"We won," she said.', "He left."]),
        ('"Is it over?" he asked. No one knew.', ['"Is it over?" he asked.', "No one knew."]),
    ],
)
def test_hard_cases(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_empty_and_blank_text() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\n  \n") == []


def test_tokenizer_words_drop_numbers_and_punctuation() -> None:
    words = SumyTokenizer().to_words("Bergen-Belsen's gates didn't open in 1945, she said.")
    assert words == ("Bergen-Belsen", "gates", "didn't", "open", "in", "she", "said")


def test_tokenizer_works_inside_sumy_without_nltk_data() -> None:
    document = PlaintextParser.from_string("One ship left. Two ships stayed.", SumyTokenizer()).document
    assert isinstance(document, ObjectDocumentModel)
    assert [str(s) for s in document.sentences] == ["One ship left.", "Two ships stayed."]
    assert SumyTokenizer().language == "english"
