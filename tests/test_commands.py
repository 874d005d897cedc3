"""`parse`: the one grammar of `/brief …`, whatever the platform."""

from typing import get_args

import pytest

from bot.chat.commands import (
    HELP,
    AddSource,
    Auto,
    BriefText,
    BriefUrl,
    Command,
    Help,
    ListSources,
    ListSubscriptions,
    RemoveSource,
    Subscribe,
    Unsubscribe,
    parse,
    parse_mention,
)

LINK = "https://news.example.org/2024/harbour?id=7"
FEED = "https://feeds.example.org/rss.xml"
ARTICLE = "The harbour reopened on Tuesday after six weeks of repairs to its outer wall, officials said."


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help()),
        ("   \n ", Help()),
        ("help", Help()),
        ("  HeLp  ", Help()),
        ("?", Help()),
        ("auto", Auto(None)),
        ("auto on", Auto("on")),
        ("AUTO   Off", Auto("off")),
        ("auto maybe", Auto("maybe")),  # the handler explains the choices
        ("subscribe", Subscribe("")),  # the handler asks what to watch for
        (
            'subscribe "North Korea" (missile OR launch) -sports',
            Subscribe('"North Korea" (missile OR launch) -sports'),
        ),
        ("  Subscribe   floods  ", Subscribe("floods")),
        ("subscribe floods --digest daily@08:00", Subscribe("floods", "daily@08:00")),
        ("subscribe floods --digest  daily@7 ", Subscribe("floods", "daily@7")),  # refused by the handler
        ("subscribe floods --digest", Subscribe("floods --digest")),  # no value: part of the query
        ("subscribe floods --mention @here", Subscribe("floods", None, "@here")),
        (
            "subscribe floods --mention @oncall  --digest daily@08:00",
            Subscribe("floods", "daily@08:00", "@oncall"),
        ),
        (
            "subscribe floods --digest daily@08:00 --mention @here",
            Subscribe("floods", "daily@08:00", "@here"),
        ),
        # An option given twice: the first is part of the query, whose parser refuses "--".
        ("subscribe a --mention @x --mention @y", Subscribe("a --mention @x", None, "@y")),
        ("unsubscribe 3", Unsubscribe("3")),
        ("unsubscribe   #3", Unsubscribe("#3")),
        ('UNSUBSCRIBE "north korea" missile', Unsubscribe('"north korea" missile')),
        ("subscriptions", ListSubscriptions()),
        (" Subscriptions ", ListSubscriptions()),
        ("sources", ListSources()),
        ("SOURCES", ListSources()),
        (f"source add {FEED}", AddSource(FEED)),
        (f"Source  ADD   <{FEED}>", AddSource(FEED)),
        ("source add", AddSource(None)),  # the handler shows how to use it
        ("source add bbc-world", AddSource("bbc-world")),  # a source's name, resolved by the handler
        (f"source remove {FEED}", RemoveSource(FEED)),
        (f"source Remove {FEED} please", RemoveSource(FEED)),
    ],
)
def test_commands(text: str, command: Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "command"),
    [
        (LINK, BriefUrl(LINK)),
        (f"  {LINK}  ", BriefUrl(LINK)),
        (f"{LINK} please", BriefUrl(LINK)),
        (f"brief this: {LINK}.", BriefUrl(LINK)),  # trailing punctuation is not part of the link
        (f"<{LINK}>", BriefUrl(LINK)),
        # A link with more words around it is pasted text that happens to contain a link.
        (f"read {LINK} and tell me", BriefText(f"read {LINK} and tell me")),
        (ARTICLE, BriefText(ARTICLE)),
    ],
)
def test_links_and_text_are_briefed(text: str, command: Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "Help arrived in the flooded valley on Monday",  # "help" is a command only alone
        "help me",
        "? why",
        "auto on off",  # auto takes one value
        "Automatic doors failed at the harbour",
        "subscriptions are up this year",  # list commands take no words after them
        "Sources say the talks failed",
        "unsubscribe",  # nothing to remove: a word to brief, like any other
        "source of the river",  # source takes add or remove
        "source",
        "/brief help",  # a platform's command name is not a command word
        "frobnicate everything",
    ],
)
def test_anything_else_is_text_to_brief(text: str) -> None:
    assert parse(text) == BriefText(text)


def test_pasted_text_is_kept_exactly_as_written() -> None:
    text = f"  {ARTICLE}\n\n{ARTICLE}  "
    assert parse(text) == BriefText(text)


def test_only_commands_that_change_alerts_need_a_channel_manager() -> None:
    managed = {
        type(command).__name__
        for command in map(
            parse, ["subscribe x", "unsubscribe 1", f"source add {FEED}", f"source remove {FEED}"]
        )
        if command.needs_manager
    }
    assert managed == {"Subscribe", "Unsubscribe", "AddSource", "RemoveSource"}
    for text in ["", "auto off", "subscriptions", "sources", LINK, ARTICLE]:
        assert not parse(text).needs_manager, text


def test_help_shows_every_command() -> None:
    usages = ["help", "auto on", "subscribe <query>", "unsubscribe <number>", "subscriptions", "sources",
              "source add <feed url>", "source remove <feed url>"]  # fmt: skip
    commands = {type(parse(usage)) for usage in usages}
    assert commands == set(get_args(Command)) - {BriefUrl, BriefText}, "a command without a line in HELP"
    for usage in usages:
        assert f"`/brief {usage}" in HELP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("can you brief https://news.example/a please?", [BriefUrl("https://news.example/a")]),
        ("https://news.example/a", [BriefUrl("https://news.example/a")]),
        (
            "compare https://a.example/1 with https://b.example/2 for me, thanks a lot",
            [BriefUrl("https://a.example/1"), BriefUrl("https://b.example/2")],
        ),
        ("help", [Help()]),
        ("auto off", [Auto("off")]),
    ],
)
def test_a_mention_with_links_briefs_the_links_whatever_the_words(text: str, expected: list[object]) -> None:
    assert parse_mention(text, max_links=3) == expected


def test_a_mention_without_a_link_reads_like_brief() -> None:
    text = "The council voted on Tuesday to close the bridge to cars from next month, officials said."
    assert parse_mention(text, max_links=3) == [parse(text)]
