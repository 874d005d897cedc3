"""Fuzz: hypothesis over `batch` lines (the real Briefer: fetcher, guard, pipeline in a worker thread) and
over feed documents (`parse_feed`). Bounded in examples, never timed: the suite stays fast on busy cores.

Every batch line gets one strict JSON line back, in order, with its id echoed (or null when it can't be) and
never `internal_error`; every feed document gives items or NotAFeedError, and hostile text inside items
never costs the feed an item.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from fakes import BRIEFING_KEYS
from feedserver import Entry, atom10, rss092, rss10, rss20
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pageserver import EveryNameIsLocal, PageServer, loopback_host

from bot import errors
from bot.alerts.feeds import parse_feed
from bot.batch import run_batch
from bot.briefer import Briefer
from bot.config import FetchSettings, Settings
from bot.errors import NotAFeedError
from bot.fetch import Fetcher
from bot.workers import BriefingWorkers

T = TypeVar("T")
STORY = (
    "The city council of Northbridge voted on Tuesday to close the old river bridge to cars from next "
    "month. Engineers found cracks in two of its supports in January 2024, the council said. Mayor Ellen "
    "Brook told reporters that buses and bicycles would still cross until repairs begin in the spring."
)
PAGE = f"<html><head><title>Bridge</title></head><body><article><p>{STORY}</p></article></body></html>"
USER_CODES = {
    cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.BriefError)
} - {"internal_error", "brief_error"}
_SURROGATE = re.compile("[\ud800-\udfff]")
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- a running bot core, on an event loop of its own (hypothesis calls the test synchronously) -----------


@dataclass
class Core:
    loop: asyncio.AbstractEventLoop
    briefer: Briefer
    server: PageServer

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=300)


@pytest.fixture(scope="module")
def core() -> Iterator[Core]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzz-loop", daemon=True)
    thread.start()
    server = PageServer(loopback_host())
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=30)
    fetch = FetchSettings(allow_private_networks=(server.network,), timeout_seconds=2.0)
    # Every name resolves to the page server and IP literals are drawn from a fixed list: a fuzzed link can
    # reach nothing beyond this machine.
    fetcher = Fetcher(fetch, resolver=EveryNameIsLocal(server.host))
    workers = BriefingWorkers.in_thread(Settings(fetch=fetch))
    asyncio.run_coroutine_threadsafe(fetcher.__aenter__(), loop).result(timeout=30)
    server.page("/story", PAGE)
    server.page("/plain", STORY, content_type="text/plain; charset=utf-8")
    server.page("/huge-header", PAGE, headers={"X-Big": "a" * 7000})
    try:
        yield Core(loop, Briefer(fetcher, workers), server)
    finally:
        asyncio.run_coroutine_threadsafe(fetcher.__aexit__(None, None, None), loop).result(timeout=30)
        workers.close()
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


# --- batch lines ---------------------------------------------------------------------------------------

HOSTILE_BITS = st.sampled_from(
    [
        "\udcae",
        "\ud800",
        "\udfff",
        "\x00",
        "\x1b",
        "\u202e",
        "\ufeff",
        "\U0001d54f",
        "&#xD800;",
        "\u2028",
        "é",
    ]
)
TEXTS = st.lists(st.one_of(st.text(max_size=30), HOSTILE_BITS, st.just(STORY)), max_size=4).map("".join)
# Host names start with a letter, so none is an IP literal (legacy forms like "16777217" included): those
# come only from this list of loopback, private and broken ones.
HOSTS = st.one_of(
    st.sampled_from(
        [
            "localhost",
            "news.test",
            "a" * 64 + ".test",
            "a..test",
            ".test",
            "xn--zz.test",
            "xn--a-ecp.test",
            "[::1]",
            "[bad",
            "127.0.0.1",
            "0x7f.1",
            "10.0.0.1",
            "169.254.169.254",
            "",
            "ü" * 30 + ".test",
            ".".join(["b" * 60] * 5),
            "news.test.",
            "user:pw@news.test",
        ]
    ),
    st.from_regex(r"[a-zA-Zé\udcae][a-zA-Z0-9é\-_.]{0,70}", fullmatch=True),
)
PATHS = st.one_of(
    st.sampled_from(["/story", "/plain", "/huge-header", "/missing", "/"]), TEXTS.map("/".__add__)
)


@st.composite
def urls(draw: st.DrawFn, server_host: str) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "ftp", "javascript"]))
    host = draw(st.one_of(HOSTS, st.just(server_host)))
    port = draw(st.sampled_from(["", ":{port}", ":99999", ":0", ":port", ":9"]))
    return f"{scheme}://{host}{port}{draw(PATHS)}"


IDS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**60),
    st.floats(),  # NaN and ±Infinity included: json.dumps writes them as the bare words
    st.just(1e308).map(lambda x: x * 10),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
)
PUBLISHED = st.one_of(
    st.none(),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "2024-02-30", "yesterday", "20210901", "2021-W36-1"]),
    st.text(max_size=12),
    st.integers(),
    st.lists(st.integers(), max_size=2),
)


@st.composite
def json_rows(draw: st.DrawFn, server_host: str) -> tuple[str, Any]:
    """A JSON object line, as a JSON encoder writes hostile values (lone surrogates as \\udcae escapes,
    NaN as NaN), and the id it must echo."""
    row: dict[str, Any] = {}
    if draw(st.booleans()):
        row["id"] = draw(IDS)
    kind = draw(st.sampled_from(["text", "html", "url", "none", "several"]))
    if kind in ("text", "several"):
        row["text"] = draw(st.one_of(TEXTS, st.integers(), st.none()))
    if kind in ("html", "several"):
        body = draw(TEXTS)
        row["html"] = draw(
            st.sampled_from([f"<html><title>{body}</title><p>{STORY} {body}</p></html>", body])
        )
    if kind in ("url", "several") or (kind == "html" and draw(st.booleans())):
        row["url"] = draw(st.one_of(urls(server_host), TEXTS.filter(lambda s: "://" not in s)))
    if draw(st.booleans()):
        row["published"] = draw(PUBLISHED)
    return json.dumps(row), expected_id(row.get("id"))


def expected_id(value: Any) -> Any:
    """What the id is echoed as: lone surrogates as U+FFFD; None when JSON can't say it (NaN, Infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    return value


