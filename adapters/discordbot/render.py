"""Briefings as Discord embeds, notices and topic alerts as message content, within Discord's size limits.

Every piece is cut to its limit here (whole sentences and lines first, then characters with "…"), so the
API never rejects a briefing for its size. Article text is markdown-escaped: a "[label](url)" in a page
must not become a masked link under the bot's name.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import discord

from bot.alerts.model import StoryAlert, story_header
from bot.chat.model import Notice
from bot.models import Actor, Briefing, DateMention
from bot.render import TRUNCATED_NOTE, human_date, key_dates, top_actors

# Discord's documented embed limits. Discord counts UTF-16 code units, so we do too (an emoji counts twice).
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
MAX_FIELDS = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
CONTENT_LIMIT = 2000  # a message's own text
URL_LIMIT = 2048  # a longer link is left off the title rather than risk a rejected embed
DATE_QUOTE_LIMIT = 100
ELLIPSIS = "…"
BRIEFING_COLOUR = discord.Colour(0x2B6CB0)
QUERY_SHOWN_LIMIT = 200  # in an alert's header; the channel's list of subscriptions shows it whole


def units(text: str) -> int:
    """Length as Discord measures it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """`text` if it fits, else its longest prefix that fits with "…" after it (whole words when possible)."""
    if units(text) <= limit:
        return text
    if limit <= 0:
        return ""
    kept = text
    while kept and units(kept) > limit - 1:
        kept = kept[: max(len(kept) - (units(kept) - limit + 1), 0)]  # drop at least the excess at once
    words = kept.rsplit(" ", 1)[0] if " " in kept[len(kept) // 2 :] else kept  # avoid a half word
    # An odd run of backslashes at the end would escape the ellipsis (or a closing bracket) instead.
    trailing = len(words) - len(words.rstrip("\\"))
    if trailing % 2:
        words = words[:-1]
    return words.rstrip() + ELLIPSIS


def escape(text: str) -> str:
    """Article or user text shown verbatim: no bold, links, headings or quotes of its own."""
    return discord.utils.escape_markdown(" ".join(text.split()))


def fit_lines(lines: list[str], limit: int, separator: str = "\n") -> str:
    """As many whole lines as fit; when not even the first one fits, the first one cut to the limit."""
    kept: list[str] = []
    used = 0
    for line in lines:
        extra = units(line) + (units(separator) if kept else 0)
        if used + extra > limit:
            break
        kept.append(line)
        used += extra
    if not kept and lines:
        return cut(lines[0], limit)
    return separator.join(kept)


def actor_line(actor: Actor) -> str:
    kind = "" if actor.kind == "other" else f" — {actor.kind}"
    return f"**{escape(actor.name)}**{kind}"


def date_line(mention: DateMention) -> str:
    quote = cut(" ".join(mention.text.split()), DATE_QUOTE_LIMIT)
    return f"**{human_date(mention.value)}** (`{mention.value}`): “{escape(quote)}”"


def footer_text(briefing: Briefing) -> str:
    parts = []
    if briefing.url and (host := urlsplit(briefing.url).hostname):
        parts.append(host.removeprefix("www."))
    if briefing.published:
        parts.append(f"published {human_date(briefing.published.isoformat())}")
    if briefing.truncated:
        parts.append(TRUNCATED_NOTE)
    parts.append("briefed by briefbot")
    return cut(" · ".join(parts), FOOTER_LIMIT)


def summary_text(briefing: Briefing, limit: int) -> str:
    bullets = [f"• {escape(sentence)}" for sentence in briefing.summary if sentence.strip()]
    return fit_lines(bullets, limit) if bullets else "(no summary)"


def briefing_fields(briefing: Briefing, max_actors: int, max_dates: int) -> list[tuple[str, str]]:
    fields = []
    if actors := top_actors(briefing, max_actors):
        fields.append(("Key actors", fit_lines([actor_line(a) for a in actors], FIELD_VALUE_LIMIT)))
    if dates := key_dates(briefing, max_dates):
        fields.append(("Key dates", fit_lines([date_line(d) for d in dates], FIELD_VALUE_LIMIT)))
    return [(cut(name, FIELD_NAME_LIMIT), value) for name, value in fields[:MAX_FIELDS] if value]


def briefing_embed(briefing: Briefing, *, max_actors: int = 6, max_dates: int = 5) -> discord.Embed:
    """Title linked to the source, the summary as bullets, key actors and dates as fields, source in the
    footer; the whole embed within 6000 units (the summary gives way first, then the last fields)."""
    title = cut(escape(briefing.title or "") or "Briefing", TITLE_LIMIT)
    url = briefing.url if briefing.url and len(briefing.url) <= URL_LIMIT else None
    footer = footer_text(briefing)
    fields = briefing_fields(briefing, max_actors, max_dates)

    def fixed_size() -> int:
        return units(title) + units(footer) + sum(units(n) + units(v) for n, v in fields)

    while fields and EMBED_TOTAL_LIMIT - fixed_size() < 200:  # leave the summary room to say something
        fields.pop()
    description = summary_text(briefing, min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - fixed_size()))
    embed = discord.Embed(title=title, url=url, description=description, colour=BRIEFING_COLOUR)
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=footer)
    return embed


