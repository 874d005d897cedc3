"""Feeds: every format parsed, item keys stable under GUID churn, conditional GET, caps, guard and errors."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from feedserver import ATOM, RDF, RSS, Entry, FeedServer, atom10, rss091, rss092, rss10, rss20
from pageserver import FALLBACK_HOST, PageServer

from bot.alerts.feeds import FeedItem, fetch_feed, html_to_text, item_key, normalize_title, parse_feed
from bot.config import FetchSettings
from bot.errors import BlockedAddressError, FetchTimeoutError, NotAFeedError, TooLargeError
from bot.fetch import Fetcher, looks_like_feed

FEED_URL = "https://feeds.example/world.xml"
WHEN = datetime(2021, 9, 6, 14, 45, tzinfo=UTC)
BRIDGE = Entry(
    "Harbour bridge reopens",
    "https://news.example/2021/bridge-reopens",
    "urn:uuid:bridge-1",
    "<p>The harbour bridge <b>reopened</b> on Monday.</p><p>Officials said repairs took eight months.</p>",
    WHEN,
)
FERRY = Entry(
    "Ferry fares rise", "https://news.example/2021/ferry-fares", "urn:uuid:ferry-1", "Fares up 5%.", WHEN
)
BUILDERS = {"rss091": rss091, "rss092": rss092, "rss10": rss10, "rss20": rss20, "atom10": atom10}


@pytest_asyncio.fixture
async def fetcher(fetch_settings: FetchSettings) -> AsyncIterator[Fetcher]:
    async with Fetcher(fetch_settings) as fetcher:
        yield fetcher


@pytest.fixture
def feeds(page_server: PageServer) -> FeedServer:
    return FeedServer(page_server)


def encoded(builder_name: str, body: str) -> bytes:
    return body.encode("iso-8859-1" if builder_name == "rss091" else "utf-8")


# --- parsing ---


@pytest.mark.parametrize("name", BUILDERS)
def test_every_format_gives_title_link_and_plain_summary(name: str) -> None:
    parsed = parse_feed(encoded(name, BUILDERS[name]("World news", [BRIDGE, FERRY])), FEED_URL)
    assert parsed.title == "World news"
    assert [i.title for i in parsed.items] == ["Harbour bridge reopens", "Ferry fares rise"]
    first = parsed.items[0]
    assert first.link == BRIDGE.link
    assert first.summary == "The harbour bridge reopened on Monday. Officials said repairs took eight months."
    assert first.source_url == FEED_URL


@pytest.mark.parametrize("name", ["rss10", "rss20", "atom10"])
def test_dates_come_out_in_utc(name: str) -> None:
    local = dataclasses.replace(BRIDGE, published=datetime.fromisoformat("2021-09-06T16:45:00+02:00"))
    item = parse_feed(BUILDERS[name]("W", [local]).encode(), FEED_URL).items[0]
    assert item.published == WHEN


def test_rss091_has_no_dates_and_reads_its_latin1_encoding() -> None:
    cafe = dataclasses.replace(BRIDGE, title="Café reopens by the bridge")
    item = parse_feed(rss091("W", [cafe]).encode("iso-8859-1"), FEED_URL).items[0]
    assert item.title == "Café reopens by the bridge"
    assert item.published is None


def test_text_input_is_parsed_as_text_whatever_its_declaration() -> None:
    body = rss091("W", [dataclasses.replace(BRIDGE, title="Café")])  # declares ISO-8859-1
    assert parse_feed(body, FEED_URL).items[0].title == "Café"


def test_header_charset_outranks_the_xml_declaration() -> None:
    body = rss20("W", [dataclasses.replace(BRIDGE, title="Café")]).encode("utf-8")
    mislabelled = body.replace(b'encoding="utf-8"', b'encoding="iso-8859-1"')
    assert parse_feed(mislabelled, FEED_URL, charset="utf-8").items[0].title == "Café"


def test_relative_links_resolve_against_the_final_feed_url() -> None:
    body = rss20("W", [dataclasses.replace(BRIDGE, link="/2021/bridge")]).encode()
    item = parse_feed(body, FEED_URL, base_url="https://cdn.example/feeds/world.xml").items[0]
    assert item.link == "https://cdn.example/2021/bridge"
    assert item.source_url == FEED_URL


def test_non_http_links_are_dropped() -> None:
    body = rss20("W", [dataclasses.replace(BRIDGE, link="javascript:alert(1)")]).encode()
    assert parse_feed(body, FEED_URL).items[0].link is None


def test_a_string_that_looks_like_a_path_or_url_is_not_opened() -> None:
    # feedparser.parse("/etc/passwd") would read the file; parse_feed must only ever parse its argument.
    for data in ("/etc/passwd", "http://127.0.0.1:9/feed", b"/etc/hostname"):
        with pytest.raises(NotAFeedError):
            parse_feed(data, FEED_URL)


def test_long_summary_is_capped() -> None:
    body = rss20("W", [dataclasses.replace(BRIDGE, summary="word " * 2000)]).encode()
    summary = parse_feed(body, FEED_URL).items[0].summary
    assert 1000 < len(summary) <= 2000
    assert summary.endswith("…")


def test_html_to_text_separates_blocks_and_decodes_entities() -> None:
    assert html_to_text("<p>One &amp; two.</p><p>Three</p>") == "One & two. Three"
    assert html_to_text("no markup") == "no markup"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x00\x01 certainly not xml", ""),
        (b"<!doctype html><html><body><p>Our news page</p></body></html>", ""),
        (rss20("W", [BRIDGE, FERRY]).encode()[:-60], "stops in the middle"),
        (rss20("W", [BRIDGE, FERRY]).encode()[:200], "stops in the middle"),
        (b"", ""),
        # feedparser itself fails on these; that is the feed's failure, not the bot's
        (rss20("W", [BRIDGE]).replace('encoding="utf-8"', 'encoding="utf\x00-8"').encode(), "broken"),
        (  # _fix_char_refs reads ASCII-compatible encodings only
            rss20("W", [BRIDGE]).replace("reopens", "&#xD800;").replace("utf-8", "utf-16").encode("utf-16"),
            "broken",
        ),
    ],
    ids=["garbage", "html", "truncated-late", "truncated-early", "empty", "nul-in-encoding", "utf16-bad-ref"],
)
def test_broken_feeds_raise_not_a_feed(data: bytes, fragment: str) -> None:
    with pytest.raises(NotAFeedError) as caught:
        parse_feed(data, FEED_URL)
    assert caught.value.code == "not_a_feed"
    assert fragment in caught.value.message


def test_a_complete_feed_with_a_bare_ampersand_is_still_read() -> None:
    body = rss20("W", [BRIDGE, FERRY]).replace("Ferry fares rise", "Ferry & bus fares rise").encode()
    body = body.replace(b"Ferry &amp; bus", b"Ferry & bus")
    assert [i.title for i in parse_feed(body, FEED_URL).items][1] == "Ferry & bus fares rise"


# --- hostile items: one bad item spoils neither itself nor the others ---

MIDDLE = Entry("Middle TITLE", "https://news.example/2021/middle", "urn:uuid:middle", "Body TITLE", WHEN)


def with_middle(name: str, raw_title: str = "", raw_link: str | None = None) -> bytes:
    """A feed of BRIDGE, MIDDLE and FERRY in format `name`, with raw XML in MIDDLE's title and summary."""
    body = BUILDERS[name]("W", [BRIDGE, MIDDLE, FERRY]).replace("TITLE", raw_title)
    if raw_link is not None:
        body = body.replace(MIDDLE.link or "", raw_link)
    return encoded(name, body)


