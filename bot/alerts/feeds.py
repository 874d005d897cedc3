"""Read news feeds: RSS 0.9x/1.0/2.0 and Atom into `FeedItem`s with an identity that survives GUID churn.

`parse_feed` is pure and blocking (feedparser, ~1 ms for a 20-item feed, more for big ones): callers on the
event loop use `fetch_feed`, which fetches through the guarded `Fetcher` and parses in a thread.

Item identity (`FeedItem.key`) is what "seen" tracking remembers. GUIDs are not used for it: some feeds
mint new GUIDs on every fetch, many (RSS 0.91, 0.92) have none, and the same story syndicated on several
feeds has a different GUID on each. The article link, canonicalized (no tracking parameters, no fragment,
lower-case host; `bot.chat.links.canonical_url`), is stable across fetches and the same on every feed that
carries the story, so it is the key when an item has one. Without a usable link the key is the item's
normalized title within its feed: stable under GUID churn, but a retitled story counts as new (the story
dedupe downstream catches those). A link shared by several items of one feed, or equal to the feed's home
page, does not identify an item and is treated as missing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
import time
import unicodedata
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.chat.links import canonical_url
from bot.errors import NotAFeedError
from bot.fetch import FetchedFeed
from bot.sanitize import scrub

log = logging.getLogger(__name__)

MAX_SUMMARY_CHARS = 2000  # matching reads title + summary; a whole article in <description> is not needed
MAX_TITLE_CHARS = 500
# expat's messages when the document stops early: a truncated download, not a sloppy but complete feed.
_TRUNCATION_MESSAGES = frozenset({"no element found", "unclosed token"})
_BLOCK_TAGS = frozenset(
    "p br div li ul ol tr td th h1 h2 h3 h4 h5 h6 blockquote section article figure figcaption hr".split()
)
_SPACES = re.compile(r"\s+")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # no text shows them; whitespace ones stay spaces
# Numeric character references, also as escaped inside escaped HTML ("&amp;#xD800;"): feedparser's lenient
# parser turns them into characters with chr(), which raises on surrogates, on numbers past U+10FFFF and
# on numbers too long for C; `_fix_char_refs` makes those U+FFFD before feedparser sees them.
_CHAR_REF = re.compile(rb"&(?:amp;|#38;|#x26;)?#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));?")
_VALID_REF = b"&#xFFFD;"


@dataclass(frozen=True)
class FeedItem:
    key: str  # identity for "seen" tracking: see the module docstring
    guid: str | None  # as the feed gives it; informative only
    link: str | None  # absolute http(s) article link (resolved against the feed URL), as published
    title: str  # plain text
    summary: str  # plain text, HTML stripped, at most MAX_SUMMARY_CHARS
    published: datetime | None  # UTC; the item's published or else updated date
    source_url: str  # the feed it came from, as subscribed


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    items: list[FeedItem]


@dataclass(frozen=True)
class FeedFetch:
    status: Literal["ok", "not_modified"]
    parsed: ParsedFeed | None  # None when not modified
    etag: str | None  # validators to send next time (the previous ones when a 304 repeated none)
    last_modified: str | None


class FeedFetcher(Protocol):
    """What fetch_feed needs of bot.fetch.Fetcher (a fake in tests)."""

    async def fetch_feed(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchedFeed: ...


async def fetch_feed(
    fetcher: FeedFetcher, url: str, *, etag: str | None = None, last_modified: str | None = None
) -> FeedFetch:
    """Conditional GET of `url`, then parsing in a thread; raises only BriefError subclasses."""
    fetched = await fetcher.fetch_feed(url, etag=etag, last_modified=last_modified)
    if fetched.status == "not_modified":
        return FeedFetch("not_modified", None, fetched.etag or etag, fetched.last_modified or last_modified)
    parsed = await asyncio.to_thread(
        parse_feed, fetched.body, url, base_url=fetched.url, charset=fetched.charset
    )
    return FeedFetch("ok", parsed, fetched.etag, fetched.last_modified)


def parse_feed(
    data: str | bytes, url: str, *, base_url: str | None = None, charset: str | None = None
) -> ParsedFeed:
    """Parse a feed document fetched from `url` (blocking; pure). Raises NotAFeedError if it is not one.

    `base_url` (the URL after redirects, default `url`) resolves relative links; `charset` is the one the
    HTTP Content-Type named, which outranks the XML declaration (RFC 7303). Without it the document's own
    declaration or BOM decides: a bare `text/xml` would otherwise mean US-ASCII, which nobody means.
    """
    try:
        result = _feedparser_parse(data, charset)
    except Exception as exc:  # a fault of the lenient parser on hostile input: this feed's, not ours
        log.warning("feed %s: the parser failed: %s: %s", url, type(exc).__name__, exc)
        raise NotAFeedError("That feed can't be read: its XML is broken.") from None
    _raise_unless_feed(result)
    channel = result.get("feed", {})
    base = base_url or url
    items = []
    for position, entry in enumerate(result.get("entries", [])):
        try:
            items.append(_item(entry, base))
        except Exception as exc:  # one broken item must not hide the feed's good ones
            log.warning("feed %s: item %d skipped: %s: %s", url, position, type(exc).__name__, exc)
    home = _http_link(channel.get("link"), base)
    return ParsedFeed(
        title=_plain(channel.get("title", ""), MAX_TITLE_CHARS),
        items=_with_keys(items, url, home),
    )


def _feedparser_parse(data: str | bytes, charset: str | None) -> Any:
    if isinstance(data, str):
        data, charset = scrub(data).encode("utf-8"), "utf-8"
    data = _fix_char_refs(data)
    headers = {"content-type": f"application/xml; charset={charset}"} if charset else {}
    # A stream, never a str or bytes: feedparser treats a string as a URL to fetch or a file to open.
    # No content-location either: feedparser would then turn relative GUIDs into links; we resolve links.
    return feedparser.parse(io.BytesIO(data), response_headers=headers, sanitize_html=True)


def _raise_unless_feed(result: Any) -> None:
    if not result.get("version"):
        raise NotAFeedError()
    problem = result.get("bozo_exception")
    if not isinstance(problem, xml.sax.SAXParseException):
        return  # encoding overrides and loose content types are harmless
    truncated = problem.getMessage() in _TRUNCATION_MESSAGES
    if truncated or not result.get("entries"):
        where = f"line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
        detail = "it stops in the middle" if truncated else "its XML is broken"
        raise NotAFeedError(f"That feed can't be read: {detail} ({where}).")
    # Otherwise a complete feed with a sloppy spot (a bare "&"): feedparser's lenient parser recovered it.


def _fix_char_refs(data: bytes) -> bytes:
    """The document with every character reference that names no character (see _CHAR_REF) as U+FFFD.

    Only ASCII-compatible encodings are covered (a UTF-16 feed's references are not seen): what slips
    through makes feedparser fail, which parse_feed reports as a feed that can't be read.
    """

    def fix(match: re.Match[bytes]) -> bytes:
        digits, base = (match[1], 16) if match[1] is not None else (match[2], 10)
        if len(digits.lstrip(b"0")) <= 7 and _names_a_character(int(digits, base)):
            return match[0]
        return _VALID_REF

    return _CHAR_REF.sub(fix, data) if b"&" in data else data


def _names_a_character(code: int) -> bool:
    return 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF


@dataclass(frozen=True)
class _RawItem:
    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime | None


def _item(entry: Any, base: str) -> _RawItem:
    guid = entry.get("id") or None
    # feedparser copies a permalink GUID into `link` when there is no <link>: keep it only if it is a real
    # absolute URL, not a relative token that churning feeds regenerate.
    link = entry.get("link")
    if entry.get("guidislink") and not _is_absolute_http(link):
        link = None
    return _RawItem(
        guid=guid,
        link=_http_link(link, base),
        title=_plain(_text_of(entry, "title"), MAX_TITLE_CHARS),
        summary=_plain(_text_of(entry, "summary"), MAX_SUMMARY_CHARS),
        published=_utc(entry.get("published_parsed") or entry.get("updated_parsed")),
    )


def _with_keys(raw: list[_RawItem], feed_url: str, home: str | None) -> list[FeedItem]:
    canonical = [canonical_url(r.link) if r.link else None for r in raw]
    counts: dict[str, int] = {}
    for c in canonical:
        if c is not None:
            counts[c] = counts.get(c, 0) + 1
    home_key = canonical_url(home) if home else None
    items = []
    for r, link_key in zip(raw, canonical, strict=True):
        identifies = link_key is not None and counts[link_key] == 1 and link_key != home_key
        key = item_key(link_key if identifies else None, r.title, feed_url, r.guid, r.summary)
        items.append(FeedItem(key, r.guid, r.link, r.title, r.summary, r.published, feed_url))
    return items


def item_key(
    canonical_link: str | None, title: str, feed_url: str, guid: str | None = None, summary: str = ""
) -> str:
    """The item's identity: its canonical link; else its normalized title within the feed; else GUID/text."""
    if canonical_link:
        return "link:" + _digest(canonical_link)
    feed = canonical_url(feed_url)
    if normalized := normalize_title(title):
        return "title:" + _digest(feed, normalized)
    if guid:
        return "guid:" + _digest(feed, guid)
    return "text:" + _digest(feed, normalize_title(summary))


def normalize_title(title: str) -> str:
    """Case, width, punctuation and spacing differences removed: "Bridge  Reopens!" ~ "bridge reopens"."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    kept = "".join(ch if not unicodedata.category(ch).startswith("P") else " " for ch in folded)
    return _SPACES.sub(" ", kept).strip()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def _is_absolute_http(link: str | None) -> bool:
    try:
        return bool(link) and urlsplit(link or "").scheme in ("http", "https")
    except ValueError:
        return False


def _http_link(link: str | None, base: str) -> str | None:
    """An absolute http(s) link, or None for anything unusable ("http://[bad", a port past 65535)."""
    if not link:
        return None
    try:
        absolute = urljoin(base, scrub(link.strip()))
        parts = urlsplit(absolute)
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        return None
    return absolute if parts.scheme in ("http", "https") and parts.hostname else None


def _text_of(entry: Any, field: str) -> str:
    value = entry.get(field) or ""
    kind = (entry.get(f"{field}_detail") or {}).get("type", "text/html")
    return html_to_text(value) if "html" in kind else value


def _plain(text: str, limit: int) -> str:
    text = _SPACES.sub(" ", _CONTROLS.sub("", scrub(text))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _utc(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)  # feedparser gives UTC struct_time
    except (ValueError, TypeError):
        return None


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")  # "<p>One.</p><p>Two.</p>" must not read "One.Two."

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment (feedparser has already removed scripts and styles)."""
    if "<" not in html and "&" not in html:
        return html
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return _SPACES.sub(" ", "".join(collector.parts)).strip()
