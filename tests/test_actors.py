"""Key actors on the seed article and on short texts written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.tokens import Doc

from bot.briefing.actors import find_actors
from bot.briefing.gazetteer import country_of_demonym, lookup
from bot.briefing.nlp import get_pipeline
from bot.models import Actor, Sentence

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


# Issue 6: the named cases, on short made-up texts. Where the rule under test corrects the statistical
# model, `doc_with` sets the (wrong) entities the model might give, so the test does not hang on its guesses.


def doc_with(text: str, *ents: tuple[str, str]) -> Doc:
    """`text` with exactly these (surface, label) entities, each found after the previous one."""
    doc = get_pipeline().make_doc(text)
    spans, end = [], 0
    for surface, label in ents:
        start = text.index(surface, end)
        end = start + len(surface)
        span = doc.char_span(start, end, label=label)
        assert span is not None, surface
        spans.append(span)
    doc.ents = spans
    return doc


def names_of(actors: list[Actor]) -> set[str]:
    return {n for a in actors for n in (a.name, *a.aliases)}


def test_photo_captions_comment_links_and_bylines_never_become_actors() -> None:
    text = (
        "By Jane Smith, CNN\n\nPhoto 1\n\nNorth Korea fired two missiles on Sunday, officials in Seoul "
        "said.\n\nLeave a Comment"
    )
    forced = doc_with(
        text,
        *[("Jane Smith", "PERSON"), ("CNN", "ORG"), ("Photo 1", "ORG"), ("North Korea", "GPE")],
        *[("Seoul", "GPE"), ("Leave a Comment", "ORG")],
    )
    for actors in (actors_of(text), find_actors(forced)):
        assert {a.name for a in actors} == {"North Korea", "Seoul"}


def test_a_short_name_that_fits_two_people_joins_neither() -> None:
    doc = doc_with(
        "Anna Smith and John Smith both ran for mayor. Smith said the race was close.",
        *[("Anna Smith", "PERSON"), ("John Smith", "PERSON"), ("Smith", "PERSON")],
    )
    assert sorted((a.name, a.mentions) for a in find_actors(doc)) == [
        ("Anna Smith", 1),
        ("John Smith", 1),
        ("Smith", 1),
    ]


def test_a_short_name_takes_the_person_kind_of_the_full_name() -> None:
    doc = doc_with(
        "Youri Kovac scored twice on Sunday. Kovac now leads the table and Kovac will start on Friday.",
        *[("Youri Kovac", "PERSON"), ("Kovac", "ORG"), ("Kovac", "ORG")],
    )
    assert [(a.name, a.kind, a.aliases) for a in find_actors(doc)] == [("Youri Kovac", "person", ("Kovac",))]


def test_the_united_nations_and_the_un_are_one_actor() -> None:
    actors = actors_of(
        "The United Nations called for calm on Monday. A spokesman for the UN said aid convoys were waiting."
    )
    assert [(a.name, a.kind, a.mentions, a.aliases) for a in actors] == [
        ("United Nations", "organization", 2, ("UN",))
    ]


def test_an_acronym_in_brackets_is_an_alias_of_the_long_name() -> None:
    ecb = actors_of("The European Central Bank (ECB) raised rates on Thursday. The ECB said prices rose.")
    assert [(a.name, a.mentions, a.aliases) for a in ecb] == [("European Central Bank", 3, ("ECB",))]
    # Not in the gazetteer: merged by its initials and named by the long form, though the acronym is
    # used more often.
    psc = actors_of(
        "The Pacific Salmon Commission (PSC) met in Vancouver. The PSC said stocks had recovered."
    )
    assert ("Pacific Salmon Commission", "organization", ("PSC",)) in [
        (a.name, a.kind, a.aliases) for a in psc
    ]


def test_kinds_of_countries_cities_companies_and_people() -> None:
    actors = actors_of(
        "Toyota Motor Corp said on Tuesday it would build a plant in Ohio. Angela Merkel met Emmanuel Macron "
        "in Paris, and Germany welcomed the deal."
    )
    assert {a.name: a.kind for a in actors} == {
        "Toyota Motor Corp": "organization",
        "Ohio": "place",
        "Angela Merkel": "person",
        "Emmanuel Macron": "person",
        "Paris": "place",
        "Germany": "place",
    }


def test_cues_in_and_around_a_name_override_a_wrong_label() -> None:
    text = (
        "Kestrel Holdings and the Bank of Lisbon backed the deal. H. Lindqvist took three wickets.\n"
        "Sofia Ricci ( Italy ) beat Ines Duarte ( Portugal ) 6-3 6-4"
    )
    doc = doc_with(
        text,
        *[("Kestrel Holdings", "PERSON"), ("Bank of Lisbon", "GPE"), ("H. Lindqvist", "ORG")],
        *[("Sofia Ricci", "ORG"), ("Italy", "GPE"), ("Ines Duarte", "PERSON"), ("Portugal", "GPE")],
    )
    assert {a.name: a.kind for a in find_actors(doc)} == {
        "Kestrel Holdings": "organization",
        "Bank of Lisbon": "organization",
        "H. Lindqvist": "person",
        "Sofia Ricci": "person",
        "Ines Duarte": "person",
        "Italy": "place",
        "Portugal": "place",
    }


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("WASHINGTON (Reuters) - The Senate passed the bill on Monday.", "Washington"),
        ("LISBON, March 2 (Reuters) - Portugal's prime minister resigned.", "Lisbon"),
        ("NEW YORK — The mayor said on Monday that the subway would run all night in the storm.", "New York"),
        ("Harbour deal signed\nST. LOUIS 2024-03-02\nThe council approved the plan.", "St. Louis"),
    ],
)
def test_the_dateline_place_is_a_place_actor(text: str, place: str) -> None:
    assert (place, "place") in [(a.name, a.kind) for a in actors_of(text)]


def test_a_headline_topic_or_slug_is_not_a_dateline() -> None:
    actors = actors_of(
        "SOCCER - LEADERS HELD TO DRAW IN THE CAPITAL ON SATURDAY NIGHT .\n"
        "EXCLUSIVE — Officials in the ministry say the plan will be dropped after the vote next week.\n"
    )
    assert not {"soccer", "exclusive"} & {n.casefold() for n in names_of(actors)}


def test_capitals_headline_run_ons_are_dropped_but_known_names_stay() -> None:
    text = "MARLINS BEAT REDS IN NORTH KOREA\nThe Marlins beat the Reds 4-2 in a friendly in Pyongyang."
    doc = doc_with(text, ("MARLINS BEAT REDS", "ORG"), ("NORTH KOREA", "GPE"), ("Pyongyang", "GPE"))
    assert {a.name for a in find_actors(doc)} == {"North Korea", "Pyongyang"}


def test_run_ons_across_lines_commas_scores_and_headline_dashes_are_cut() -> None:
    text = "GOLF - JAPAN\nAtlanta 5 Pittsburgh 3\nPlayed at the Oval, London, before Ken\nGreen arrived."
    doc = doc_with(
        text,
        *[("GOLF - JAPAN", "ORG"), ("Atlanta 5 Pittsburgh 3", "ORG")],
        *[("Oval, London", "FAC"), ("Ken\nGreen", "PERSON")],
    )
    assert {(a.name, a.kind) for a in find_actors(doc)} == {
        ("Japan", "place"),
        ("Atlanta", "organization"),
        ("Pittsburgh", "organization"),
        ("Oval", "place"),
        ("London", "place"),
        ("Ken", "person"),
        ("Green", "person"),
    }


def test_names_lose_list_numbers_descriptions_ordinals_and_leading_dates() -> None:
    text = "4. Emilio Valle won. Kestrel news agency said Roberto Carlos 79th scored. August Acme Index fell."
    doc = doc_with(
        text,
        *[("4. Emilio Valle", "PERSON"), ("Kestrel news agency", "ORG")],
        *[("Roberto Carlos 79th", "PERSON"), ("August Acme Index", "ORG")],
    )
    assert {a.name for a in find_actors(doc)} == {"Emilio Valle", "Kestrel", "Roberto Carlos", "Acme Index"}


def test_events_and_peoples_are_not_actors() -> None:
    text = "Kurds and Chechens marched in Grozny before the Harbour City Open and the World Cup."
    doc = doc_with(
        text,
        *[("Kurds", "NORP"), ("Chechens", "ORG"), ("Grozny", "GPE")],
        *[("Harbour City Open", "LOC"), ("World Cup", "ORG")],
    )
    assert [a.name for a in find_actors(doc)] == ["Grozny"]


def test_a_byline_flattened_into_the_first_line_is_not_an_actor() -> None:
    text = (
        "By . Daily Mail Reporter . PUBLISHED: . 10:39 EST, 3 March 2014 . A man who robbed three banks "
        "in Ohio was arrested on Sunday, police in Columbus said."
    )
    names = {a.name for a in actors_of(text)}
    assert "Daily Mail" not in names
    assert {"Ohio", "Columbus"} <= names


def test_a_number_inside_a_name_in_prose_is_part_of_it() -> None:
    # Scores split names only in results lines ("Atlanta 5 Pittsburgh 3"), never "Channel 4 News".
    names = {a.name for a in actors_of("Channel 4 News reported that the minister resigned in London.")}
    assert "Channel 4 News" in names
    assert not names & {"Channel", "News"}


def kinds(text: str) -> dict[str, str]:
    return {actor.name: actor.kind for actor in actors_of(text)}


def test_clubs_named_after_places_on_a_results_line_are_organizations() -> None:
    text = (
        "SOCCER - SCOTTISH LEAGUE RESULTS .\nGLASGOW 1996-08-31\nResults of Scottish league matches on "
        "Saturday :\nDivision one\nGreenock Morton 1 Falkirk 0\nPartick 1 St Mirren 1\nStirling 1 Dundee 1\n"
        "Falkirk have now played four games in the league this season and lead the division.\n"
    )
    found = kinds(text)
    assert {found.get(club) for club in ("Falkirk", "Partick", "St Mirren")} == {"organization"}, found
    assert found.get("Glasgow") == "place", "the dateline is the town"


def test_countries_and_a_non_sports_table_stay_places() -> None:
    sports = (
        "SOCCER - INTERNATIONAL FRIENDLY RESULTS .\nLONDON 1996-08-31\nResults of friendly matches played on "
        "Saturday :\nEngland 2 Scotland 1\nWales 0 Ireland 3\nThe teams meet again in the cup next season, "
        "when England will travel to Scotland for the match in Glasgow.\n"
    )
    assert {kinds(sports).get(n) for n in ("England", "Scotland")} == {"place"}
    election = (
        "Electoral votes counted by state on Wednesday night, officials said:\nOhio 18 Florida 29\n"
        "Texas 38 Georgia 16\nThe governor said the count would be certified next week in every state.\n"
    )
    assert {kinds(election).get(n) for n in ("Ohio", "Florida", "Texas")} == {"place"}


def test_in_a_sports_story_a_place_that_beats_or_plays_against_another_is_a_team() -> None:
    text = (
        "CRICKET - LEICESTERSHIRE TAKE OVER AT TOP AFTER INNINGS VICTORY .\nLONDON 1996-08-30\n"
        "West Indian all-rounder Phil Simmons took four for 38 on Friday as Leicestershire beat Somerset "
        "by an innings and 39 runs in two days to take over at the head of the county championship.\n"
        "Their match against Somerset was the fourth win of the season for the team.\n"
    )
    found = kinds(text)
    assert found.get("Leicestershire") == "organization", found
    assert found.get("Somerset") == "organization", found
    assert found.get("London") == "place", "the dateline is the town"
    assert found.get("Phil Simmons") == "person"


def test_every_team_of_a_league_table_is_an_organization_even_where_the_ner_saw_no_name() -> None:
    # On lines of numbers the NER misses most names or calls a town a person ("Hamilton").
    text = (
        "SOCCER - SCOTTISH LEAGUE STANDINGS .\nLONDON 1996-08-31\nScottish league standings after "
        "Saturday 's matches ( tabulated - played , won , drawn , lost , goals , points ) :\n"
        "Division two\nLivingston 3 3 0 0 6 2 9\nCowdenbeath 3 1 1 1 3 3 4\nHamilton 3 1 1 1 3 2 4\n"
        "Stranraer 3 1 1 1 3 3 4\nBrechin 3 0 3 0 2 2 3\n"
    )
    found = kinds(text)
    clubs = ("Livingston", "Cowdenbeath", "Hamilton", "Stranraer", "Brechin")
    assert {found.get(club) for club in clubs} == {"organization"}, found


def test_a_player_with_a_full_name_on_a_scores_line_stays_a_person() -> None:
    text = (
        "GOLF - LEADING SCORES AT THE WORLD SERIES .\nAKRON , Ohio 1996-08-23\nLeading scores after the "
        "second round of the World Series of Golf tournament on Friday ( par 70 ) :\n"
        "Tom Lehman 68 70 138\nPhil Mickelson 70 69 139\nBilly Mayfair 69 71 140\n"
        "Lehman leads the tournament by one shot from Mickelson after two rounds of the last event.\n"
    )
    found = kinds(text)
    assert {found.get(n) for n in ("Tom Lehman", "Phil Mickelson")} == {"person"}, found