def check_the_others(items: list[FeedItem]) -> FeedItem:
    assert [items[0].title, items[2].title] == ["Harbour bridge reopens", "Ferry fares rise"]
    assert [items[0].link, items[2].link] == [BRIDGE.link, FERRY.link]
    return items[1]


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("&#xD800;", "\ufffd"),  # a surrogate: feedparser's chr(...).encode() raised
        ("&#xdfff;", "\ufffd"),
        ("&#55296;", "\ufffd"),
        ("&#x110000;", "\ufffd"),  # past Unicode: chr() raised
        ("&#99999999999;", "\ufffd"),  # too big for C: OverflowError
        ("&#x" + "f" * 40 + ";", "\ufffd"),
        ("&#0;", "\ufffd"),
        ("&amp;#xD800;", "\ufffd"),  # the same inside escaped HTML
        ("&#x263A;", "\u263a"),  # a valid reference is untouched
        ("a\x00b", "ab"),  # control characters show as nothing
        ("a\x01\x1bb", "ab"),
    ],
)
def test_a_hostile_character_reference_or_control_spoils_no_item(name: str, raw: str, shown: str) -> None:
    middle = check_the_others(parse_feed(with_middle(name, raw), FEED_URL).items)
    assert middle.title == f"Middle {shown}"
    if name != "rss091":  # RSS 0.91 has no HTML summaries
        assert middle.summary == f"Body {shown}"
    middle.title.encode("utf-8")  # never a lone surrogate


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize(
    "link",
    ["http://[bad", "http://[::1", "https://news.example:99999/x", "https://news.example:port/x", "http://"],
)
def test_an_unusable_link_leaves_its_item_without_one(name: str, link: str) -> None:
    items = parse_feed(with_middle(name, raw_link=link), FEED_URL).items
    middle = check_the_others(items)
    assert middle.link is None and middle.title == "Middle"
    assert middle.key.startswith("title:"), "identified by its title instead"
    assert len({i.key for i in items}) == 3


