"""The whole pipeline on one article at a time, in-process (no fetching)."""

from datetime import date
from pathlib import Path

import pytest

from bot.briefing.pipeline import brief_source
from bot.config import Settings
from bot.errors import BadInputError, NotAnArticleError, TooShortError, UnsupportedLanguageError
from bot.models import Briefing, Source

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "examples" / "seed_article.txt"  # beside every checkout; not ours to copy
EXAMPLE = ROOT / "examples" / "harbour_tunnel.html"


def _names(briefing: Briefing) -> set[str]:
    return {name for actor in briefing.actors for name in (actor.name, *actor.aliases)}


def _values(briefing: Briefing) -> set[str]:
    return {d.value for d in briefing.dates}


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed(seed_text: str) -> Briefing:
    return brief_source(Source(text=seed_text, published=date(2021, 9, 1)), Settings())


def test_seed_article_actors(seed: Briefing) -> None:
    names = _names(seed)
    for expected in ("South Korea", "Japan", "North Korea", "Pyongyang", "Reuters", "Kyodo News"):
        assert expected in names
    assert {"US", "United States"} <= names
    assert names & {"Workers’ Party of Korea", "Workers' Party of Korea", "the Workers’ Party of Korea"}
    us = [a for a in seed.actors if "US" in (a.name, *a.aliases)]
    assert len(us) == 1, "US and United States are one actor"
    assert us[0].kind == "place"
    assert us[0].mentions >= 8
    for noise in ("Photo 1", "Leave a Comment", "REUTERS/KCNA", "North"):
        assert noise not in names


def test_seed_article_dates(seed: Briefing, seed_text: str) -> None:
    assert {"2021-09-09", "2021-01", "2020-10", "2021-08", "2021-06"} <= _values(seed)
    for mention in seed.dates:
        assert seed_text[mention.start : mention.end] == mention.text
    assert [d.start for d in seed.dates] == sorted(d.start for d in seed.dates)


def test_seed_article_summary(seed: Briefing, seed_text: str) -> None:
    assert seed.title == seed_text.splitlines()[0]
    assert 1 <= len(seed.summary) <= 3
    assert sum(len(s) for s in seed.summary) <= 700
    flat = " ".join(seed_text.split())
    positions = [flat.find(s) for s in seed.summary]
    assert all(p >= 0 for p in positions), "summary sentences are whole sentences of the text"
    assert positions == sorted(positions), "in article order"
    for furniture in ("Photo", "Leave a Comment", seed.title):
        assert all(furniture not in s for s in seed.summary)


def test_own_example_page() -> None:
    briefing = brief_source(Source(html=EXAMPLE.read_text(encoding="utf-8")), Settings())
    assert briefing.title == "Helsinki and Tallinn sign deal to study undersea rail tunnel"
    assert briefing.published == date(2026, 3, 12)
    assert {"Finland", "Estonia", "Helsinki", "Tallinn", "Aino Virtanen", "Kalle Tamm"} <= _names(briefing)
    people = {a.name: a for a in briefing.actors if a.kind == "person"}
    assert people["Aino Virtanen"].mentions >= 3, "'Virtanen' alone counts as Aino Virtanen"
    # "Last September" before 12 March 2026, "on 2 February", "next week", "in May", "March 2028".
    assert {"2025-09", "2026-02-02", "2026-W12", "2026-05", "2028-03", "2019"} <= _values(briefing)
    assert len(briefing.summary) == 3
    assert briefing.summary[0].startswith("Finland and Estonia signed"), "the dateline is not shown"


def test_published_argument_wins_over_page_metadata() -> None:
    html = EXAMPLE.read_text(encoding="utf-8")
    briefing = brief_source(Source(html=html, published=date(2026, 4, 1)), Settings())
    assert briefing.published == date(2026, 4, 1)


