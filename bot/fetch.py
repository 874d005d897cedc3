"""Fetch a pasted link safely: one aiohttp session, the address guard, caps on size, time and redirects.

Every failure becomes a `BriefError` subclass; no aiohttp exception leaves `Fetcher.fetch()`.
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, NoReturn, TypeVar

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from yarl import URL

from bot.charsets import PRESCAN_BYTES, decode_body
from bot.config import FetchSettings
from bot.errors import (
    BriefError,
    FetchTimeoutError,
    ForbiddenError,
    HttpError,
    InvalidUrlError,
    NotAFeedError,
    NotFoundError,
    TooLargeError,
    TooManyRedirectsError,
    UnreachableError,
    UnsupportedTypeError,
    UpstreamError,
)
from bot.netguard import GuardedResolver, check_literal_host

BRIEFABLE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
)
# Types some servers label feeds with: accepted only when the body starts like a feed (`looks_like_feed`).
SNIFFED_FEED_TYPES = frozenset({"text/html", "text/plain", "application/octet-stream"})
FEED_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/rdf+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
SNIFF_BYTES = 512  # what browsers look at (WHATWG MIME sniffing)
_CHUNK = 64 * 1024
# A host name after IDNA encoding (IPv6 literals are checked apart): labels of 1-63 letters, digits, hyphens
# (and underscores, which real hosts use), at most 253 characters (RFC 1035 §2.3.4), one final dot allowed.
# The system resolver's IDNA codec raises a bare UnicodeError on anything longer or empty.
_HOST_LABEL = re.compile(r"[A-Za-z0-9_\-]{1,63}")
MAX_HOST_CHARS = 253
_BINARY_BYTES = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_BINARY_SIGNATURES = (b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title", b"<meta", b"<!--", b"<div", b"<p")
# What may come before a feed's root element: XML declaration, processing instructions, comments, DOCTYPE.
_XML_PROLOG_ITEM = re.compile(
    rb"\s*(<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>)", re.DOTALL | re.IGNORECASE
)
_FEED_ROOT = re.compile(rb"\s*<(rss|feed|rdf:RDF|RDF)[\s>/]")
T = TypeVar("T")


@dataclass(frozen=True)
class FetchedPage:
    url: str  # final URL after redirects
    content_type: str  # "text/html", "application/xhtml+xml" or "text/plain"
    text: str  # decoded body
    charset: str  # the codec used to decode (Python's name for it)


@dataclass(frozen=True)
class FetchedFeed:
    """A feed response: the raw body (the XML declaration decides its encoding) and its validators."""

    url: str  # final URL after redirects
    status: Literal["ok", "not_modified"]
    body: bytes  # empty when not modified
    content_type: str  # as declared, or "application/xml" when sniffed
    charset: str | None  # the charset the Content-Type header named, if any
    etag: str | None  # validators for the next conditional GET; None when the server sent none
    last_modified: str | None


class Fetcher:
    """Owns the one ClientSession of the process; use as `async with Fetcher(settings) as fetcher`."""

    def __init__(self, settings: FetchSettings, *, resolver: AbstractResolver | None = None) -> None:
        self._settings = settings
        self._inner_resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._guard: GuardedResolver | None = None

    async def __aenter__(self) -> Fetcher:
        inner = self._inner_resolver or aiohttp.DefaultResolver()
        self._guard = GuardedResolver(
            inner, self._settings.allow_private_networks, owns_inner=self._inner_resolver is None
        )
        connector = aiohttp.TCPConnector(resolver=self._guard, limit=64, limit_per_host=4)
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # proxy variables would route around the guard
            cookie_jar=aiohttp.DummyCookieJar(),  # one user's cookies must not reach another user's fetch
            headers={
                "User-Agent": self._settings.user_agent,
                "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1",
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout_seconds),
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
        if self._guard is not None:
            await self._guard.close()
        self._session = self._guard = None

    async def fetch(self, url: str) -> FetchedPage:
        """Fetch `url` and its redirects within the time cap; raises only BriefError subclasses."""
        return await self._guarded(url, self._read_page)

    async def fetch_feed(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchedFeed:
        """Fetch a feed with a conditional GET, under the same guard and caps as pages.

        Returns status "not_modified" on HTTP 304; raises only BriefError subclasses (NotAFeedError when the
        body is plainly not a feed: the parser decides the rest).
        """
        headers = {"Accept": FEED_ACCEPT, **conditional_headers(etag, last_modified)}
        return await self._guarded(url, self._read_feed, headers)

    async def _guarded(
        self,
        url: str,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        headers: dict[str, str] | None = None,
    ) -> T:
        if self._session is None:
            raise RuntimeError("use Fetcher as an async context manager")
        try:
            async with asyncio.timeout(self._settings.timeout_seconds):
                return await self._follow(self._session, parse_fetchable_url(url), read, headers)
        except BriefError:
            raise
        except TimeoutError as exc:  # before ClientError: aiohttp's own timeouts are both
            raise FetchTimeoutError() from exc
        except aiohttp.InvalidURL as exc:
            raise InvalidUrlError() from exc
        except (aiohttp.ClientPayloadError, HttpProcessingError) as exc:
            raise UpstreamError("That site sent a broken response.") from exc
        except aiohttp.ClientResponseError as exc:
            raise _unreadable_response(exc) or UnreachableError() from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise UnreachableError() from exc

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        url: URL,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        headers: dict[str, str] | None,
    ) -> T:
        allow = self._settings.allow_private_networks
        seen: set[URL] = set()
        for _ in range(self._settings.max_redirects + 1):
            check_literal_host(url.raw_host or "", allow)  # aiohttp skips the resolver for IP literals
            seen.add(url)
            async with session.get(url, allow_redirects=False, headers=headers) as response:
                if response.status not in REDIRECT_STATUSES:
                    return await read(response)
                url = redirect_target(response)
            if url in seen:
                raise TooManyRedirectsError("That link redirects in a loop.")
        raise TooManyRedirectsError()

    async def _read_page(self, response: aiohttp.ClientResponse) -> FetchedPage:
        raise_for_status(response.status)
        declared = response.headers.get("Content-Type") is not None
        if declared and response.content_type not in BRIEFABLE_TYPES:
            raise_unsupported(response.content_type)
        length = response.content_length
        if length is not None and length > self._settings.max_bytes:
            raise TooLargeError()
        body, sniffed = await self._read_capped(response, sniff=not declared)
        content_type = response.content_type if declared else sniffed
        assert content_type is not None  # _read_capped sniffs when nothing was declared
        # Detection and decoding of megabytes take tens of milliseconds: keep them off the event loop.
        text, charset = await asyncio.to_thread(
            decode_body, body, response.charset if declared else None, content_type
        )
        return FetchedPage(url=str(response.url), content_type=content_type, text=text, charset=charset)

    async def _read_feed(self, response: aiohttp.ClientResponse) -> FetchedFeed:
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if response.status == 304:
            return FetchedFeed(str(response.url), "not_modified", b"", "", None, etag, last_modified)
        raise_for_status(response.status)
        declared = response.headers.get("Content-Type") is not None
        content_type = response.content_type if declared else "application/xml"
        if declared and content_type not in FEED_TYPES | SNIFFED_FEED_TYPES:
            raise NotAFeedError(f"That address gives a {content_type} file, not a news feed.")
        length = response.content_length
        if length is not None and length > self._settings.max_bytes:
            raise TooLargeError("That feed is too large for me to read.")
        body, _ = await self._read_capped(response, sniff=False)
        if (content_type in SNIFFED_FEED_TYPES or not declared) and not looks_like_feed(body):
            raise NotAFeedError()
        charset = response.charset if declared else None
        return FetchedFeed(str(response.url), "ok", body, content_type, charset, etag, last_modified)

    async def _read_capped(
        self, response: aiohttp.ClientResponse, *, sniff: bool
    ) -> tuple[bytes, str | None]:
        """Read the decompressed body, stopping as soon as it passes max_bytes (gzip bombs included)."""
        chunks: list[bytes] = []
        size = 0
        sniffed: str | None = None
        async for chunk in response.content.iter_chunked(_CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > self._settings.max_bytes:
                raise TooLargeError()
            if sniff and sniffed is None and size >= SNIFF_BYTES:
                sniffed = sniff_content_type(b"".join(chunks))  # refuse a binary before downloading it all
        body = b"".join(chunks)
        if sniff and sniffed is None:
            sniffed = sniff_content_type(body)
        return body, sniffed


def _unreadable_response(exc: aiohttp.ClientResponseError) -> BriefError | None:
    """The site answered, but with a status line or headers aiohttp's parser refused (it raises them as a
    ClientResponseError caused by an HttpProcessingError): that is the site's fault, not unreachability."""
    causes: list[BaseException] = []
    cause = exc.__cause__
    while cause is not None and len(causes) < 5:
        causes.append(cause)
        cause = cause.__cause__
    if not any(isinstance(c, HttpProcessingError) for c in causes):
        return None
    # aiohttp's parser caps a line at 8190 bytes (LineTooLong) and the number of headers (a plain
    # BadHttpMessage that says so): the response is too large; anything else it refused is malformed.
    if any(isinstance(c, LineTooLong) for c in causes):
        return TooLargeError("That site sent a header or status line longer than I accept.")
    if any("too many headers" in str(c).lower() for c in causes):
        return TooLargeError("That site sent more headers than I accept.")
    return UpstreamError("That site sent a broken response (its status line or headers are malformed).")