@pytest.mark.parametrize("link", ["http://[bad", "https://news.example:99999/"])
def test_an_unusable_channel_link_is_ignored(link: str) -> None:
    items = parse_feed(rss20("W", [BRIDGE, FERRY], link=link).encode(), FEED_URL).items
    assert [i.link for i in items] == [BRIDGE.link, FERRY.link]


def test_lone_surrogates_in_a_text_feed_become_replacement_characters() -> None:
    body = rss20("W", [BRIDGE, MIDDLE, FERRY]).replace("TITLE", "\udcae")
    middle = check_the_others(parse_feed(body, FEED_URL).items)
    assert middle.title == "Middle \ufffd"


# --- item identity ---


def keys(body: str, url: str = FEED_URL) -> list[str]:
    return [i.key for i in parse_feed(body.encode(), url).items]


def test_guid_churn_keeps_the_keys() -> None:
    first = rss20("W", [BRIDGE, FERRY])
    churned = rss20(
        "W", [dataclasses.replace(e, guid=f"random-{n}-xyz") for n, e in enumerate([BRIDGE, FERRY])]
    )
    assert keys(first) == keys(churned)
    assert len(set(keys(first))) == 2


def test_guid_churn_without_links_keeps_title_keys() -> None:
    def no_link(guid: str) -> str:
        return rss20("W", [dataclasses.replace(BRIDGE, link=None, guid=guid, guid_is_permalink=True)])

    # A relative "permalink" GUID would become a link if taken at face value; it must not be the key.
    assert keys(no_link("abc123")) == keys(no_link("def456"))
    assert keys(no_link("abc123"))[0].startswith("title:")


def test_items_without_guid_or_link_are_told_apart_by_title() -> None:
    entries = [dataclasses.replace(e, link=None, guid=None) for e in (BRIDGE, FERRY)]
    got = keys(rss092("W", entries))
    assert len(set(got)) == 2
    assert got == keys(rss092("W", list(reversed(entries))))[::-1]


def test_title_keys_ignore_case_and_punctuation_but_not_the_feed() -> None:
    a = rss20("W", [dataclasses.replace(BRIDGE, link=None, title="Harbour Bridge  Reopens!")])
    b = rss20("W", [dataclasses.replace(BRIDGE, link=None, title="harbour bridge reopens")])
    assert keys(a) == keys(b)
    assert keys(a) != keys(a, url="https://other.example/feed")