def test_summary_length_is_configurable(seed_text: str) -> None:
    settings = Settings()
    settings = type(settings)(summary=type(settings.summary)(sentences=1, max_chars=700))
    briefing = brief_source(Source(text=seed_text, published=date(2021, 9, 1)), settings)
    assert len(briefing.summary) == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", BadInputError),
        ("   \n  ", BadInputError),
        ("The minister resigned on Monday. Officials said little else.", TooShortError),
        (
            "Die Regierung hat am Montag in Berlin neue Regeln für den Verkehr beschlossen. Die Minister "
            "sagten, die Pläne würden im nächsten Jahr umgesetzt. Kritiker nannten die Entscheidung zu spät "
            "und forderten mehr Geld für Busse und Bahnen in den Städten und auf dem Land. Die Opposition "
            "will im Bundestag dagegen stimmen, sobald das Gesetz vorgelegt wird.",
            UnsupportedLanguageError,
        ),
    ],
)
def test_bad_text_gets_a_clear_error(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        brief_source(Source(text=text), Settings())


@pytest.mark.parametrize(
    "text",
    [
        "De regering heeft maandag nieuwe regels voor het verkeer aangekondigd. De ministers zeiden dat het "
        "plan volgend jaar wordt uitgevoerd, maar de oppositie wil dat de wet eerst in de Kamer komt.",
        "Pemerintah mengumumkan aturan baru untuk transportasi pada hari Senin. Para menteri mengatakan "
        "rencana itu akan diterapkan tahun depan setelah parlemen menyetujui anggaran tambahan.",
        "Правительство объявило в понедельник новые правила для транспорта. Министры заявили, что план "
        "будет выполнен в следующем году после утверждения бюджета парламентом страны.",
    ],
)
def test_other_languages_are_refused(text: str) -> None:
    with pytest.raises(UnsupportedLanguageError):
        brief_source(Source(text=text), Settings())


def test_a_short_english_results_table_is_still_briefed() -> None:
    # Few stop words (names and scores), but no other language does better: English, and worth its actors.
    text = (
        "Results of Scottish league matches on Saturday:\n"
        "Aberdeen 2 Celtic 1\nHibernian 0 Rangers 3\nDundee United 1 Motherwell 1\n"
        "Kilmarnock 2 Hearts 2\nSt Johnstone 0 Livingston 1\nRoss County 3 St Mirren 0"
    )
    briefing = brief_source(Source(text=text), Settings())
    assert briefing.summary
    assert briefing.actors


def test_a_short_wire_item_is_briefed_but_a_short_page_is_not() -> None:
    text = (
        "Armenia and Portugal drew 0-0 in a World Cup qualifier in Yerevan on Saturday, "
        "leaving both sides on one point in the group."
    )
    briefing = brief_source(Source(text=text, published=date(1996, 8, 31)), Settings())
    assert {a.name for a in briefing.actors} >= {"Armenia", "Portugal"}
    assert [d.value for d in briefing.dates] == ["1996-08-31"]
    page = f"<html><head><title>Draw</title></head><body><article><p>{text}</p></article></body></html>"
    with pytest.raises((TooShortError, NotAnArticleError)):  # on a page, little text means no article found
        brief_source(Source(html=page), Settings())


def test_pasted_text_without_a_date_takes_its_publication_stamp() -> None:
    text = (
        "By . Jane Roe . PUBLISHED: . 10:39 EST, 3 March 2014 . | . UPDATED: . 12:51 EST, 3 March 2014 . "
        "A man who robbed three banks in Ohio last week was arrested on Sunday, police said. He was caught "
        "in Columbus after a tip from a neighbour and appeared in court on Monday."
    )
    briefing = brief_source(Source(text=text), Settings())
    assert briefing.published == date(2014, 3, 3)
    assert {d.text: d.value for d in briefing.dates} == {
        "last week": "2014-W09",
        "Sunday": "2014-03-02",
        "Monday": "2014-03-03",
    }
    given = brief_source(Source(text=text, published=date(2014, 3, 5)), Settings())
    assert given.published == date(2014, 3, 5)  # the caller's date wins
