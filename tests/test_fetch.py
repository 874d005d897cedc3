"""Fetcher against a local web server: pages, redirects, encodings, caps, errors and the address guard."""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import gzip
import ipaddress
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from pageserver import FALLBACK_HOST, EveryNameIsLocal, PageServer, raw_http_server

from bot.config import FetchSettings
from bot.errors import (
    BlockedAddressError,
    FetchTimeoutError,
    ForbiddenError,
    HttpError,
    InvalidUrlError,
    NotFoundError,
    TooLargeError,
    TooManyRedirectsError,
    UnreachableError,
    UnsupportedTypeError,
    UpstreamError,
)
from bot.fetch import FetchedPage, Fetcher

ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>Harbour bridge reopens</title></head>
<body><article><h1>Harbour bridge reopens after repairs</h1>
<p>The city’s harbour bridge reopened on Monday after eight months of repairs, officials said.</p>
</article></body></html>"""
FRENCH = (
    "Le ministre de l’Économie a déclaré jeudi « nous sommes prêts » à l’issue d’une réunion à Bercy. "
    "Les syndicats, reçus séparément, ont jugé les propositions « très insuffisantes »."
)
RUSSIAN = "В Москве открылась новая библиотека. Мэр заявил, что ещё три здания откроются в следующем году."
JAPANESE = "東京で新しい図書館が開館した。市長は来年さらに三つの館を開くと述べた。"


def html_with_meta(charset: str, body: str, *, http_equiv: bool = False) -> bytes:
    meta = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        if http_equiv
        else f'<meta charset="{charset}">'
    )
    return f"<html><head>{meta}<title>t</title></head><body><p>{body}</p></body></html>".encode(charset)


@pytest_asyncio.fixture
async def fetcher(fetch_settings: FetchSettings) -> AsyncIterator[Fetcher]:
    async with Fetcher(fetch_settings) as fetcher:
        yield fetcher


async def fetch_with(
    settings: FetchSettings, url: str, resolver: AbstractResolver | None = None
) -> FetchedPage:
    async with Fetcher(settings, resolver=resolver) as fetcher:
        return await fetcher.fetch(url)


# --- normal pages and headers -------------------------------------------------------------------------


async def test_fetches_an_article(page_server: PageServer, fetcher: Fetcher) -> None:
    url = page_server.page("/news/bridge", ARTICLE)
    page = await fetcher.fetch(url)
    assert page.url == url
    assert page.content_type == "text/html"
    assert page.charset == "utf-8"
    assert "city’s harbour bridge reopened" in page.text


async def test_sends_the_bot_user_agent(
    page_server: PageServer, fetcher: Fetcher, fetch_settings: FetchSettings
) -> None:
    await fetcher.fetch(page_server.page("/ua", ARTICLE))
    headers = page_server.requests[-1].headers
    assert headers["User-Agent"] == fetch_settings.user_agent
    assert headers["User-Agent"].startswith("briefbot/")
    assert "gzip" in headers["Accept-Encoding"]
    assert "Cookie" not in headers


async def test_plain_text_and_xhtml_are_accepted(page_server: PageServer, fetcher: Fetcher) -> None:
    plain = await fetcher.fetch(page_server.page("/t.txt", "Just text.", content_type="text/plain"))
    xhtml = await fetcher.fetch(
        page_server.page("/x", ARTICLE, content_type="application/xhtml+xml; charset=utf-8")
    )
    assert (plain.content_type, plain.text) == ("text/plain", "Just text.")
    assert xhtml.content_type == "application/xhtml+xml"


# --- redirects ------------------------------------------------------------------------------------------


async def test_follows_a_redirect_chain(page_server: PageServer, fetcher: Fetcher) -> None:
    final = page_server.page("/final", ARTICLE)
    page_server.redirect("/c", "/final", status=307)
    page_server.redirect("/b", page_server.url("/c"), status=302)  # absolute
    start = page_server.redirect("/a", "c/../b", status=301)  # relative, resolved against /a
    page = await fetcher.fetch(start)
    assert page.url == final
    assert [r.path for r in page_server.requests] == ["/a", "/b", "/c", "/final"]


async def test_redirect_loop_refused(page_server: PageServer, fetcher: Fetcher) -> None:
    page_server.redirect("/ping", "/pong")
    page_server.redirect("/pong", "/ping")
    with pytest.raises(TooManyRedirectsError):
        await fetcher.fetch(page_server.url("/ping"))
    assert len(page_server.requests) == 2  # the loop is seen, not followed to the cap


async def test_too_many_redirects_refused(page_server: PageServer, fetch_settings: FetchSettings) -> None:
    for hop in range(7):
        page_server.redirect(f"/hop{hop}", f"/hop{hop + 1}")
    page_server.page("/hop7", ARTICLE)
    settings = dataclasses.replace(fetch_settings, max_redirects=5)
    with pytest.raises(TooManyRedirectsError):
        await fetch_with(settings, page_server.url("/hop0"))
    assert len(page_server.requests) == 6  # the first request and five redirects, no more
    page = await fetch_with(settings, page_server.url("/hop2"))  # exactly five redirects is fine
    assert page.url.endswith("/hop7")


async def test_redirect_without_location_is_an_http_error(page_server: PageServer, fetcher: Fetcher) -> None:
    async def bare(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302)

    with pytest.raises(HttpError):
        await fetcher.fetch(page_server.add("/bare", bare))


async def test_redirect_to_another_scheme_refused(page_server: PageServer, fetcher: Fetcher) -> None:
    with pytest.raises(InvalidUrlError):
        await fetcher.fetch(page_server.redirect("/f", "file:///etc/passwd"))


# --- compression and charsets ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_bodies(page_server: PageServer, fetcher: Fetcher, encoding: str) -> None:
    page = await fetcher.fetch(page_server.page(f"/{encoding}", ARTICLE, encoding=encoding))
    assert page.text == ARTICLE


async def test_charset_from_header_windows_1252(page_server: PageServer, fetcher: Fetcher) -> None:
    body = f"<p>{FRENCH}</p>".encode("cp1252")
    page = await fetcher.fetch(page_server.page("/w", body, content_type="text/html; charset=windows-1252"))
    assert page.charset == "cp1252"
    assert FRENCH in page.text


async def test_latin1_label_decodes_windows_1252_quotes(page_server: PageServer, fetcher: Fetcher) -> None:
    # 0x92 is ’ in windows-1252 and a control character in real latin-1; browsers read the label as 1252.
    body = f"<p>{FRENCH}</p>".encode("cp1252")
    page = await fetcher.fetch(page_server.page("/l", body, content_type="text/html; charset=ISO-8859-1"))
    assert page.charset == "cp1252"
    assert "l’Économie" in page.text


@pytest.mark.parametrize(
    ("charset", "text", "http_equiv"),
    [("shift_jis", JAPANESE, False), ("koi8-r", RUSSIAN, True), ("euc-jp", JAPANESE, True)],
    ids=["shift_jis", "koi8-r", "euc-jp"],
)
async def test_charset_from_meta(
    page_server: PageServer, fetcher: Fetcher, charset: str, text: str, http_equiv: bool
) -> None:
    body = html_with_meta(charset, text, http_equiv=http_equiv)
    page = await fetcher.fetch(page_server.page("/m", body, content_type="text/html"))
    assert page.charset == codecs.lookup(charset).name
    assert text in page.text


@pytest.mark.parametrize(
    ("codec", "text"),
    [("cp1252", FRENCH), ("koi8-r", RUSSIAN), ("cp1251", RUSSIAN)],
    ids=["fr", "ru-koi8", "ru-1251"],
)
async def test_undeclared_charset_detected(
    page_server: PageServer, fetcher: Fetcher, codec: str, text: str
) -> None:
    page = await fetcher.fetch(page_server.page("/u", text.encode(codec), content_type="text/plain"))
    assert page.text == text


@pytest.mark.parametrize(
    "text",
    [
        # On both, charset_normalizer alone picks cp1250, which reads "£" as "Ł".
        "Shares in the bank fell on Monday after it said profits would be lower this year. The chairman "
        "said the board’s decision was painful but necessary. Analysts cut their target price to £3.10.",
        "Officials said the bridge would reopen on Monday. The mayor’s office said repairs had cost £2m "
        "more than planned, and that three more crossings would be checked before the winter.",
    ],
    ids=["shares", "bridge"],
)
async def test_undeclared_western_page_prefers_windows_1252(
    page_server: PageServer, fetcher: Fetcher, text: str
) -> None:
    page = await fetcher.fetch(page_server.page("/gbp", text.encode("cp1252"), content_type="text/plain"))
    assert page.text == text
    assert page.charset == "cp1252"


async def test_header_charset_that_fails_falls_back(page_server: PageServer, fetcher: Fetcher) -> None:
    body = f"<html><body><p>{RUSSIAN}</p></body></html>".encode("cp1251")  # labelled UTF-8, but is not
    page = await fetcher.fetch(page_server.page("/lie", body, content_type="text/html; charset=utf-8"))
    assert RUSSIAN in page.text


# --- size caps ------------------------------------------------------------------------------------------


@pytest.fixture
def small_cap(fetch_settings: FetchSettings) -> FetchSettings:
    return dataclasses.replace(fetch_settings, max_bytes=100_000)


async def test_content_length_over_cap_refused_before_reading(
    page_server: PageServer, small_cap: FetchSettings
) -> None:
    async def promises_a_lot(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.content_length = 50_000_000
        await response.prepare(request)
        await response.write(b"<html>")
        await asyncio.sleep(30)  # a reader that waited for the body would hit the time cap instead
        return response

    with pytest.raises(TooLargeError):
        await fetch_with(small_cap, page_server.add("/cl", promises_a_lot))


async def test_streamed_body_over_cap_refused(page_server: PageServer, small_cap: FetchSettings) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(1000):
            await response.write(b"x" * 16_384)
            sent += 16_384
        return response

    with pytest.raises(TooLargeError):
        await fetch_with(small_cap, page_server.add("/endless", endless))
    assert sent < 16_000_000  # the server was cut off, not read to the end


async def test_gzip_bomb_refused(page_server: PageServer, small_cap: FetchSettings) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)  # 50x the cap, from about 5 KB on the wire
    assert len(bomb) < small_cap.max_bytes  # passes the Content-Length check: only decompression tells
    url = page_server.page("/bomb", bomb, content_type="text/html", headers={"Content-Encoding": "gzip"})
    with pytest.raises(TooLargeError):
        await fetch_with(small_cap, url)


async def test_body_just_under_cap_accepted(page_server: PageServer, small_cap: FetchSettings) -> None:
    body = "y" * small_cap.max_bytes
    page = await fetch_with(small_cap, page_server.page("/full", body, content_type="text/plain"))
    assert len(page.text) == small_cap.max_bytes


# --- time cap -------------------------------------------------------------------------------------------


@pytest.fixture
def quick(fetch_settings: FetchSettings) -> FetchSettings:
    return dataclasses.replace(fetch_settings, timeout_seconds=0.5)


async def test_slow_response_hits_time_cap(page_server: PageServer, quick: FetchSettings) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for _ in range(100):
            await response.write(b"<p>still here</p>")
            await asyncio.sleep(0.2)  # each read is quick: only a cap on the whole fetch catches this
        return response

    with pytest.raises(FetchTimeoutError):
        await fetch_with(quick, page_server.add("/slow", trickle))


async def test_time_cap_covers_all_redirects(page_server: PageServer, quick: FetchSettings) -> None:
    async def slow_redirect(request: web.Request) -> web.StreamResponse:
        hop = int(request.query.get("n", "0"))
        await asyncio.sleep(0.2)
        return web.Response(status=302, headers={"Location": f"/sr?n={hop + 1}"})

    # Five hops of 0.2 s each fit in no single-request timeout of 0.5 s, but they exceed it together.
    settings = dataclasses.replace(quick, max_redirects=5)
    page_server.add("/sr", slow_redirect)
    with pytest.raises(FetchTimeoutError):
        await fetch_with(settings, page_server.url("/sr?n=0"))


# --- HTTP errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, NotFoundError),
        (410, NotFoundError),
        (401, ForbiddenError),
        (403, ForbiddenError),
        (418, HttpError),
        (429, HttpError),
        (500, UpstreamError),
        (503, UpstreamError),
    ],
)
async def test_http_errors(page_server: PageServer, fetcher: Fetcher, status: int, error: type) -> None:
    with pytest.raises(error):
        await fetcher.fetch(page_server.page("/e", "nope", status=status))


async def test_connection_refused_is_unreachable(page_server: PageServer, fetcher: Fetcher) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind((page_server.host, 0))
        port = probe.getsockname()[1]
    with pytest.raises(UnreachableError):
        await fetcher.fetch(f"http://{page_server.host}:{port}/")


async def test_broken_gzip_is_an_upstream_error(page_server: PageServer, fetcher: Fetcher) -> None:
    url = page_server.page("/bad.gz", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(UpstreamError):
        await fetcher.fetch(url)


# --- content types --------------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"\0" * 600
PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 600


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (b"\0\1\2" * 300, "application/octet-stream")],
)
async def test_declared_unsupported_types_refused(
    page_server: PageServer, fetcher: Fetcher, body: bytes, content_type: str
) -> None:
    with pytest.raises(UnsupportedTypeError) as caught:
        await fetcher.fetch(page_server.page("/file", body, content_type=content_type))
    assert content_type in caught.value.message


@pytest.mark.parametrize("body", [PDF, PNG, b"\x7fELF\2\1\1" + b"\0" * 600, b"GIF89a\1\0\1\0"])
async def test_undeclared_binaries_sniffed_and_refused(
    page_server: PageServer, fetcher: Fetcher, body: bytes
) -> None:
    with pytest.raises(UnsupportedTypeError):
        await fetcher.fetch(page_server.page("/nt", body, content_type=None))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (ARTICLE.encode(), "text/html"),
        (b"  \n<HTML><p>x</p></HTML>", "text/html"),
        (b"Hi.", "text/plain"),
    ],
)
async def test_undeclared_text_sniffed(
    page_server: PageServer, fetcher: Fetcher, body: bytes, expected: str
) -> None:
    page = await fetcher.fetch(page_server.page("/nt", body, content_type=None))
    assert page_server.requests[-1].path == "/nt"
    assert page.content_type == expected


# --- the address guard, end to end ----------------------------------------------------------------------


@pytest_asyncio.fixture
async def internal_server(page_server: PageServer) -> AsyncIterator[PageServer]:
    """A server on 127.0.0.1 that must never be reached: the allow-list only names the page server."""
    if page_server.host == FALLBACK_HOST:
        pytest.skip("127.0.0.2 cannot be bound here, so 127.0.0.1 is the allowed page server")
    server = PageServer(FALLBACK_HOST)
    await server.start()
    server.page("/secret", "internal admin page")
    try:
        yield server
    finally:
        await server.stop()


async def test_redirect_to_loopback_refused(
    page_server: PageServer, internal_server: PageServer, fetcher: Fetcher
) -> None:
    start = page_server.redirect("/go", internal_server.url("/secret"))
    with pytest.raises(BlockedAddressError):
        await fetcher.fetch(start)
    assert internal_server.requests == []


async def test_redirect_to_cloud_metadata_refused(page_server: PageServer, fetcher: Fetcher) -> None:
    for path, target in [
        ("/md4", "http://169.254.169.254/latest/meta-data/"),
        ("/md6", "http://[fd00:ec2::254]/latest/meta-data/"),
        ("/mdm", "http://[::ffff:169.254.169.254]/latest/meta-data/"),
        ("/mdn", "http://2852039166/latest/meta-data/"),  # 169.254.169.254 as one number
    ]:
        with pytest.raises(BlockedAddressError):
            await fetcher.fetch(page_server.redirect(path, target))


async def test_real_localhost_refused(internal_server: PageServer, fetcher: Fetcher) -> None:
    with pytest.raises(BlockedAddressError):
        await fetcher.fetch(f"http://localhost:{internal_server.port}/secret")
    assert internal_server.requests == []


async def test_page_server_refused_without_the_allow_list(page_server: PageServer) -> None:
    with pytest.raises(BlockedAddressError):
        await fetch_with(FetchSettings(), page_server.page("/p", ARTICLE))
    assert page_server.requests == []


class FakeDns(AbstractResolver):
    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for ip in self.table[host]
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "::1", "169.254.169.254"])
async def test_name_resolving_to_private_address_refused(
    page_server: PageServer, fetch_settings: FetchSettings, address: str
) -> None:
    dns = FakeDns({"internal.test": [address]})
    with pytest.raises(BlockedAddressError):
        await fetch_with(fetch_settings, "http://internal.test/", resolver=dns)
    assert dns.asked == ["internal.test"]


async def test_name_mixing_allowed_and_private_addresses_refused(
    page_server: PageServer, fetch_settings: FetchSettings
) -> None:
    dns = FakeDns({"rebind.test": [page_server.host, "10.0.0.5"]})
    with pytest.raises(BlockedAddressError):
        await fetch_with(fetch_settings, f"http://rebind.test:{page_server.port}/", resolver=dns)
    assert page_server.requests == []


async def test_name_resolving_to_allowed_address_fetched(
    page_server: PageServer, fetch_settings: FetchSettings
) -> None:
    page_server.page("/named", ARTICLE)
    dns = FakeDns({"news.test": [page_server.host]})
    page = await fetch_with(fetch_settings, f"http://news.test:{page_server.port}/named", resolver=dns)
    assert page.url == f"http://news.test:{page_server.port}/named"
    assert page_server.requests[-1].headers["Host"] == f"news.test:{page_server.port}"


async def test_redirect_to_name_resolving_inside_refused(
    page_server: PageServer, internal_server: PageServer, fetch_settings: FetchSettings
) -> None:
    dns = FakeDns({"news.test": [page_server.host], "intranet.test": [internal_server.host]})
    page_server.redirect("/out", f"http://intranet.test:{internal_server.port}/secret")
    with pytest.raises(BlockedAddressError):
        await fetch_with(fetch_settings, f"http://news.test:{page_server.port}/out", resolver=dns)
    assert internal_server.requests == []


# A response aiohttp's parser refuses is the site's fault, told honestly: not "unreachable".
_OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
_BODY = b"Content-Length: 2\r\n\r\nhi"


@pytest.mark.parametrize(
    ("response", "error", "words"),
    [
        (
            _OK_HEAD + b"".join(b"X-Filler-%d: v\r\n" % i for i in range(10_000)) + _BODY,
            TooLargeError,
            "headers",
        ),
        (_OK_HEAD + b"X-Huge: " + b"a" * 1_000_000 + b"\r\n" + _BODY, TooLargeError, "longer"),
        (b"HTTP/1.1 200 " + b"O" * 100_000 + b"\r\n" + _BODY, TooLargeError, "longer"),
        (b"HELLO THERE\r\n\r\n", UpstreamError, "malformed"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\nhi", UpstreamError, "malformed"),
    ],
    ids=["10k-headers", "1MB-header", "long-status", "not-http", "bad-length"],
)
async def test_unreadable_response_heads_get_honest_codes(
    page_server: PageServer, fetcher: Fetcher, response: bytes, error: type, words: str
) -> None:
    async with raw_http_server(page_server.host, response) as base_url:
        with pytest.raises(error) as caught:
            await fetcher.fetch(base_url + "/")
    assert words in caught.value.message


# --- URLs -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file.txt",
        "javascript:alert(1)",
        "data:text/html,<p>hi</p>",
        "gopher://example.com/",
        "example.com/no-scheme",
        "",
        "http://",
        "http:///path-only",
        "http://exa mple.com/",
        "http://[::1/",
        "http://user:secret@example.com/",
        "http://example.com:99999/",
    ],
)
async def test_invalid_urls_refused(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(InvalidUrlError):
        await fetcher.fetch(url)


@pytest.mark.parametrize(
    "host",
    [
        "a" * 64 + ".localhost",  # a label over 63 characters: the IDNA codec raised a bare UnicodeError
        "b" * 64,
        ".".join(["c" * 60] * 5),  # 304 characters in all, over 253
        "a..b",  # an empty label
        ".example.test",
        "example.test..",
        "xn--zz.example",  # punycode that decodes to nothing
        "xn--.example",
        "xn--a-ecp.example",  # punycode whose decoding holds a dot ("a⒈")
        "ü" * 64 + ".example",  # too long once IDNA-encoded
    ],
)
async def test_hosts_that_are_no_host_names_are_invalid_urls(
    page_server: PageServer, fetch_settings: FetchSettings, host: str
) -> None:
    dns = EveryNameIsLocal(page_server.host)
    with pytest.raises(InvalidUrlError):
        await fetch_with(fetch_settings, f"http://{host}:{page_server.port}/", resolver=dns)
    assert dns.asked == [] and page_server.requests == []


@pytest.mark.parametrize(
    "host", ["a" * 63 + ".test", "news.test.", "under_score.test", "bücher.test", "-dash-.test", "x" * 63]
)
async def test_unusual_but_valid_host_names_are_fetched(
    page_server: PageServer, fetch_settings: FetchSettings, host: str
) -> None:
    page_server.page("/p", ARTICLE)
    page = await fetch_with(
        fetch_settings, f"http://{host}:{page_server.port}/p", resolver=EveryNameIsLocal(page_server.host)
    )
    assert "harbour bridge reopened" in page.text


async def test_a_redirect_to_an_over_long_host_is_an_invalid_url(
    page_server: PageServer, fetcher: Fetcher
) -> None:
    url = page_server.redirect("/out", "http://" + "a" * 70 + ".localhost/")
    with pytest.raises(InvalidUrlError):
        await fetcher.fetch(url)


async def test_fetch_needs_the_context_manager(fetch_settings: FetchSettings) -> None:
    with pytest.raises(RuntimeError):
        await Fetcher(fetch_settings).fetch("http://example.com/")
