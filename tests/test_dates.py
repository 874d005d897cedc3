"""Key dates: granularity, relative resolution, tense, false friends and offsets, on sentences of our own."""

import functools
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from bot.briefing.dates import find_dates, stamped_publication
from bot.briefing.nlp import get_pipeline
from bot.models import DateMention

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
    found = values("The plant opened in 2019, was sold in March 2020 and closed on 3 March 2021.")
    assert found == {"2019": "2019", "March 2020": "2020-03", "3 March 2021": "2021-03-03"}


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
    ("published", "expected"),
    [(date(2021, 9, 1), "2020-10"), (date(2021, 12, 15), "2021-10"), (date(2021, 10, 20), "2020-10")],
)
def test_last_october_before_or_after_the_publication_month(published: date, expected: str) -> None:
    assert values("Sales fell last October.", published) == {"last October": expected}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The strike ended on Friday.", "2021-08-27"),
        ("The union will strike on Friday.", "2021-09-03"),
        ("The union said on Friday it had struck.", "2021-08-27"),
    ],
)
def test_on_friday_by_tense(sentence: str, expected: str) -> None:
    assert values(sentence) == {"Friday": expected}


def test_next_week_is_an_iso_week() -> None:
    assert values("The talks resume next week.") == {"next week": "2021-W36"}


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


@pytest.mark.parametrize("decade", ["the 1990s", "the late 1990s", "the mid-1990s", "the '90s", "the 1990's"])
def test_a_decade_is_not_a_precise_date(decade: str) -> None:
    assert dates_in(f"Sales boomed in {decade}, the company said.") == []


@pytest.mark.parametrize(
    "furniture",
    [
        "Updated: Sept. 1, 2021",
        "Updated 10:32 GMT, Wednesday 1 September 2021",
        "Published: 1 September 2021",
        "By Jane Doe | Updated Sept. 1, 2021, 10:32 a.m.",
        "© 2021 Example News. All rights reserved.",
        "Copyright 2021 Example News",
    ],
)
def test_page_furniture_is_not_a_key_date(furniture: str) -> None:
    story = "The company said on Monday that it would cut jobs."
    assert values(f"{furniture}\n{story}") == {"Monday": "2021-08-30"}
    assert values(f"{story}\n{furniture}") == {"Monday": "2021-08-30"}  # anywhere, not only the first line


def test_a_date_after_published_in_a_sentence_is_news() -> None:
    assert values("The report, published in 2019, was withdrawn on Monday.") == {
        "2019": "2019",
        "Monday": "2021-08-30",
    }


def test_a_wire_datelines_day_anchors_relative_dates() -> None:
    # Written on Friday 7 August, published on Saturday the 8th: its "Friday" and "today" are the 7th.
    text = "HAVANA, August 7 (Xinhua) -- Cuba condemned the bombings on Friday and will protest today."
    found = values(text, date(1998, 8, 8))
    assert found["Friday"] == "1998-08-07"
    assert found["today"] == "1998-08-07"


@pytest.mark.parametrize("day", ["March 2", "Feb. 30"])
def test_a_dateline_far_from_publication_or_impossible_is_not_the_anchor(day: str) -> None:
    text = f"HAVANA, {day} (Xinhua) -- Cuba condemned the bombings on Friday."
    assert values(text, date(1998, 8, 8))["Friday"] == "1998-08-07"


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


def test_spans_keep_narrowing_words_as_timeml_does() -> None:
    found = values("Earlier this year the council met late Friday night and cut the budget for fiscal 2021.")
    assert found == {"Earlier this year": "2021", "late Friday night": "2021-08-27", "fiscal 2021": "2021"}


def test_a_weekday_and_its_date_split_by_spacy_are_one_date() -> None:
    # spaCy tags "Friday" and "Oct. 13" apart here; alone, "Friday" would be the Friday before publication.
    found = dates_in("Still, $14 million seeped out Friday Oct. 13 alone, the fund said.", date(2023, 10, 27))
    assert [(m.text, m.value) for m in found] == [("Friday Oct. 13", "2023-10-13")]


def test_a_cue_after_the_date_counts_only_in_its_own_clause() -> None:
    text = "The three countries issued a joint statement Friday saying that their entry will strengthen NATO."
    assert values(text) == {"Friday": "2021-08-27"}


def test_plan_as_a_noun_says_nothing_about_tense() -> None:
    assert values("The council announced the plan Aug. 21.", date(2021, 10, 27)) == {"Aug. 21": "2021-08-21"}
    assert values("The council plans to vote on Aug. 21.", date(2021, 10, 27)) == {"Aug. 21": "2022-08-21"}


def test_year_end_and_the_current_year() -> None:
    assert values("The sale should close by year-end.") == {"year-end": "2021"}
    assert values("The index has fallen 4% since year-end.") == {"year-end": "2020"}
    assert values("Sales will rise in the current fiscal year.") == {"the current fiscal year": "2021"}


def test_holidays_resolve_in_the_year_the_context_picks() -> None:
    text = "The boy was found on Thanksgiving Day. His father arrived last Christmas."
    assert values(text, date(2022, 1, 7)) == {
        "Thanksgiving Day": "2021-11-25",
        "last Christmas": "2021-12-25",
    }
    assert values("Voters go to the polls on Election Day.", date(2022, 10, 20)) == {
        "Election Day": "2022-11-08"
    }


