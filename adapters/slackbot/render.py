"""Slack markup both ways: message text → plain text for the core; replies → Block Kit within Slack's limits.

Outbound text is mrkdwn, so &, < and > are escaped everywhere they come from an article or a user; every
piece is cut to its limit here, so the API never rejects a briefing for its size.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bot.alerts.model import StoryAlert, story_header
from bot.chat.model import Mention, Notice
from bot.models import Briefing
from bot.render import TRUNCATED_NOTE, format_text, human_date, key_dates, top_actors

# Slack's documented limits (a 4000-character fallback keeps notifications readable; the hard cap is 40k).
TITLE_CHARS = 150  # the header limit: a title longer than that is no title
SECTION_CHARS = 3000
MAX_BLOCKS = 50
FALLBACK_CHARS = 4000
# A longer URL is shown unlinked: it would eat the section's budget and Slack may refuse it anyway.
MAX_LINK_CHARS = 2000
DATE_QUOTE_CHARS = 100
ALERT_QUERY_CHARS = 200  # a subscription's query in an alert header
ALSO_MAX_SOURCES = 10  # other outlets listed on one alert; the rest are counted

Message = dict[str, Any]

# <https://x|label>, <mailto:a@b|a@b>, <@U123>, <@U123|name>, <#C123|general>, <!here>, <!subteam^S1|@team>
_MARKUP = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


# ----- inbound -----------------------------------------------------------------------------------------


def _plain_token(match: re.Match[str]) -> str:
    sigil, target, label = match.groups()
    if sigil == "@":
        return f"@{label or target}"
    if sigil == "#":
        return f"#{label or target}"
    if sigil == "!":
        return f"@{(label or target).lstrip('@').split('^')[0]}"
    # A link: keep only the address. Labels are usually the address again, and "/brief <link>" must stay
    # a link for the core, not become a text of several words.
    return target.removeprefix("mailto:")


def from_slack_markup(text: str) -> str:
    """Slack message text as a person wrote it: links unwrapped, mentions readable, entities decoded."""
    plain = _MARKUP.sub(_plain_token, text)
    # Slack escapes only these three; decoding &amp; last keeps a literal "&amp;lt;" as "&lt;".
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_GROUP = re.compile(r"<!subteam\^(\w+)(?:\|([^<>]*))?>")


def group_mention(markup: str) -> Callable[[str], Mention | None]:
    """For a command's text as Slack escaped it: the user group a `--mention` written as `written` (its plain
    form, "@oncall") stands for, or None."""

    def group_of(written: str) -> Mention | None:
        for match in _GROUP.finditer(markup):
            if from_slack_markup(match.group(0)) == written:
                return Mention(match.group(1), match.group(2) or written)
        return None

    return group_of


def strip_mention(text: str, user_id: str | None) -> str:
    """The text of an app_mention without the bot's own mention(s)."""
    if user_id:
        text = re.sub(rf"<@{re.escape(user_id)}(?:\|[^>]*)?>", " ", text)
    return " ".join(text.split())


