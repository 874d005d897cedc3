"""`/brief …` as values: the one grammar of the bot's commands, parsed once.

Platforms that send free text (Slack's `/brief`, mentions, the console) call `parse`; Discord builds the same
values from its slash-command options. The core handles a `Command`; no adapter reads command words itself.
Adding a command: a dataclass here (its words in `read`, listed in `_COMMANDS`, a line in HELP) and its
handler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar, Self

from bot.chat.links import find_links
from bot.chat.model import Mention

_OPTION = re.compile(r"\s--(digest|mention)\s+(\S+)\s*$")  # a trailing `--name value` of subscribe

# What `Help` answers where commands are typed (Discord, with its own slash commands, has its own).
HELP = """\
*briefbot* turns news articles into short briefings: a summary, the key actors and the key dates.
• Paste a link in a channel: I answer in its thread (when automatic briefings are on here).
• `/brief <link>` or `/brief <pasted text>`: a briefing for everyone in the channel.
• Mention me with a link: same as /brief.
• `/brief auto on` / `/brief auto off` / `/brief auto`: automatic briefings of pasted links in this channel.
• `/brief subscribe <query> [--digest daily@08:00] [--mention @here|@group]`: a briefing here for every new
  story that matches, e.g. `/brief subscribe "North Korea" (missile OR launch) -sports actor:"Kim Jong Un"`.
• `/brief subscriptions`, `/brief unsubscribe <number>`: list and remove them.
• `/brief sources`, `/brief source add <feed url>`, `/brief source remove <feed url>`: the feeds watched here.
• `/brief help`: this message. Errors are shown only to you."""


@dataclass(frozen=True, slots=True)
class Help:
    needs_manager: ClassVar[bool] = False

    @classmethod
    def read(cls, words: list[str], rest: str) -> Self | None:
        # Only the word alone: an article that starts with "Help …" is an article.
        return cls() if len(words) == 1 and words[0].lower() in ("help", "?") else None


@dataclass(frozen=True, slots=True)
class Auto:
    """Automatic briefings of pasted links in the channel: say whether they are on, or turn them on or off."""

    value: str | None  # "on" or "off"; anything else written is refused by the handler; None asks
    needs_manager: ClassVar[bool] = False

    @classmethod
    def read(cls, words: list[str], rest: str) -> Self | None:
        if words[0].lower() != "auto" or len(words) > 2:
            return None
        return cls(words[1].lower() if len(words) == 2 else None)


@dataclass(frozen=True, slots=True)
class Subscribe:
    query: str  # as written; the handler parses it
    digest: str | None = None  # the value after `--digest`, checked by the handler
    mention_written: str | None = None  # the value after `--mention`, as the platform gave it
    mention: Mention | None = None  # who that is, when the adapter recognised a group of its platform
    needs_manager: ClassVar[bool] = True

    @classmethod
    def read(cls, words: list[str], rest: str) -> Self | None:
        return cls.of(rest) if words[0].lower() == "subscribe" else None

    @classmethod
    def of(cls, text: str) -> Self:
        """A query with optional trailing `--digest daily@HH:MM` and `--mention <who>`, in either order."""
        rest, options = " " + text, dict[str, str]()
        while (match := _OPTION.search(rest)) and match.group(1) not in options:
            options[match.group(1)] = match.group(2)
            rest = rest[: match.start()]
        return cls(rest.strip(), options.get("digest"), options.get("mention"))


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    target: str  # a subscription's number ("3" or "#3") or its query
    needs_manager: ClassVar[bool] = True

    @classmethod
    def read(cls, words: list[str], rest: str) -> Self | None:
        return cls(rest) if words[0].lower() == "unsubscribe" and len(words) >= 2 else None


@dataclass(frozen=True, slots=True)
class ListSubscriptions:
    needs_manager: ClassVar[bool] = False

    @classmethod
    def read(cls, words: list[str], rest: str) -> Self | None:
        return cls() if [word.lower() for word in words] == ["subscriptions"] else None


@dataclass(frozen=True, slots=True)
class ListSources:
    needs_manager: ClassVar[bool] = False

    @classmethod
    def read(cls, words: list[str], rest: str) -> Self | None:
        return cls() if [word.lower() for word in words] == ["sources"] else None


@dataclass(frozen=True, slots=True)
class _SourceCommand:
    """`source add|remove <feed url or catalogue name>`: one of the channel's own feeds."""

    source: str | None  # a link as written or a source's name; None: the handler shows the usage
    action: ClassVar[str]
    needs_manager: ClassVar[bool] = True

    @classmethod
    def read(cls, words: list[str], rest: str) -> Self | None:
        if words[0].lower() != "source" or len(words) < 2 or words[1].lower() != cls.action:
            return None
        return cls.of(rest[len(words[1]) :])

    @classmethod
    def of(cls, text: str) -> Self:
        links = find_links(text, 1)
        if links:
            return cls(links[0])
        words = text.split()
        return cls(words[0] if words else None)


@dataclass(frozen=True, slots=True)
class AddSource(_SourceCommand):
    action: ClassVar[str] = "add"


@dataclass(frozen=True, slots=True)
class RemoveSource(_SourceCommand):
    action: ClassVar[str] = "remove"


@dataclass(frozen=True, slots=True)
class BriefUrl:
    url: str
    needs_manager: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class BriefText:
    text: str
    needs_manager: ClassVar[bool] = False


AlertCommand = Subscribe | Unsubscribe | ListSubscriptions | ListSources | AddSource | RemoveSource
Command = Help | Auto | AlertCommand | BriefUrl | BriefText

_COMMANDS = (Help, Auto, Subscribe, Unsubscribe, ListSubscriptions, ListSources, AddSource, RemoveSource)


def parse(text: str) -> Command:
    """What `/brief <text>` asks for. Anything not shaped like a command is something to brief: a link with
    a word or two around it ("<url> please") is that link, anything longer is pasted text."""
    words = text.split()
    if not words:
        return Help()
    rest = text.strip()[len(words[0]) :].strip()  # the text after the command word, as written
    for kind in _COMMANDS:
        if (command := kind.read(words, rest)) is not None:
            return command
    links = find_links(text, 1)
    return BriefUrl(links[0]) if links and len(words) <= 3 else BriefText(text)


def with_group_mention(command: Command, group_of: Callable[[str], Mention | None]) -> Command:
    """A subscribe's `--mention` resolved by the adapter, which alone knows its platform's mention markup
    (`group_of` maps what was written to a group, or None). `@here` needs no adapter: the handler knows it."""
    if isinstance(command, Subscribe) and command.mention_written and command.mention is None:
        return replace(command, mention=group_of(command.mention_written))
    return command


def parse_mention(text: str, max_links: int) -> list[Command]:
    """What "@briefbot <text>" asks for, on every platform. People write "@briefbot can you brief <link>
    please?": the links are the request, whatever the words around them. With no link it reads like /brief."""
    links = find_links(text, max_links)
    return [BriefUrl(link) for link in links] if links else [parse(text)]