def parse_fetchable_url(url: str | URL) -> URL:
    """Parse and check a URL the bot may fetch: http(s), a plausible host, no credentials."""
    try:
        parsed = url if isinstance(url, URL) else URL(url.strip())
    except (ValueError, TypeError) as exc:
        raise InvalidUrlError() from exc
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise InvalidUrlError()
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise InvalidUrlError("I don't open links that carry a user name or password.")
    host = parsed.raw_host
    if ":" not in host and not is_valid_hostname(host):  # ':' only in IPv6 literals, which yarl validated
        raise InvalidUrlError("That link's site name isn't a valid host name.")
    return parsed


def is_valid_hostname(host: str) -> bool:
    """Whether an (IDNA-encoded) host name can be looked up: see _HOST_LABEL; punycode labels must decode."""
    labels = host.removesuffix(".").split(".")
    if len(host.removesuffix(".")) > MAX_HOST_CHARS or not all(map(_HOST_LABEL.fullmatch, labels)):
        return False
    for label in labels:
        if label[:4].lower() == "xn--":
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                return False
    return True


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the validators of the last response (RFC 9110 §13.1)."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def looks_like_feed(body: bytes) -> bool:
    """Whether the document's root element is <rss>, <feed> (Atom) or <rdf:RDF> (RSS 0.90 and 1.0)."""
    head = body[:PRESCAN_BYTES]
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) :].decode(codec, errors="ignore").encode()
    head = head.removeprefix(codecs.BOM_UTF8)
    position = 0
    while match := _XML_PROLOG_ITEM.match(head, position):
        position = match.end()
    return _FEED_ROOT.match(head, position) is not None