# ----- outbound ----------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(mrkdwn: str, limit: int) -> str:
    """Cut already-escaped text to `limit` characters, never inside an &amp; entity, marking the cut."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = _PARTIAL_ENTITY.sub("", mrkdwn[: limit - 1])
    return cut.rstrip() + "…"


def _cut_plain(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _link(url: str, label: str) -> str:
    """A mrkdwn link; URL characters that would end the link markup are percent-encoded."""
    if len(url) > MAX_LINK_CHARS:
        return label
    safe = escape(url.replace("|", "%7C").replace(" ", "%20"))
    return f"<{safe}|{label}>"


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit(mrkdwn, SECTION_CHARS)}}


def _title_block(briefing: Briefing) -> dict[str, Any]:
    title = escape(_cut_plain(" ".join((briefing.title or "Briefing").split()), TITLE_CHARS))
    return _section(f"*{_link(briefing.url, title) if briefing.url else title}*")


def _actors_block(briefing: Briefing, limit: int) -> dict[str, Any] | None:
    actors = top_actors(briefing, limit)
    if not actors:
        return None
    names = ", ".join(f"{escape(actor.name)} ({actor.kind})" for actor in actors)
    return _section(f"*Key actors:* {names}")


def _quote(text: str) -> str:
    return escape(_cut_plain(" ".join(text.split()), DATE_QUOTE_CHARS))


def _dates_block(briefing: Briefing, limit: int) -> dict[str, Any] | None:
    dates = key_dates(briefing, limit)
    if not dates:
        return None
    lines = [f"• {human_date(d.value)} ({d.value}): “{_quote(d.text)}”" for d in dates]
    return _section("*Key dates:*\n" + "\n".join(lines))


def _source_block(briefing: Briefing) -> dict[str, Any] | None:
    parts = []
    if briefing.url:
        host = urlsplit(briefing.url).hostname or briefing.url
        parts.append("Source: " + _link(briefing.url, escape(host)))
    if briefing.published:
        parts.append(f"Published {human_date(briefing.published.isoformat())}")
    if briefing.truncated:
        parts.append(TRUNCATED_NOTE)
    if not parts:
        return None
    text = fit(" · ".join(parts), SECTION_CHARS)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def briefing_message(briefing: Briefing, *, max_actors: int = 6, max_dates: int = 5) -> Message:
    """chat.postMessage arguments for a briefing: Block Kit plus a plain-text fallback for notifications."""
    summary = "\n".join(f"• {escape(sentence)}" for sentence in briefing.summary)
    blocks = [
        _title_block(briefing),
        _section(summary) if summary else None,
        _actors_block(briefing, max_actors),
        _dates_block(briefing, max_dates),
        _source_block(briefing),
    ]
    fallback = format_text(briefing, max_actors=max_actors, max_dates=max_dates)
    return {
        "text": fit(escape(fallback), FALLBACK_CHARS),
        "blocks": [block for block in blocks if block is not None][:MAX_BLOCKS],
    }


def notice_message(notice: Notice) -> Message:
    """A short text reply (help, confirmation, friendly error). Its *bold* and `code` are meant as mrkdwn."""
    return {"text": fit(escape(notice.text), FALLBACK_CHARS)}


def mentioning(message: Message, mention: Mention | None) -> Message:
    """The message pinging `mention` (a topic alert's subscription said so): the only mention markup in a
    message, since everything quoted is escaped."""
    if mention is None:
        return message
    tag = "<!here>" if mention.group is None else f"<!subteam^{mention.group}>"
    pinged = {**message, "text": f"{tag} {message['text']}"}
    if blocks := message.get("blocks"):  # notifications read the text; the channel sees the blocks
        pinged["blocks"] = [{"type": "section", "text": {"type": "mrkdwn", "text": tag}}, *blocks][
            :MAX_BLOCKS
        ]
    return pinged


def requested_by(message: Message, user: str) -> Message:
    """A briefing someone asked for with /brief, posted for the whole channel, says who asked (as Discord's
    do); a pasted link's briefing needs no such line: it answers in the thread of the person's message."""
    line = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Requested by <@{user}>"}]}
    return {**message, "blocks": [*message.get("blocks", []), line]}


def reply_message(
    reply: Briefing | Notice | StoryAlert, *, max_actors: int = 6, max_dates: int = 5
) -> Message:
    """Any reply or topic alert as chat.postMessage arguments."""
    if isinstance(reply, Notice):
        return notice_message(reply)
    if isinstance(reply, StoryAlert):
        return alert_message(reply, max_actors=max_actors, max_dates=max_dates)
    return briefing_message(reply, max_actors=max_actors, max_dates=max_dates)


# ----- topic alerts ------------------------------------------------------------------------------------


def _alert_header(alert: StoryAlert) -> str:
    # The query goes in `code`: a backtick inside it would end the code span early.
    shown = escape(_cut_plain(" ".join(alert.query.split()), ALERT_QUERY_CHARS).replace("`", "'"))
    return story_header(shown, alert.subscription_id)


def _also_text(urls: list[str]) -> str:
    """ "Also reported by: <url|host>, …" within a section's budget; what does not fit is counted."""
    unique = list(dict.fromkeys(urls))
    prefix = "Also reported by: "
    links: list[str] = []
    for url in unique[:ALSO_MAX_SOURCES]:
        link = _link(url, escape(urlsplit(url).hostname or url))
        if len(prefix) + len(", ".join([*links, link])) + len(" and 999 more") > SECTION_CHARS:
            break
        links.append(link)
    rest = len(unique) - len(links)
    return prefix + ", ".join(links) + (f" and {rest} more" if rest else "")


def alert_message(alert: StoryAlert, *, max_actors: int = 6, max_dates: int = 5) -> Message:
    """chat.postMessage arguments for a story alert: its briefing under a header, other outlets below."""
    header = _alert_header(alert)
    briefing = briefing_message(alert.briefing, max_actors=max_actors, max_dates=max_dates)
    blocks = [_section(header), *briefing["blocks"]]
    text = f"{header}\n{briefing['text']}"
    if also := list(alert.also):
        line = _also_text(also)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line}]})
        hosts = ", ".join(dict.fromkeys(escape(urlsplit(url).hostname or url) for url in also))
        text += f"\nAlso reported by: {hosts}"
    return {"text": fit(text, FALLBACK_CHARS), "blocks": blocks[:MAX_BLOCKS]}