def test_same_story_on_three_feeds_has_one_key() -> None:
    link = "https://News.Example/2021/bridge-reopens"
    variants = [
        rss20("A", [dataclasses.replace(BRIDGE, link=link + "?utm_source=rss&utm_medium=feed", guid="a-1")]),
        atom10("B", [dataclasses.replace(BRIDGE, link=link + "#comments", guid="tag:b,2021:77")]),
        rss10("C", [dataclasses.replace(BRIDGE, link=link + "?fbclid=XYZ")]),
    ]
    feeds = ["https://a.example/rss", "https://b.example/atom", "https://c.example/rdf"]
    got = {keys(body, url)[0] for body, url in zip(variants, feeds, strict=True)}
    assert got == {item_key("https://news.example/2021/bridge-reopens", "", "")}


def test_a_link_shared_by_every_item_is_not_an_identity() -> None:
    home = "https://news.example/"
    entries = [dataclasses.replace(e, link=home, guid=None) for e in (BRIDGE, FERRY)]
    got = keys(rss20("W", entries, link=home))
    assert len(set(got)) == 2
    assert all(k.startswith("title:") for k in got)


def test_normalize_title() -> None:
    assert normalize_title("  “Bridge”  Reopens — at LAST! ") == "bridge reopens at last"


# --- fetching over HTTP ---


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("rss091", "text/xml"), ("rss092", RSS), ("rss10", RDF), ("rss20", RSS), ("atom10", ATOM)],
)
async def test_fetch_every_format(feeds: FeedServer, fetcher: Fetcher, name: str, content_type: str) -> None:
    url = feeds.feed("/feed", BUILDERS[name]("World", [BRIDGE]), content_type=content_type)
    got = await fetch_feed(fetcher, url)
    assert got.status == "ok"
    assert got.parsed is not None
    assert [i.title for i in got.parsed.items] == ["Harbour bridge reopens"]


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "text/plain", "application/octet-stream", None]
)
async def test_feed_served_with_a_wrong_or_no_type_is_sniffed(
    feeds: FeedServer, fetcher: Fetcher, content_type: str | None
) -> None:
    url = feeds.feed("/feed", atom10("World", [BRIDGE]), content_type=content_type)
    got = await fetch_feed(fetcher, url)
    assert got.parsed is not None and got.parsed.items[0].link == BRIDGE.link


async def test_html_page_is_not_a_feed(page_server: PageServer, fetcher: Fetcher) -> None:
    url = page_server.page("/news", "<!doctype html><html><body><p>Latest news</p></body></html>")
    with pytest.raises(NotAFeedError):
        await fetch_feed(fetcher, url)


async def test_image_is_not_a_feed(page_server: PageServer, fetcher: Fetcher) -> None:
    url = page_server.page("/logo", b"\x89PNG\r\n", content_type="image/png")
    with pytest.raises(NotAFeedError) as caught:
        await fetch_feed(fetcher, url)
    assert "image/png" in caught.value.message


async def test_etag_gives_not_modified(feeds: FeedServer, fetcher: Fetcher) -> None:
    url = feeds.feed("/feed", rss20("World", [BRIDGE]), last_modified=None)
    first = await fetch_feed(fetcher, url)
    assert first.etag is not None and first.last_modified is None
    second = await fetch_feed(fetcher, url, etag=first.etag)
    assert second.status == "not_modified"
    assert second.parsed is None
    assert second.etag == first.etag
    assert feeds.stats["/feed"].not_modified == 1
    assert feeds.stats["/feed"].conditional_headers[1] == {"If-None-Match": first.etag}


async def test_last_modified_gives_not_modified(feeds: FeedServer, fetcher: Fetcher) -> None:
    url = feeds.feed("/feed", rss20("World", [BRIDGE]), etag=False)
    first = await fetch_feed(fetcher, url)
    assert first.etag is None and first.last_modified is not None
    second = await fetch_feed(fetcher, url, last_modified=first.last_modified)
    assert second.status == "not_modified"
    assert second.last_modified == first.last_modified
    assert feeds.stats["/feed"].not_modified == 1


