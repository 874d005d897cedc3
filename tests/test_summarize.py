"""Summarizer: order, count, budget, no repeats, no captions, determinism; on a story written for the test."""

from __future__ import annotations

import pytest

from bot.briefing.sentences import split_sentences
from bot.briefing.summarize import summarize
from bot.models import Sentence

STORY = """\
PORT ELLIS (Reuters) - Floodwater forced 3,000 people from their homes in the river town of Port Ellis \
on Tuesday, the regional emergency service said.

Rescue boats pass a flooded street in Port Ellis – Photo: REUTERS/Jane Doe

By Jane Doe, Reuters

The river rose two metres overnight after a week of heavy rain, flooding the town's old centre and \
cutting the main road to the coast. Emergency officials said 3,000 people were forced from their homes \
in Port Ellis by the floodwater on Tuesday.

Mayor Tom Hale said schools would stay closed until Friday and asked residents to boil drinking water. \
The regional government promised 4 million euros for repairs to the flood walls.

What do you think? Leave a Comment

Weather forecasters expect more rain at the weekend, and the river is not expected to fall before Monday.
"""


@pytest.fixture
def sentences() -> list[Sentence]:
    return split_sentences(STORY)


def test_default_is_three_sentences_in_article_order(sentences: list[Sentence]) -> None:
    summary = summarize(sentences)
    assert len(summary) == 3
    assert [s.index for s in summary] == sorted(s.index for s in summary)


def test_the_lead_is_kept(sentences: list[Sentence]) -> None:
    assert summarize(sentences)[0].text.startswith("PORT ELLIS (Reuters) - Floodwater forced")


def test_sentence_count_is_configurable(sentences: list[Sentence]) -> None:
    assert len(summarize(sentences, max_sentences=1)) == 1
    assert len(summarize(sentences, max_sentences=4)) == 4


def test_no_captions_bylines_or_reader_questions(sentences: list[Sentence]) -> None:
    chosen = " ".join(s.text for s in summarize(sentences, max_sentences=10, max_chars=10_000))
    for furniture in ("Photo:", "By Jane Doe", "What do you think?", "Leave a Comment"):
        assert furniture not in chosen


def test_a_sentence_repeating_a_chosen_one_is_skipped(sentences: list[Sentence]) -> None:
    # "Emergency officials said 3,000 people were forced from their homes ..." repeats the lead.
    chosen = summarize(sentences, max_sentences=10, max_chars=10_000)
    assert not any(s.text.startswith("Emergency officials said 3,000") for s in chosen)
    assert len({s.text for s in chosen}) == len(chosen)


def test_exact_duplicate_sentences_appear_once() -> None:
    text = "The bridge closed after the storm damaged it badly. " * 3 + (
        "Drivers must take the ferry across the bay for a month. Repairs begin in the spring next year."
    )
    chosen = summarize(split_sentences(text))
    assert [s.text for s in chosen].count("The bridge closed after the storm damaged it badly.") == 1


@pytest.mark.parametrize("budget", [120, 200, 300, 700])
def test_whole_sentences_within_the_character_budget(sentences: list[Sentence], budget: int) -> None:
    summary = summarize(sentences, max_chars=budget)
    assert summary, "a sentence fits in every budget tried"
    shown = " ".join(" ".join(s.text.split()) for s in summary)
    assert len(shown) <= budget
    assert all(s in sentences for s in summary)  # whole Sentence objects from the input, never cut


def test_nothing_fits_gives_an_empty_summary(sentences: list[Sentence]) -> None:
    assert summarize(sentences, max_chars=10) == []


def test_deterministic(sentences: list[Sentence]) -> None:
    first = summarize(sentences)
    assert all(summarize(list(sentences)) == first for _ in range(5))


def test_offsets_point_into_the_text(sentences: list[Sentence]) -> None:
    for sentence in summarize(sentences):
        assert STORY[sentence.start : sentence.end] == sentence.text


def test_empty_input() -> None:
    assert summarize([]) == []


def test_each_paragraph_opener_ranks_with_the_lead_paragraph_sentences() -> None:
    # Position counts paragraphs: the second paragraph's opener is as close to the lead as the first
    # paragraph's second sentence, and closer than its fourth.
    text = (
        "The city council approved a new budget for the harbour district on Monday evening. "
        "Councillors argued for hours about the cost of dredging the old shipping channel. "
        "Several residents spoke against the plan at the public meeting before the vote. "
        "The meeting ran late because the microphones failed twice during the session.\n\n"
        "The budget sets aside 12 million euros to rebuild the harbour wall by next summer.\n\n"
        "Work on the wall is due to start in the spring if the contracts are signed in time."
    )
    chosen = summarize(split_sentences(text), max_sentences=3, centrality_weight=0.0)
    assert [s.text.split()[:2] for s in chosen] == [
        ["The", "city"],
        ["Councillors", "argued"],
        ["The", "budget"],
    ]


def test_tokenized_wire_copy_is_summarized_although_every_line_ends_like_a_caption() -> None:
    # Copies made from tokenized text end every sentence with a detached " ."; with nothing else to pick,
    # those sentences are the summary (not an empty one).
    text = (
        "Mauritania drew 0-0 with Benin in their African Nations Cup preliminary round on Friday .\n"
        "Benin won 4-1 on aggregate and go through to the group stage of the competition ."
    )
    assert len(summarize(split_sentences(text))) == 2


def test_the_lead_sentences_share_the_top_of_the_position_prior() -> None:
    # The third sentence shares no word with the rest and the fourth repeats the story's words: the fourth
    # is more central, but the lead's three positions outrank anything after them.
    text = (
        "The harbour authority shut the outer quay after a storm damaged the sea wall on Sunday night. "
        "Engineers will inspect the sea wall and the quay before ferries can use the harbour again. "
        "Grey skies hung low over the town all week. "
        "The harbour authority said the quay and the sea wall would stay closed until engineers finish. "
        "Ferries to the islands will leave from the inner harbour until the outer quay reopens."
    )
    chosen = summarize(split_sentences(text))
    assert [s.text.split()[:2] for s in chosen] == [
        ["The", "harbour"],
        ["Engineers", "will"],
        ["Grey", "skies"],
    ]


def test_an_exclamation_is_a_hook_not_a_summary_line() -> None:
    text = (
        "Talk about going out with a bang and a very large crowd! "
        "A retired baker set a town record on Saturday when 2,000 people came to his farewell party. "
        "The party in the market square raised 40,000 euros for the children's hospital. "
        "The mayor thanked the baker for forty years of bread and cakes at the corner shop."
    )
    assert not any(s.text.startswith("Talk about") for s in summarize(split_sentences(text)))