RAW_LINES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ['{"id": ' + "1" * 5000 + "}", "[" * 3000 + "]" * 3000, '{"a": ' * 2000, "NaN", "{", "[]"]
    ),
).filter(lambda s: "\n" not in s and "\r" not in s and not s.lstrip().startswith("{"))


@st.composite
def batches(draw: st.DrawFn, server_host: str) -> list[tuple[str, Any]]:
    return draw(
        st.lists(
            st.one_of(json_rows(server_host), RAW_LINES.map(lambda line: (line, None))),
            min_size=1,
            max_size=4,
        )
    )


def check_answer(line: str, expected: Any) -> dict[str, Any]:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON: {line[:200]}")

    line.encode("utf-8")  # no lone surrogate: the process writes this as UTF-8
    answer = json.loads(line, parse_constant=refuse)
    assert answer["id"] == expected
    if "error" in answer:
        assert set(answer) == {"id", "error"}
        assert answer["error"]["code"] in USER_CODES, answer
        assert answer["error"]["message"]
    else:
        assert set(answer) == {"id"} | BRIEFING_KEYS
    return answer


@FUZZ
@given(data=st.data())
def test_every_batch_line_is_answered_in_order_with_its_own_code(core: Core, data: st.DataObject) -> None:
    host = f"{core.server.host}"
    lines = data.draw(batches(host))
    lines = [(line.replace("{port}", str(core.server.port)), expected) for line, expected in lines]
    answered = [(line, expected) for line, expected in lines if line.strip()]
    out: list[str] = []

    async def source() -> Any:
        for line, _ in lines:
            yield line

    async def write(line: str) -> None:
        out.append(line)

    count = core.run(run_batch(source(), core.briefer, write, window=2))
    assert count == len(out) == len(answered)
    for line, (_, expected) in zip(out, answered, strict=True):
        check_answer(line, expected)


# --- feed documents ------------------------------------------------------------------------------------

