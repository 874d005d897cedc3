"""Small hand-written feeds in every common format, served with ETag/Last-Modified by a PageServer.

`FeedServer(page_server)` adds feed routes to the `page_server` fixture's server and counts, per path, the
fetches and the conditional hits it answered with 304. The builders (`rss091`, `rss10`, `rss20`, `atom10`)
write a feed from a few `Entry` values; a body may be a function of the fetch number, for feeds that
change between polls (new items, GUID churn).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web
from pageserver import PageServer

Body = str | bytes
BodyOrFactory = Body | Callable[[int], Body]  # a factory gets the 1-based fetch number
LAST_MODIFIED = "Mon, 06 Sep 2021 16:45:00 GMT"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RDF = "application/rdf+xml; charset=utf-8"


@dataclass(frozen=True)
class Entry:
    title: str | None
    link: str | None = None
    guid: str | None = None
    summary: str | None = None  # written as escaped HTML where the format allows it
    published: datetime | None = None
    guid_is_permalink: bool = False


@dataclass
class FeedStats:
    fetches: int = 0  # every GET, conditional or not
    not_modified: int = 0  # answered 304 because If-None-Match or If-Modified-Since matched
    conditional_headers: list[dict[str, str]] = field(default_factory=list)


class FeedServer:
    def __init__(self, server: PageServer) -> None:
        self.server = server
        self.stats: dict[str, FeedStats] = {}

    def feed(
        self,
        path: str,
        body: BodyOrFactory,
        *,
        content_type: str | None = RSS,
        etag: bool = True,  # send an ETag derived from the body and honour If-None-Match
        last_modified: str | None = LAST_MODIFIED,  # send it and honour If-Modified-Since (exact match)
        delay: float = 0.0,  # seconds to wait before answering: a slow feed
    ) -> str:
        """Serve a feed at `path` (re-registering keeps its stats); returns the full URL."""
        stats = self.stats.setdefault(path, FeedStats())

        async def handler(request: web.Request) -> web.StreamResponse:
            stats.fetches += 1
            stats.conditional_headers.append(_conditional_part(request))
            if delay:
                await asyncio.sleep(delay)
            raw = _as_bytes(body(stats.fetches) if callable(body) else body)
            headers = {}
            if etag:
                headers["ETag"] = f'"{hashlib.sha256(raw).hexdigest()[:16]}"'
            if last_modified:
                headers["Last-Modified"] = last_modified
            if _not_modified(request, headers):
                stats.not_modified += 1
                return web.Response(status=304, headers=headers)
            response = web.Response(body=raw, headers=headers)
            if content_type is None:
                response.headers["X-Test-No-Content-Type"] = "1"
            else:
                response.headers["Content-Type"] = content_type
            return response

        return self.server.add(path, handler)


def _as_bytes(body: Body) -> bytes:
    """Text is encoded as its XML declaration says (so the RSS 0.91 builder really serves ISO-8859-1)."""
    if isinstance(body, bytes):
        return body
    declared = re.match(r"""<\?xml[^>]*encoding=["']([\w.-]+)""", body)
    return body.encode(declared.group(1) if declared else "utf-8")


def _conditional_part(request: web.Request) -> dict[str, str]:
    return {k: v for k in ("If-None-Match", "If-Modified-Since") if (v := request.headers.get(k))}


def _not_modified(request: web.Request, headers: dict[str, str]) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:  # RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since
        return "ETag" in headers and headers["ETag"] in {t.strip() for t in if_none_match.split(",")}
    since = request.headers.get("If-Modified-Since")
    return since is not None and since == headers.get("Last-Modified")


# --- feed builders: every field optional, so tests can leave out GUIDs, links or dates ---


def _tag(name: str, value: str | None, attrs: str = "") -> str:
    return "" if value is None else f"<{name}{attrs}>{escape(value)}</{name}>"


def _rfc822(when: datetime | None) -> str | None:
    return None if when is None else format_datetime(when.astimezone(UTC), usegmt=True)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _rss_item(entry: Entry, *, with_guid: bool = True) -> str:
    permalink = ' isPermaLink="true"' if entry.guid_is_permalink else ' isPermaLink="false"'
    return (
        "<item>"
        + _tag("title", entry.title)
        + _tag("link", entry.link)
        + (_tag("guid", entry.guid, permalink) if with_guid else "")
        + _tag("description", entry.summary)
        + (_tag("pubDate", _rfc822(entry.published)) if with_guid else "")
        + "</item>"
    )


def rss20(title: str, entries: Sequence[Entry], *, link: str = "https://news.example/") -> str:
    items = "".join(_rss_item(e) for e in entries)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"{_tag('title', title)}{_tag('link', link)}<description>test feed</description>{items}"
        "</channel></rss>"
    )


def rss091(title: str, entries: Sequence[Entry], *, link: str = "https://news.example/") -> str:
    """RSS 0.91 (Netscape DOCTYPE): no GUIDs and no item dates exist in this version."""
    items = "".join(_rss_item(e, with_guid=False) for e in entries)
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        f'<rss version="0.91"><channel>{_tag("title", title)}{_tag("link", link)}'
        f"<description>test feed</description><language>en-us</language>{items}</channel></rss>"
    )


def rss092(title: str, entries: Sequence[Entry], *, link: str = "https://news.example/") -> str:
    items = "".join(_rss_item(e, with_guid=False) for e in entries)
    return (
        f'<?xml version="1.0"?>\n<rss version="0.92"><channel>{_tag("title", title)}{_tag("link", link)}'
        f"<description>test feed</description>{items}</channel></rss>"
    )


def rss10(title: str, entries: Sequence[Entry], *, link: str = "https://news.example/") -> str:
    """RSS 1.0 (RDF): items sit beside the channel, identified by rdf:about; dates are Dublin Core."""
    seq = "".join(f'<rdf:li rdf:resource="{escape(e.link or "")}"/>' for e in entries)
    items = "".join(
        f'<item rdf:about="{escape(e.link or "")}">'
        + _tag("title", e.title)
        + _tag("link", e.link)
        + _tag("description", e.summary)
        + _tag("dc:date", _iso(e.published))
        + "</item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="{escape(link)}">{_tag("title", title)}{_tag("link", link)}'
        f"<description>test feed</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>"
        f"{items}</rdf:RDF>"
    )


def atom10(title: str, entries: Sequence[Entry], *, link: str = "https://news.example/") -> str:
    def entry_xml(e: Entry) -> str:
        return (
            "<entry>"
            + _tag("title", e.title)
            + (f'<link rel="alternate" href="{escape(e.link)}"/>' if e.link else "")
            + _tag("id", e.guid)
            + _tag("updated", _iso(e.published))
            + _tag("summary", e.summary, ' type="html"')
            + "</entry>"
        )

    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f'{_tag("title", title)}<link href="{escape(link)}"/><id>urn:test:{escape(title)}</id>'
        f"<updated>2021-09-06T16:45:00Z</updated>{''.join(entry_xml(e) for e in entries)}</feed>"
    )
