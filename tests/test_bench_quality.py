"""The scoring code of bench/quality on tiny hand-made examples (no dataset text)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from quality import actors, dates, pages, stats


def _entity(text: str, label: str) -> dict[str, object]:
    return {"text": text, "label": label, "start": 0, "end": len(text)}


GOLD = actors.gold_actors(
    [
        _entity("Bill Clinton", "PER"),
        _entity("Clinton", "PER"),
        _entity("United Nations", "ORG"),
        _entity("UN", "ORG"),
        _entity("Paris", "LOC"),
        _entity("French", "MISC"),
    ]
)


def _counts(kind: str) -> list[int]:
    return list(actors.score_document(PREDICTED, GOLD)[actors.KINDS.index(kind)])


PREDICTED = [
    ("person", {"President Clinton", "Clinton"}),  # right through its alias only
    ("organization", {"United Nations"}),
    ("person", {"Bill Clinton"}),  # the same person listed twice: costs precision
    ("place", {"London"}),
    ("other", {"Paris"}),  # not a scored kind: neither right nor wrong
]


def test_gold_actors_merge_partial_names_and_acronyms_and_drop_misc() -> None:
    assert sorted((kind, sorted(names)) for kind, names in GOLD) == [
        ("organization", ["UN", "United Nations"]),
        ("person", ["Bill Clinton", "Clinton"]),
        ("place", ["Paris"]),
    ]


def test_actor_f1_counts_aliases_duplicates_and_misses() -> None:
    assert _counts("person") == [1, 1, 0]  # tp, fp, fn
    assert _counts("organization") == [1, 0, 0]
    assert _counts("place") == [0, 1, 1]
    counts = actors.score_document(PREDICTED, GOLD)
    assert actors.micro_f1()(counts) == pytest.approx(2 * 2 / (2 * 2 + 2 + 1))
    assert actors.micro_f1(["organization"])(counts) == 1.0


def test_an_errored_batch_row_has_no_actors_and_zero_recall() -> None:
    predicted = actors.from_output({"id": "x", "error": {"code": "too_short", "message": "..."}})
    assert predicted == []
    assert actors.score_document(predicted, GOLD)[:, actors.FN].sum() == 3


def test_batch_actor_names_include_aliases() -> None:
    line = {"actors": [{"name": "United Nations", "kind": "organization", "mentions": 2, "aliases": ["UN"]}]}
    assert actors.from_output(line) == [("organization", {"United Nations", "UN"})]


TIMEXES = [
    {"start": 10, "end": 23, "type": "DATE", "value": "1998-03-03"},
    {"start": 30, "end": 39, "type": "DATE", "value": "1998-W09"},
    {"start": 50, "end": 59, "type": "DURATION", "value": "P2Y"},
    {"start": 70, "end": 78, "type": "DATE", "value": "PAST_REF"},
    {"start": 90, "end": 95, "type": "TIME", "value": "1998-03-03T10:00"},
    {"start": 110, "end": 115, "type": "DATE", "value": "199X"},
]


def test_timex_strict_and_relaxed_spans_and_values() -> None:
    mentions = [
        (10, 23, "1998-03-03"),  # same span, same value
        (30, 34, "1998-W10"),  # overlapping span, wrong value
        (50, 59, "1998"),  # on a duration: a false positive
        (70, 78, "1998"),  # only on a value outside the four forms: not counted
        (90, 95, "1998-03-03"),  # only on a TIME: not counted
        (110, 115, "1990"),  # a decade: not counted
        (120, 124, "1999"),  # on nothing: a false positive
    ]
    counts = dates.score_document(mentions, TIMEXES)
    assert dict(zip(dates.COLUMNS, counts.tolist(), strict=True)) == {
        "system": 4,
        "gold": 2,
        "strict": 1,
        "relaxed": 2,
        "value": 1,
    }
    assert dates.strict_f1(counts) == pytest.approx(2 * 1 / (4 + 2))
    assert dates.relaxed_f1(counts) == pytest.approx(2 * 2 / (4 + 2))
    assert dates.value_accuracy(counts) == 0.5
    assert dates.value_f1(counts) == pytest.approx(2 * 1 / (4 + 2))


def test_one_mention_matches_one_gold_timex() -> None:
    counts = dates.score_document([(10, 23, "1998-03-03"), (12, 20, "1998-03-03")], TIMEXES)
    assert counts.tolist() == [2, 2, 1, 1, 1]


def test_bootstrap_is_deterministic_and_brackets_the_mean() -> None:
    values = np.arange(50, dtype=float) % 7
    first, second = stats.mean_ci(values), stats.mean_ci(values)
    assert first == second
    assert first.value == pytest.approx(values.mean())
    assert first.low < first.value < first.high


def test_paired_difference_has_the_sign_of_the_better_system() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(20, 40, size=60)
    better = base + rng.uniform(0.5, 1.5, size=60)
    up, down = stats.paired_difference(better, base), stats.paired_difference(base, better)
    assert 0 < up.low < up.value < up.high
    assert down.low < down.value < down.high < 0


def test_pooled_difference_compares_f1_on_the_same_documents() -> None:
    hits = np.array([[3, 0, 1]] * 40)  # tp, fp, fn per document, one kind
    misses = np.array([[1, 2, 3]] * 40)
    statistic = actors.micro_f1()
    ours, theirs = np.zeros((40, 3, 3)), np.zeros((40, 3, 3))
    ours[:, 0], theirs[:, 0] = hits, misses
    difference = stats.pooled_difference(ours, theirs, statistic)
    assert difference.value == pytest.approx(6 / 7 - 2 / 7)
    assert difference.low == pytest.approx(difference.value)  # identical documents: no spread


PAGE = {
    "id": "p1",
    "html": "<html><head><title>Harbour tunnel opens | Daily Port</title></head></html>",
    "with": ["The harbour tunnel opened on Monday", "Mayor Ana Ruiz"],
    "without": ["Sign up for  the NEWSLETTER", "Reply", "Tom Baker"],
}


def test_a_summary_sentence_carries_furniture_when_a_snippet_occurs_in_it_at_word_boundaries() -> None:
    assert pages.carries_furniture("Readers can sign up for the newsletter today.", PAGE["without"])
    assert pages.carries_furniture("Reply", PAGE["without"]), "the sentence is the snippet"
    assert not pages.carries_furniture("Officials were replying to questions.", PAGE["without"])


def test_headline_repeats_are_the_title_or_its_part_before_the_site_name() -> None:
    titles = [None, pages.html_title(PAGE["html"])]
    assert pages.repeats_headline("Harbour tunnel opens", titles)
    assert pages.repeats_headline("Watch: harbour tunnel opens.", titles)
    assert not pages.repeats_headline(
        "The harbour tunnel opens to traffic after six years of work on the seabed, the council said.", titles
    )
    assert not pages.repeats_headline("Daily Port", titles), "the site's name is too short to be a headline"


def test_an_actor_comes_from_furniture_when_named_only_there() -> None:
    assert pages.actor_from_furniture(["Tom Baker"], PAGE)
    assert not pages.actor_from_furniture(["Ana Ruiz", "Mayor Ana Ruiz"], PAGE)
    assert not pages.actor_from_furniture(["Port Authority"], PAGE)


def test_page_scores_count_per_page_rows_and_rates() -> None:
    scores = pages.PageScores(pages=1)
    scores.add(PAGE, ["Harbour tunnel opens", "The tunnel cost $2bn, Tom Baker said."], None, [["Tom Baker"]])
    assert scores.counts == [[2, 1, 1, 1, 1]]
    assert scores.rate("furniture", "sentences").value == 0.5