def embed_size(embed: discord.Embed) -> int:
    """The total Discord checks against 6000, in UTF-16 units (discord.py's len() counts code points)."""
    parts = [embed.title or "", embed.description or "", embed.footer.text or "", embed.author.name or ""]
    parts += [f"{field.name or ''}{field.value or ''}" for field in embed.fields]
    return sum(units(part) for part in parts)


def notice_content(notice: Notice) -> str:
    return cut(notice.text, CONTENT_LIMIT)


# --- topic alerts ---------------------------------------------------------------------------------------


def alert_header(alert: StoryAlert) -> str:
    # A backtick would close the code span early; queries cannot need one (the query language has none).
    shown = cut(" ".join(alert.query.replace("`", "'").split()), QUERY_SHOWN_LIMIT)
    return story_header(shown, alert.subscription_id)


def site_of(url: str) -> str | None:
    """The host an outlet's link is named after; None for anything but a usable http(s) link."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_LIMIT:
        return None
    return parts.hostname.removeprefix("www.")


def source_link(site: str, url: str) -> str:
    """`[site](<url>)`; the <> keeps Discord from previewing every outlet under the alert."""
    safe = quote(url, safe=":/?#[]@!$&'*+,;=%~-._")  # ( ) < > and spaces would end the link early
    return f"[{escape(site)}](<{safe}>)"


def also_line(urls: list[str], limit: int) -> str:
    """`Also reported by: a, b and 3 more`, one link per site, within `limit` units ("" when none)."""
    by_site: dict[str, str] = {}
    for url in urls:
        if (site := site_of(url)) and site not in by_site:
            by_site[site] = source_link(site, url)
    links = list(by_site.values())
    if not links:
        return ""
    prefix = "Also reported by: "
    reserve = units(f" and {len(links)} more")  # room to say how many were left out
    shown: list[str] = []
    used = units(prefix)
    for link in links:
        room = limit if len(shown) == len(links) - 1 else limit - reserve  # the last link needs no note
        if used + units(link) + 2 * bool(shown) > room:
            break
        shown.append(link)
        used += units(link) + 2 * bool(shown[1:])
    if not shown:
        return cut(f"{prefix}{len(links)} other outlets", limit)
    more = f" and {len(links) - len(shown)} more" if len(shown) < len(links) else ""
    return prefix + ", ".join(shown) + more


def alert_content(alert: StoryAlert) -> str:
    """The text above an alert's briefing embed: what it is for, and the other outlets of the same story."""
    header = alert_header(alert)
    also = also_line(list(alert.also), CONTENT_LIMIT - units(header) - 1)
    return cut(f"{header}\n{also}" if also else header, CONTENT_LIMIT)
