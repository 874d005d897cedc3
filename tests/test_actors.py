"""Key actors on the seed article and on short texts written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actors import find_actors
from bot.gazetteer import country_of_demonym, lookup
from bot.models import Actor, Sentence
from bot.nlp import get_pipeline

SEED = Path(__file__).resolve().parents[2] / "shared/examples/seed_article.txt"


def actors_of(text: str, summary: tuple[Sentence, ...] = ()) -> list[Actor]:
    return find_actors(get_pipeline()(text), summary)


def by_name(actors: list[Actor]) -> dict[str, Actor]:
    return {a.name: a for a in actors}


@pytest.fixture(scope="module")
def seed_actors() -> dict[str, Actor]:
    return by_name(actors_of(SEED.read_text(encoding="utf-8")))


def test_seed_article_has_the_expected_actors_and_kinds(seed_actors: dict[str, Actor]) -> None:
    expected = {
        "United States": "place",
        "South Korea": "place",
        "Japan": "place",
        "North Korea": "place",
        "Pyongyang": "place",
        "Reuters": "organization",
        "Kyodo News": "organization",
        "Workers' Party of Korea": "organization",
    }
    assert {name: seed_actors[name].kind for name in expected if name in seed_actors} == expected


def test_seed_article_has_no_page_furniture_or_credit_lines(seed_actors: dict[str, Actor]) -> None:
    names = [n.lower() for a in seed_actors.values() for n in (a.name, *a.aliases)]
    for noise in ("photo", "comment", "/", "kcna"):
        assert not [n for n in names if noise in n], noise
    assert "north" not in names


def test_seed_article_merges_us_and_united_states(seed_actors: dict[str, Actor]) -> None:
    us = seed_actors["United States"]
    assert "US" in us.aliases
    assert us.mentions == 9  # 5 × "US" and 4 × "the United States" in the text
    assert not [a for a in seed_actors.values() if a.name in {"US", "U.S."}]


def test_the_main_countries_rank_first_in_the_seed_article() -> None:
    ranked = [a.name for a in actors_of(SEED.read_text(encoding="utf-8"))]
    assert set(ranked[:4]) == {"United States", "South Korea", "North Korea", "Japan"}


def test_every_name_of_the_united_states_is_one_actor() -> None:
    text = (
        "The U.S. imposed new tariffs on Monday. Officials in the United States said America would not "
        "back down, and US farmers braced for losses."
    )
    places = [a for a in actors_of(text) if a.kind == "place"]
    assert [a.name for a in places] == ["United States"]
    assert places[0].mentions == 4
    assert set(places[0].aliases) == {"U.S.", "America", "US"}


def test_a_surname_later_in_the_text_joins_the_full_name() -> None:
    text = (
        "Kim Jong Un inspected a missile factory on Tuesday, state media said. "
        "Kim urged workers to double their output before the end of the year."
    )
    people = [a for a in actors_of(text) if a.kind == "person"]
    assert [(a.name, a.mentions) for a in people] == [("Kim Jong Un", 2)]
    assert people[0].aliases == ("Kim",)


def test_an_acronym_joins_the_long_name_it_abbreviates() -> None:
    text = (
        "The International Rescue Committee warned of famine in the region on Friday. "
        "The IRC said its staff had reached only a third of the villages."
    )
    orgs = [a for a in actors_of(text) if a.kind == "organization"]
    assert [a.name for a in orgs] == ["International Rescue Committee"]
    assert orgs[0].mentions == 2


def test_bylines_credits_and_possessives_are_cleaned() -> None:
    text = (
        "By Maria Lopez\n\n"
        "Germany’s chancellor met the head of Siemens in Berlin on Monday to discuss energy prices.\n\n"
        "Photo: AP/Markus Schreiber\n\n"
        "(Reporting by Tom Baker; Editing by Ann Wu)"
    )
    names = {a.name for a in actors_of(text)}
    assert {"Germany", "Siemens", "Berlin"} <= names
    assert not names & {"Maria Lopez", "Markus Schreiber", "Tom Baker", "Ann Wu", "Germany’s"}


def test_a_demonym_counts_for_a_named_country_but_creates_none() -> None:
    text = (
        "Canada and Mexico signed a water deal on Monday. Canadian officials called it fair, and "
        "Canadian farmers welcomed it. French diplomats were not consulted."
    )
    actors = by_name(actors_of(text))
    assert actors["Canada"].mentions == 3
    assert actors["Mexico"].mentions == 1
    assert "France" not in actors


def test_being_in_the_summary_raises_salience() -> None:
    text = "Norway and Chile signed a fishing accord in Oslo. Critics in Chile called it one-sided."
    doc = get_pipeline()(text)
    first_sentence = Sentence(text=text[:49], start=0, end=49, paragraph=0, index=0)
    last_sentence = Sentence(text=text[50:], start=50, end=len(text), paragraph=0, index=1)
    plain = by_name(find_actors(doc))
    summarized = by_name(find_actors(doc, [last_sentence]))
    assert summarized["Chile"].salience > plain["Chile"].salience
    assert summarized["Norway"].salience == plain["Norway"].salience
    assert by_name(find_actors(doc, [first_sentence]))["Oslo"].salience > plain["Oslo"].salience


def test_actors_come_most_salient_first() -> None:
    actors = actors_of(SEED.read_text(encoding="utf-8"))
    assert [a.salience for a in actors] == sorted((a.salience for a in actors), reverse=True)


def test_pipeline_keeps_date_entities_for_the_dates_stage() -> None:
    doc = get_pipeline()("The talks with Japan resumed on September 9, 2021, in Tokyo.")
    assert "DATE" in {e.label_ for e in doc.ents}


def test_gazetteer_maps_surface_forms_to_one_actor() -> None:
    assert lookup("U.S.") == lookup("the United States") == lookup("America")
    assert lookup("Russian Federation").name == "Russia"  # type: ignore[union-attr]
    assert lookup("NORTH KOREA").name == "North Korea"  # type: ignore[union-attr]
    assert lookup("us") is None  # the pronoun is not a country
    assert lookup("AFP").label == "ORG"  # type: ignore[union-attr]
    assert country_of_demonym("South Korean") == "South Korea"
    assert country_of_demonym("Democrats") is None


def test_gazetteer_finds_an_agency_the_statistical_model_misses() -> None:
    doc = get_pipeline()("Officials told AFP the talks failed, and one of them later told dpa the same.")
    assert {"AFP", "dpa"} <= {e.text for e in doc.ents}


def test_a_known_name_counts_whatever_label_the_model_gave_it() -> None:
    # The statistical model tags "Yonhap" as NORP (a nationality) and "DPRK" as an organisation.
    actors = by_name(actors_of("Yonhap said the DPRK fired two missiles on Sunday."))
    assert actors["Yonhap"].kind == "organization"
    assert actors["North Korea"].kind == "place"
