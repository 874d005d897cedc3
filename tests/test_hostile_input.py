"""Hostile input in chat: the same real Briefer the bot runs (fetcher, guard, pipeline in a worker thread),
driven through the platform-neutral ChatCore as the Slack and Discord adapters drive it."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pageserver import EveryNameIsLocal, PageServer

from bot.briefer import Briefer
from bot.chat.core import ChatCore
from bot.chat.links import canonical_url, find_links
from bot.chat.model import Notice, Outcome, Person, Place
from bot.config import ChatSettings, FetchSettings, Settings
from bot.fetch import Fetcher
from bot.models import Briefing
from bot.store import Store
from bot.workers import BriefingWorkers

HERE = Place("slack", "C1", thread="1.2")
ALICE = Person("U1")
STORY = (
    "The city council of Northbridge voted on Tuesday to close the old river bridge to cars from next "
    "month. Engineers found cracks in two of its supports in January 2024, the council said. Mayor Ellen "
    "Brook told reporters that buses and bicycles would still cross until repairs begin in the spring."
)


@pytest.fixture
async def core(
    tmp_path: Path, fetch_settings: FetchSettings, page_server: PageServer
) -> AsyncIterator[ChatCore]:
    settings = Settings(fetch=fetch_settings)
    local_dns = EveryNameIsLocal(page_server.host)  # whatever a test pastes, nothing leaves the machine
    async with (
        await Store.open(tmp_path / "bot.sqlite3") as store,
        Fetcher(fetch_settings, resolver=local_dns) as fetcher,
        BriefingWorkers.in_thread(settings) as workers,
    ):
        yield ChatCore(Briefer(fetcher, workers), store, ChatSettings(auto_brief=True))


def code_of(outcome: Outcome) -> str | None:
    return outcome.reply.code if isinstance(outcome.reply, Notice) else None


@pytest.mark.parametrize(
    "link",
    [
        "http://" + "a" * 64 + ".localhost/",  # was internal_error: the resolver's IDNA codec raised
        "http://" + ".".join(["b" * 60] * 5) + "/",
        "http://a..localhost/",
        "http://xn--zz.localhost/",
    ],
)
async def test_a_link_whose_host_is_no_host_name_is_an_invalid_url(core: ChatCore, link: str) -> None:
    outcome = await core.on_command(HERE, ALICE, link)
    assert code_of(outcome) == "invalid_url" and outcome.private


async def test_a_pasted_link_with_an_impossible_port_is_answered_with_the_others(
    core: ChatCore, page_server: PageServer
) -> None:
    # canonical_url (the cache key) raised ValueError on ":99999" before any briefing began, so no link of
    # the message was answered and the adapter got the exception.
    good = page_server.page("/story", f"<html><body><article><p>{STORY}</p></article></body></html>")
    outcomes = [o async for o in core.on_message(HERE, ALICE, f"see http://localhost:99999/x and {good}")]
    assert [code_of(o) for o in outcomes] == ["invalid_url", None]
    assert isinstance(outcomes[1].reply, Briefing) and outcomes[1].reply.summary


async def test_lone_surrogates_in_chat_text_and_links_are_replaced(
    core: ChatCore, page_server: PageServer
) -> None:
    text = await core.on_command(HERE, ALICE, STORY.replace("Northbridge", "North\udcaebridge"))
    assert isinstance(text.reply, Briefing)
    assert any("North\ufffdbridge" in line for line in text.reply.summary)
    page_server.page("/p\ufffd", f"<html><body><article><p>{STORY}</p></article></body></html>")
    link = await core.on_command(HERE, ALICE, page_server.url("/p\udcae"))
    assert isinstance(link.reply, Briefing) and link.reply.summary


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://News.test:99999/a?utm_source=x", "http://news.test:99999/a"),
        ("http://news.test:port/a", "http://news.test:port/a"),
        ("http://[bad", "http://[bad"),
        ("http://news.test/a?q=\udcae", "http://news.test/a?q=%EF%BF%BD"),
    ],
)
def test_canonical_url_is_total(url: str, key: str) -> None:
    assert canonical_url(url) == key


def test_find_links_survives_impossible_ports() -> None:
    assert find_links("http://a.test:99999/x http://a.test:port/y http://b.test/", 5) == [
        "http://a.test:99999/x",
        "http://a.test:port/y",
        "http://b.test/",
    ]