def redirect_target(response: aiohttp.ClientResponse) -> URL:
    location = response.headers.get("Location")
    if not location:
        raise HttpError(f"That site answered with a redirect (HTTP {response.status}) that goes nowhere.")
    try:
        target = response.url.join(URL(location))
    except (ValueError, TypeError) as exc:
        raise InvalidUrlError("That link redirects to an address I can't open.") from exc
    return parse_fetchable_url(target)


def raise_for_status(status: int) -> None:
    if 200 <= status < 300:
        return
    if status in (404, 410):
        raise NotFoundError(None if status == 404 else "That page is gone (HTTP 410).")
    if status in (401, 403):
        raise ForbiddenError(None if status == 403 else "That page needs a login (HTTP 401).")
    if status >= 500:
        raise UpstreamError()
    raise HttpError(f"That site answered with an error (HTTP {status}).")


def raise_unsupported(content_type: str) -> NoReturn:
    raise UnsupportedTypeError(
        f"I can't brief this kind of file ({content_type}); I only read web pages and plain text."
    )


def sniff_content_type(head: bytes) -> str:
    """Guess the type of an undeclared body from its first bytes; raises UnsupportedTypeError for binaries."""
    head = head[:SNIFF_BYTES]
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):  # UTF-16 text is full of NUL bytes: look at it as UTF-8 instead
            head = head[len(bom) :].decode(codec, errors="ignore").encode()
    head = head.removeprefix(codecs.BOM_UTF8)
    if head.startswith(_BINARY_SIGNATURES):
        raise_unsupported("binary file")
    start = head.lstrip().lower()
    if start.startswith(_HTML_STARTS):
        return "text/html"
    if start.startswith(b"<?xml") and b"<html" in start:
        return "application/xhtml+xml"
    if any(byte in _BINARY_BYTES for byte in head) or start.startswith(b"<?xml"):
        raise_unsupported("binary file" if not start.startswith(b"<?xml") else "XML")
    return "text/plain"