def test_a_holiday_name_as_an_adjective_is_no_date() -> None:
    assert dates_in("Christmas sales were weak and Thanksgiving travel fell.") == []


def test_that_year_counts_from_a_nearby_date_with_its_year() -> None:
    text = "He fled to Florida in June 1998 and returned later that year. The following year he was jailed."
    found = values(text)
    assert found["later that year"] == "1998"
    assert found["The following year"] == "1999"


def test_a_year_earlier_without_a_nearby_year_is_the_year_before_publication() -> None:
    assert values("Profit rose to $5 million from $4 million a year earlier.") == {"a year earlier": "2020"}


def test_that_year_without_a_date_to_count_from_is_skipped() -> None:
    assert dates_in("Prices rose sharply that year, the minister said.") == []


def test_today_in_a_name_is_no_date() -> None:
    assert values("The story was first reported by USA Today on Monday.") == {"Monday": "2021-08-30"}


COPIED_PAGE = (
    "By . Jane Roe . PUBLISHED: . 10:39 EST, 3 March 2014 . | . UPDATED: . 12:51 EST, 4 March 2014 . "
    "The bridge reopened on Sunday after repairs that began last October, the city said."
)


def test_inline_time_stamps_of_a_copied_page_are_furniture() -> None:
    found = values(COPIED_PAGE, date(2014, 3, 3))
    assert "3 March 2014" not in found and "4 March 2014" not in found
    assert found["Sunday"] == "2014-03-02"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (COPIED_PAGE, date(2014, 3, 3)),
        ("Published: March 3, 2014 at 10:00\n\nThe bridge reopened on Sunday.", date(2014, 3, 3)),
        ("Posted 2019-05-07\n\nThe bridge reopened.", None),  # no colon: could be prose
        ("The report, published in 2019, said the bridge was unsafe.", None),
        ("UPDATED: 12:51 EST, 4 March 2014. The bridge reopened.", None),  # an update is not publication
    ],
)
def test_a_publication_stamp_in_pasted_text_is_found(text: str, expected: date | None) -> None:
    assert stamped_publication(text) == expected


# --- the ends of the calendar: a hostile or mistaken publication date must never raise ---

# Every relative form the rules resolve, and a wire dateline: each adds or subtracts days, weeks, months
# or years from the publication date, or looks at the years on either side of it.
EVERY_RELATIVE_FORM = (
    "WASHINGTON, January 1 (Reuters) -- Officials said on Monday they met yesterday, will meet tomorrow and "
    "met again today. They met last week, meet next week and this week. Sales rose last month and will rise "
    "next month; last year and next year too, by year-end and since the end of the year. In June last year "
    "and January next year prices rose. Last October and next March, the council met. It happened in June. "
    "On Friday, last Friday and next Monday they voted. Two years ago, 3 weeks ago, 10 days ago and 999999 "
    "days ago. It opened 1000 weeks ago and the following month it closed. Last Christmas, next Halloween, "
    "this Thanksgiving and on New Year's Eve they met. On Memorial Day, Labor Day and Election Day too. On "
    "December 31 and January 1 and Sept. 9 they met. That year, two years earlier, they had said so."
)
CALENDAR_ENDS = [
    date.min,
    date(1, 1, 7),
    date(1, 12, 31),
    date(2, 1, 1),
    date(9998, 12, 31),
    date(9999, 1, 1),
    date(9999, 12, 25),
    date.max,
]
_VALUE = r"\d{4}(-W\d\d|-\d\d(-\d\d)?)?"


def check_values(found: list[DateMention], text: str) -> None:
    for mention in found:
        assert re.fullmatch(_VALUE, mention.value), mention
        assert mention.value[:4] != "0000", mention
        assert text[mention.start : mention.end] == mention.text


@pytest.mark.parametrize("published", CALENDAR_ENDS, ids=str)
def test_relative_dates_at_the_ends_of_the_calendar_are_skipped_not_raised(published: date) -> None:
    found = dates_in(EVERY_RELATIVE_FORM, published)
    check_values(found, EVERY_RELATIVE_FORM)
    assert len(found) >= 20, "the dates that fit in the calendar are still found"


def test_what_falls_off_the_calendar_is_not_a_date() -> None:
    assert values("It ended yesterday and starts tomorrow.", date.max) == {"yesterday": "9999-12-30"}
    assert values("It ended yesterday and starts tomorrow.", date.min) == {"tomorrow": "0001-01-02"}
    assert "next year" not in values("Prices will rise next year.", date.max)
    assert "last Christmas" not in values("They met last Christmas.", date(1, 6, 1))


def test_counts_too_large_for_the_calendar_are_skipped() -> None:
    for count in ("99999999", "123456789012", "9" * 5000):  # the last is more digits than Python reads
        text = f"It began {count} days ago and {count} years ago, and {count} years earlier."
        found = dates_in(text)
        check_values(found, text)
        assert not any(count in m.text for m in found)


@settings(max_examples=150, deadline=None)
@given(published=st.dates())
def test_any_publication_date_resolves_every_relative_form(published: date) -> None:
    found = find_dates(every_form_doc(), published)  # parsed once: only the date varies
    check_values(found, EVERY_RELATIVE_FORM)


@functools.cache
def every_form_doc() -> Doc:
    return get_pipeline()(EVERY_RELATIVE_FORM)
