"""Key dates: granularity, relative resolution, tense, false friends and offsets, on sentences of our own."""

from datetime import date
from pathlib import Path

import pytest

from bot.dates import find_dates
from bot.models import DateMention
from bot.nlp import get_pipeline

SEED = Path(__file__).resolve().parents[2] / "shared/examples/seed_article.txt"  # beside every checkout
PUBLISHED = date(2021, 9, 1)  # a Wednesday, in ISO week 2021-W35


def dates_in(text: str, published: date = PUBLISHED) -> list[DateMention]:
    return find_dates(get_pipeline()(text), published)


def values(text: str, published: date = PUBLISHED) -> dict[str, str]:
    return {m.text: m.value for m in dates_in(text, published)}


def test_seed_article_golden_case() -> None:
    text = SEED.read_text(encoding="utf-8")
    found = dates_in(text)
    by_text = {m.text: m.value for m in found}
    assert by_text["September 9"] == "2021-09-09"
    assert by_text["January 2021"] == "2021-01"
    assert by_text["Last October"] == "2020-10"
    assert by_text["August"] == "2021-08"
    assert by_text["June"] == "2021-06"
    assert by_text["next week"] == "2021-W36"
    assert not any("8th" in m.text or m.text.lower() == "may" for m in found)
    for mention in found:
        assert text[mention.start : mention.end] == mention.text
    spans = [(m.start, m.end) for m in found]
    assert spans == sorted(set(spans))


def test_each_granularity() -> None:
    found = values("The plant opened in 2019, was sold in January 2020 and closed on 3 March 2021.")
    assert found == {"2019": "2019", "January 2020": "2020-01", "3 March 2021": "2021-03-03"}


def test_relative_dates_resolve_against_publication() -> None:
    found = values(
        "Two years ago the union struck. Yesterday it voted again, and this month it will sign. "
        "Last year's deal was the model."
    )
    assert found["Two years ago"] == "2019"
    assert found["Yesterday"] == "2021-08-31"
    assert found["this month"] == "2021-09"
    assert found["Last year"] == "2020"


def test_relative_dates_across_a_year_boundary() -> None:
    found = values(
        "The deal was signed in December and talks resume next month. Last week was calm.", date(2021, 1, 5)
    )
    assert found == {"December": "2020-12", "next month": "2021-02", "Last week": "2020-W53"}


def test_last_and_next_month_names() -> None:
    found = values("Sales fell last October and should recover next March.", date(2021, 9, 1))
    assert found == {"last October": "2020-10", "next March": "2022-03"}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The ministers will meet on Friday to sign the treaty.", "2021-09-03"),
        ("The minister resigned on Friday after the vote.", "2021-08-27"),
        ("Police said Monday that two men were arrested.", "2021-08-30"),
    ],
)
def test_weekday_follows_the_tense(sentence: str, expected: str) -> None:
    assert [m.value for m in dates_in(sentence)] == [expected]


def test_weekday_on_publication_day_is_that_day() -> None:
    assert values("The government said Wednesday it would act.") == {"Wednesday": "2021-09-01"}


def test_day_without_year_takes_the_nearest_year_in_the_right_tense() -> None:
    assert values("The summit ended on Jan. 12.", date(2021, 9, 1)) == {"Jan. 12": "2021-01-12"}
    assert values("The summit will open on Jan. 12.", date(2021, 9, 1)) == {"Jan. 12": "2022-01-12"}


def test_weekday_before_a_date_picks_the_year() -> None:
    # 25 April was a Saturday in 2020, not in 2021: the weekday outweighs nearness to publication.
    assert values("Fans queued on Saturday, April 25 for the reopening.", date(2021, 3, 1)) == {
        "Saturday, April 25": "2020-04-25"
    }


def test_month_with_relative_year() -> None:
    assert values("The strike began in June last year.") == {"June last year": "2020-06"}


def test_may_the_verb_ordinals_and_counts_are_not_dates() -> None:
    text = "Officials may meet again and prices may fall. The 8th round of talks took one day."
    assert dates_in(text) == []


def test_march_the_verb_is_not_a_month() -> None:
    assert dates_in("Thousands of protesters will March on the capital, organisers said.") == []


def test_durations_are_not_dates() -> None:
    assert dates_in("The talks lasted three years. He stayed for two weeks in the city.") == []


def test_decades_quarters_and_seasons_are_skipped() -> None:
    assert dates_in("The company grew in the 1990s, in the first quarter and this summer.") == []


def test_page_furniture_lines_are_skipped() -> None:
    text = "Updated: Sept. 1, 2021\nThe company said on Monday that it would cut jobs."
    assert values(text) == {"Monday": "2021-08-30"}


def test_several_dates_in_one_entity_each_with_exact_offsets() -> None:
    text = "The offer, extended from Sept. 14 to Sept. 28, 2021, was accepted."
    found = dates_in(text)
    for mention in found:
        assert text[mention.start : mention.end] == mention.text
    assert {m.value for m in found} >= {"2021-09-14", "2021-09-28"}


def test_numeric_dates() -> None:
    assert values("Prices were cut on 2021-03-05 and again on 12/01/2021.") == {
        "2021-03-05": "2021-03-05",
        "12/01/2021": "2021-12-01",
    }


def test_same_span_is_reported_once_and_in_order() -> None:
    text = "On Friday, prices rose. In March 2020 they fell; by March 2021 they were back."
    found = dates_in(text)
    assert [m.start for m in found] == sorted(m.start for m in found)
    assert len({(m.start, m.end) for m in found}) == len(found)
    assert [m.value for m in found if m.text.startswith("March")] == ["2020-03", "2021-03"]