BUILDERS = [rss20, rss092, rss10, atom10]
# Raw XML put inside a title, summary or link: character references naming no character (surrogates, past
# U+10FFFF, too long for C), escaped references, controls, NUL, entities XML doesn't define.
CHAR_REFS = st.one_of(
    st.integers(min_value=0, max_value=0x11FFFF).map(lambda n: f"&#x{n:X};"),
    st.integers(min_value=0, max_value=10**15).map(lambda n: f"&#{n};"),
    st.sampled_from(["&#xD800;", "&#99999999999;", "&amp;#xDFFF;", "&#x;", "&#;", "&nbsp;", "&bogus;", "&"]),
)
RAW_TEXT = st.lists(
    st.one_of(
        CHAR_REFS, st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "]]>", "\ufffe"]), st.text(max_size=8)
    ),
    max_size=4,
).map("".join)
RAW_LINKS = st.one_of(
    st.sampled_from(
        [
            "http://[bad",
            "http://[::1",
            "https://n.test:99999/x",
            "https://n.test:port/",
            "javascript:x()",
            "//n.test/x",
            "/relative",
            "http://",
            "http://" + "a" * 64 + ".test/",
            "https://n.test/&#xD800;",
        ]
    ),
    # The builders write links into attributes too (Atom's href, RDF's about): no quotes, or the generator
    # itself would break the markup around the item.
    st.text(max_size=20).filter(lambda s: not set(s) & set("<&\"'")),
)


def _escape_for_raw(text: str) -> str:
    return text.replace("<", "&lt;")  # keep the markup of the item itself whole; "&" stays raw on purpose


@st.composite
def feed_documents(draw: st.DrawFn) -> tuple[bytes | str, int]:
    """A feed whose items hold hostile raw text and links, and how many items it has."""
    count = draw(st.integers(min_value=1, max_value=4))
    raw: list[str] = []

    def slot(value: str) -> str:
        raw.append(value)
        return f"@@{len(raw) - 1}@@"

    entries = [
        Entry(
            title=f"Item {i} " + slot(_escape_for_raw(draw(RAW_TEXT))),
            link=slot(_escape_for_raw(draw(RAW_LINKS))) if draw(st.booleans()) else f"https://n.test/{i}",
            guid=f"urn:item:{i}",
            summary=slot(_escape_for_raw(draw(RAW_TEXT))),
        )
        for i in range(count)
    ]
    builder = draw(st.sampled_from(BUILDERS))
    document = builder("Hostile", entries, link=draw(st.one_of(st.just("https://n.test/"), RAW_LINKS)))
    document = re.sub(r"@@(\d+)@@", lambda m: raw[int(m[1])], document)
    if draw(st.booleans()):
        return document, count  # text input: may hold lone surrogates and NULs as they are
    return document.encode("utf-8", errors="surrogatepass"), count  # bytes, some of them not UTF-8


@FUZZ
@given(document=feed_documents())
def test_hostile_text_inside_feed_items_costs_no_item(document: tuple[bytes | str, int]) -> None:
    data, count = document
    try:
        parsed = parse_feed(data, "https://n.test/feed.xml")
    except NotAFeedError as error:
        # Only a document whose bytes aren't UTF-8 at all (a surrogate written raw) may be unreadable.
        assert isinstance(data, bytes) and _not_utf8(data), error.message
        return
    assert len(parsed.items) == count
    for item in parsed.items:
        for text in (item.title, item.summary, item.key, item.link or "", item.guid or ""):
            text.encode("utf-8")
        assert item.title.startswith("Item ")
        assert item.link is None or re.match(r"https?://", item.link)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=400),
        feed_documents().map(lambda d: d[0] if isinstance(d[0], bytes) else d[0].encode("utf-8", "replace")),
    ),
    cuts=st.lists(st.tuples(st.integers(min_value=0, max_value=2000), st.binary(max_size=3)), max_size=4),
)
def test_any_bytes_give_items_or_not_a_feed(data: bytes, cuts: list[tuple[int, bytes]]) -> None:
    for position, replacement in cuts:  # splice a few random bytes in: truncations, stray NULs, bad UTF-8
        data = data[:position] + replacement + data[position + len(replacement) :]
    try:
        parsed = parse_feed(data, "https://n.test/feed.xml")
    except NotAFeedError:
        return
    for item in parsed.items:
        item.title.encode("utf-8")
        item.summary.encode("utf-8")
        assert item.link is None or re.match(r"https?://", item.link)
