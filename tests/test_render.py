from datetime import date

import pytest

from bot.models import Actor, Briefing, DateMention
from bot.render import format_text, human_date, key_dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-09-09", "9 September 2021"),
        ("2021-01", "January 2021"),
        ("2021", "2021"),
        ("2021-W36", "week of 6 September 2021"),
        ("PAST_REF", "PAST_REF"),
    ],
)
def test_human_date(value: str, expected: str) -> None:
    assert human_date(value) == expected


def _briefing() -> Briefing:
    return Briefing(
        title="Ferry strike ends",
        url="https://news.example/ferry",
        published=date(2024, 5, 2),
        summary=["The strike ended on Monday.", "Ferries run again."],
        actors=[Actor("Finland", "place", 3), Actor("Aino Virtanen", "person", 2)],
        dates=[
            DateMention("Monday", "2024-04-29", 19, 25),
            DateMention("April 29", "2024-04-29", 80, 88),
            DateMention("May", "2024-05", 90, 93),
        ],
    )


def test_key_dates_keep_the_first_mention_of_each_value() -> None:
    assert [d.text for d in key_dates(_briefing(), 5)] == ["Monday", "May"]


def test_dates_that_repeat_the_publication_date_give_way_when_space_is_short() -> None:
    briefing = _briefing()
    briefing.dates = [
        DateMention("this year", "2024", 5, 14),
        DateMention("today", "2024-05-02", 20, 25),
        DateMention("Monday", "2024-04-29", 30, 36),
        DateMention("in 2019", "2019", 40, 47),
        DateMention("this week", "2024-W18", 50, 59),
    ]
    assert [d.text for d in key_dates(briefing, 2)] == ["Monday", "in 2019"]
    assert [d.text for d in key_dates(briefing, 3)] == ["this year", "Monday", "in 2019"]
    assert len(key_dates(briefing, 10)) == 5


def test_text_briefing_shows_every_part() -> None:
    text = format_text(_briefing())
    assert text.startswith("Ferry strike ends\nhttps://news.example/ferry · published 2024-05-02")
    assert "• The strike ended on Monday." in text
    assert "Key actors: Finland (place), Aino Virtanen (person)" in text
    assert "29 April 2024 (2024-04-29): “Monday”" in text
    assert text.endswith("Source: https://news.example/ferry")
