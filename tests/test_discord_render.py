"""Discord embeds for briefings: every limit holds for huge input, dates read as words, text stays text."""

from __future__ import annotations

from datetime import date

from adapters.discordbot.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    briefing_embed,
    cut,
    embed_size,
    notice_content,
    units,
)
from bot.chat.model import Notice
from bot.models import Actor, Briefing, DateMention

URL = "https://www.harbour-news.example/2024/05/ferry-terminal-reopens"


def small_briefing() -> Briefing:
    return Briefing(
        title="Ferry terminal reopens after storm repairs",
        url=URL,
        published=date(2024, 5, 14),
        summary=[
            "The north ferry terminal reopened on Tuesday after six weeks of repairs.",
            "The port authority said crossings would run hourly from June.",
        ],
        actors=[
            Actor("Port Authority of Westhaven", "organization", 4),
            Actor("Maria Lindqvist", "person", 2),
            Actor("Westhaven", "place", 3),
        ],
        dates=[
            DateMention("Tuesday", "2024-05-14", 40, 47),
            DateMention("from June", "2024-06", 120, 129),
            DateMention("on 14 May", "2024-05-14", 200, 209),  # same date again: shown once
        ],
    )


def huge_briefing() -> Briefing:
    sentence = "Officials said the harbour's outer wall, battered by winter gales, needs rebuilding 🌊. "
    return Briefing(
        title="Storm damage " * 60,
        url=URL,
        published=date(2024, 5, 14),
        summary=[sentence * 30 for _ in range(12)],
        actors=[Actor(f"Committee number {i} " * 8, "organization", 1) for i in range(40)],
        dates=[DateMention("the day " * 40, f"2024-05-{day:02d}", 0, 5) for day in range(1, 29)],
    )


def test_a_small_briefing_shows_title_link_summary_fields_and_footer() -> None:
    embed = briefing_embed(small_briefing())
    assert embed.title == "Ferry terminal reopens after storm repairs"
    assert embed.url == URL
    assert embed.description is not None
    assert embed.description.splitlines() == [
        "• The north ferry terminal reopened on Tuesday after six weeks of repairs.",
        "• The port authority said crossings would run hourly from June.",
    ]
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Key actors"].splitlines() == [
        "**Port Authority of Westhaven** — organization",
        "**Maria Lindqvist** — person",
        "**Westhaven** — place",
    ]
    assert fields["Key dates"].splitlines() == [
        "**14 May 2024** (`2024-05-14`): “Tuesday”",
        "**June 2024** (`2024-06`): “from June”",
    ]
    assert embed.footer.text == "harbour-news.example · published 14 May 2024 · briefed by briefbot"


def test_a_huge_briefing_is_cut_to_every_limit_never_rejected() -> None:
    embed = briefing_embed(huge_briefing(), max_actors=40, max_dates=28)
    assert embed.title is not None and units(embed.title) <= TITLE_LIMIT
    assert embed.title.endswith("…")
    assert embed.description is not None and 0 < units(embed.description) <= DESCRIPTION_LIMIT
    assert len(embed.fields) <= 25
    assert all(field.value and units(field.value) <= FIELD_VALUE_LIMIT for field in embed.fields)
    assert embed.footer.text is not None and units(embed.footer.text) <= FOOTER_LIMIT
    assert embed_size(embed) <= EMBED_TOTAL_LIMIT
    # Whole lines are kept rather than cut: every actor line is complete.
    actors = next(field.value for field in embed.fields if field.name == "Key actors")
    assert actors is not None and all(line.endswith("— organization") for line in actors.splitlines())


def test_one_sentence_longer_than_the_description_is_cut_with_an_ellipsis() -> None:
    briefing = small_briefing()
    briefing.summary = ["word " * 2000]
    embed = briefing_embed(briefing)
    assert embed.description is not None
    assert embed.description.startswith("• word word")
    assert embed.description.endswith("word…")
    assert units(embed.description) <= DESCRIPTION_LIMIT


def test_article_markdown_is_shown_as_text() -> None:
    briefing = small_briefing()
    briefing.title = "**Breaking** news"
    briefing.summary = ["Click [here](https://evil.example) for *free* ferry tickets."]
    embed = briefing_embed(briefing)
    assert embed.title == "\\*\\*Breaking\\*\\* news"
    assert embed.description is not None
    assert "\\[here](https://evil.example)" in embed.description
    assert "\\*free\\*" in embed.description


def test_a_briefing_without_title_url_or_extras_still_renders() -> None:
    embed = briefing_embed(Briefing(title=None, url=None, published=None, summary=["Only text."]))
    assert embed.title == "Briefing"
    assert embed.url is None
    assert embed.fields == []
    assert embed.footer.text == "briefed by briefbot"


def test_week_dates_read_as_words() -> None:
    briefing = small_briefing()
    briefing.dates = [DateMention("next week", "2024-W21", 0, 9)]
    embed = briefing_embed(briefing)
    dates = next(field.value for field in embed.fields if field.name == "Key dates")
    assert dates == "**week of 20 May 2024** (`2024-W21`): “next week”"


def test_cut_counts_utf16_units_and_never_leaves_a_dangling_backslash() -> None:
    assert cut("short", 10) == "short"
    emoji = "🌊" * 10  # 20 UTF-16 units
    assert units(cut(emoji, 9)) <= 9
    assert cut("abc\\\\\\*def", 7) in ("abc\\\\…", "abc…")
    assert not cut("abcdef\\*ghij", 8).endswith("\\…")


def test_notices_fit_in_a_message() -> None:
    assert notice_content(Notice("Done.")) == "Done."
    assert units(notice_content(Notice("x" * 5000))) <= CONTENT_LIMIT