async def test_changed_feed_is_fetched_again_with_new_validators(feeds: FeedServer, fetcher: Fetcher) -> None:
    url = feeds.feed("/feed", lambda n: rss20("World", [BRIDGE] if n == 1 else [FERRY, BRIDGE]))
    first = await fetch_feed(fetcher, url)
    second = await fetch_feed(fetcher, url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == "ok"
    assert second.etag != first.etag
    assert second.parsed is not None and len(second.parsed.items) == 2
    assert feeds.stats["/feed"].not_modified == 0


async def test_guid_churn_over_http_keeps_keys(feeds: FeedServer, fetcher: Fetcher) -> None:
    url = feeds.feed("/feed", lambda n: rss20("W", [dataclasses.replace(BRIDGE, guid=f"fetch-{n}")]))
    runs = [await fetch_feed(fetcher, url) for _ in range(3)]
    items: list[FeedItem] = [r.parsed.items[0] for r in runs if r.parsed is not None]
    assert len({i.guid for i in items}) == 3
    assert len({i.key for i in items}) == 1


async def test_slow_feed_hits_the_time_cap(feeds: FeedServer, fetch_settings: FetchSettings) -> None:
    url = feeds.feed("/slow", rss20("W", [BRIDGE]), delay=5.0)
    async with Fetcher(dataclasses.replace(fetch_settings, timeout_seconds=0.3)) as fetcher:
        with pytest.raises(FetchTimeoutError):
            await fetch_feed(fetcher, url)


async def test_oversized_feed_hits_the_size_cap(feeds: FeedServer, fetch_settings: FetchSettings) -> None:
    url = feeds.feed("/big", rss20("W", [dataclasses.replace(BRIDGE, summary="x" * 5000)]))
    async with Fetcher(dataclasses.replace(fetch_settings, max_bytes=2000)) as fetcher:
        with pytest.raises(TooLargeError):
            await fetch_feed(fetcher, url)


async def test_truncated_feed_over_http_is_a_clear_error(feeds: FeedServer, fetcher: Fetcher) -> None:
    url = feeds.feed("/cut", rss20("W", [BRIDGE, FERRY])[:-40])
    with pytest.raises(NotAFeedError) as caught:
        await fetch_feed(fetcher, url)
    assert "stops in the middle" in caught.value.message


async def test_redirect_to_a_private_address_is_refused(page_server: PageServer, fetcher: Fetcher) -> None:
    if page_server.host == FALLBACK_HOST:
        pytest.skip("127.0.0.2 cannot be bound here, so 127.0.0.1 is the allowed page server")
    hidden = PageServer(FALLBACK_HOST)
    await hidden.start()
    try:
        FeedServer(hidden).feed("/internal", rss20("Internal", [BRIDGE]))
        url = page_server.redirect("/feed", hidden.url("/internal"))
        with pytest.raises(BlockedAddressError):
            await fetch_feed(fetcher, url)
        assert hidden.requests == []
    finally:
        await hidden.stop()


async def test_redirect_to_an_allowed_feed_is_followed(feeds: FeedServer, fetcher: Fetcher) -> None:
    target = feeds.feed("/new/feed.xml", rss20("W", [dataclasses.replace(BRIDGE, link="/story")]))
    url = feeds.server.redirect("/old", target, status=301)
    got = await fetch_feed(fetcher, url)
    assert got.parsed is not None
    item = got.parsed.items[0]
    assert item.link == feeds.server.url("/story")
    assert item.source_url == url  # the subscribed URL, so title keys don't move with redirects


def test_looks_like_feed() -> None:
    assert looks_like_feed(
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- hi --><?xml-stylesheet href="a"?>\n<rss>'
    )
    assert looks_like_feed('<?xml version="1.0"?><feed xmlns="x">'.encode("utf-16"))
    assert looks_like_feed(b'<rdf:RDF xmlns:rdf="x">')
    assert not looks_like_feed(b"<?xml version='1.0'?><urlset>")
    assert not looks_like_feed(b"<!doctype html><html><rss>")
