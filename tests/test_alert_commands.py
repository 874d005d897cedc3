"""Topic-alert commands through the chat core, on a real SQLite file."""

import pytest
from fakes import FakeBriefer

from bot.alerts.catalogue import CATALOGUE, DEFAULT_SOURCES
from bot.alerts.commands import MANAGERS_ONLY, AlertCommands
from bot.chat.commands import Subscribe
from bot.chat.core import ChatCore
from bot.chat.model import Mention, Notice, Outcome, Person, Place
from bot.config import AlertSettings, ChatSettings, ConfigError
from bot.store import Store

HERE = Place("discord", "100")
MANAGER = Person("7", can_manage=True)
MEMBER = Person("8")


def core(store: Store, **alerts: object) -> ChatCore:
    settings = AlertSettings(default_feeds=("https://news.example/rss",), **alerts)  # type: ignore[arg-type]
    return ChatCore(
        FakeBriefer(unused="alert commands never brief"),
        store,
        ChatSettings(),
        alerts=AlertCommands(store, settings, now=lambda: 1e9),
    )


def text(outcome: Outcome) -> str:
    assert isinstance(outcome.reply, Notice)
    return outcome.reply.text


async def test_subscribe_list_and_unsubscribe(store: Store) -> None:
    bot = core(store)
    done = await bot.on_command(HERE, MANAGER, 'subscribe "North Korea" missile -sports')
    assert not done.private
    assert text(done).startswith("Subscribed (#1): ")
    assert "1 source" in text(done)
    again = await bot.on_command(HERE, MANAGER, 'subscribe  missile  "north korea" -sports')
    assert again.private and "already follows" in text(again), "the same query written differently is one"
    await bot.on_command(HERE, MANAGER, "subscribe drought --digest daily@08:00")
    listed = await bot.on_command(HERE, MEMBER, "subscriptions")
    assert listed.private
    assert "#1 `" in text(listed) and "#2 `drought`" in text(listed) and "digest daily@08:00" in text(listed)
    gone = await bot.on_command(HERE, MANAGER, "unsubscribe #1")
    assert text(gone).startswith("Unsubscribed #1")
    assert [s.id for s in await store.subscriptions("discord", "100")] == [2]
    by_query = await bot.on_command(HERE, MANAGER, "unsubscribe drought")
    assert text(by_query).startswith("Unsubscribed #2")


async def test_only_managers_change_things(store: Store) -> None:
    bot = core(store)
    for command in ("subscribe floods", "unsubscribe 1", "source add https://other.example/feed.xml"):
        refused = await bot.on_command(HERE, MEMBER, command)
        assert refused.private and text(refused) == MANAGERS_ONLY
    assert await store.subscriptions() == []


async def test_bad_queries_show_where_they_are_wrong(store: Store) -> None:
    bot = core(store)
    bad = await bot.on_command(HERE, MANAGER, 'subscribe "north korea')
    assert bad.private and bad.reply.code == "invalid_query"  # type: ignore[union-attr]
    assert "```" in text(bad) and "^" in text(bad)
    for wrong in ("subscribe", "subscribe floods --digest weekly", "subscribe -sports"):
        assert (await bot.on_command(HERE, MANAGER, wrong)).private


async def test_sources_default_and_own(store: Store) -> None:
    bot = core(store, max_feeds_per_channel=1)
    added = await bot.on_command(HERE, MANAGER, "source add https://Local.example/feed.xml?utm_source=x")
    assert text(added).startswith("Added the source https://local.example/feed.xml")
    full = await bot.on_command(HERE, MANAGER, "source add https://third.example/atom")
    assert full.private and "as many sources" in text(full)
    listed = text(await bot.on_command(HERE, MEMBER, "sources"))
    assert "https://news.example/rss (default)" in listed
    assert "https://local.example/feed.xml (added here)" in listed
    removed = await bot.on_command(HERE, MANAGER, "source remove https://local.example/feed.xml")
    assert text(removed).startswith("Removed the source")


async def test_limits_per_channel(store: Store) -> None:
    bot = core(store, max_subscriptions_per_channel=1)
    await bot.on_command(HERE, MANAGER, "subscribe floods")
    refused = await bot.on_command(HERE, MANAGER, "subscribe drought")
    assert refused.private and refused.reply.code == "too_many"  # type: ignore[union-attr]


async def test_a_new_source_must_be_a_readable_feed(store: Store) -> None:
    from bot.errors import NotAFeedError  # noqa: PLC0415

    async def check_feed(url: str) -> str:
        if "page" in url:
            raise NotAFeedError()
        return "Valley Courier"

    settings = AlertSettings()
    bot = ChatCore(
        FakeBriefer(unused="alert commands never brief"),
        store,
        ChatSettings(),
        alerts=AlertCommands(store, settings, check_feed=check_feed),
    )
    refused = await bot.on_command(HERE, MANAGER, "source add https://news.example/page.html")
    assert refused.private and refused.reply.code == "not_a_feed"  # type: ignore[union-attr]
    assert await store.channel_feeds() == []
    added = await bot.on_command(HERE, MANAGER, "source add https://news.example/rss")
    assert text(added).startswith("Added the source Valley Courier (https://news.example/rss)")


async def test_a_fresh_install_watches_the_catalogue_defaults_and_says_which(store: Store) -> None:
    checked: list[str] = []

    async def check_feed(url: str) -> str:
        checked.append(url)  # the real one fetches the feed through the safe fetcher; nothing leaves here
        return "whatever the feed calls itself"

    settings = AlertSettings()  # the defaults: catalogue names, no URLs to hunt for
    bot = ChatCore(
        FakeBriefer(unused="alert commands never brief"),
        store,
        ChatSettings(),
        alerts=AlertCommands(store, settings, now=lambda: 1e9, check_feed=check_feed),
    )
    done = text(await bot.on_command(HERE, MANAGER, 'subscribe "North Korea"'))
    assert f"from {len(DEFAULT_SOURCES)} sources (BBC News, World (`bbc-world`);" in done
    assert "no sources yet" not in done

    added = await bot.on_command(HERE, MANAGER, "source add ars-technica")
    assert checked == ["https://feeds.arstechnica.com/arstechnica/index"]
    assert text(added).startswith("Added the source Ars Technica (`ars-technica`)")
    listed = text(await bot.on_command(HERE, MEMBER, "sources"))
    assert "• Ars Technica (`ars-technica`) (added here)" in listed
    assert "• BBC News, World (`bbc-world`) (default)" in listed
    assert "• `bbc-business`: BBC News, Business" in listed, "what the catalogue offers besides"
    assert "`bbc-world`:" not in listed, "a watched source is not offered again"
    removed = await bot.on_command(HERE, MANAGER, "source remove ars-technica")
    assert text(removed).startswith("Removed the source")
    unknown = await bot.on_command(HERE, MANAGER, "source add no-such-paper")
    assert unknown.private and "`/brief sources` lists the names" in text(unknown)
    assert checked == ["https://feeds.arstechnica.com/arstechnica/index"]


def test_default_feeds_take_catalogue_names_or_urls_and_nothing_else() -> None:
    settings = AlertSettings(default_feeds=("npr-news", "https://feeds.example/rss.xml"))
    assert settings.default_feed_urls == (
        "https://feeds.npr.org/1001/rss.xml",
        "https://feeds.example/rss.xml",
    )
    with pytest.raises(ConfigError, match="no-such-paper"):
        AlertSettings(default_feeds=("no-such-paper",))
    assert {feed.name for feed in CATALOGUE} >= set(DEFAULT_SOURCES)
    assert len({feed.url for feed in CATALOGUE}) == len(CATALOGUE)


async def test_subscriptions_mention_here_a_group_or_refuse_what_they_cannot_ping(store: Store) -> None:
    bot = core(store)
    here = await bot.on_command(HERE, MANAGER, "subscribe floods --mention @here")
    assert not here.private and ", mentioning @here" in text(here)
    group = Mention("777", "<@&777>")  # what an adapter found for "--mention <@&777>"
    grouped = await bot.handle(HERE, MANAGER, Subscribe("drought", None, "<@&777>", group))
    assert ", mentioning <@&777>" in text(grouped)
    unknown = await bot.on_command(HERE, MANAGER, "subscribe wildfire --mention @nobody")
    assert unknown.private and unknown.reply.code == "bad_input" and "@nobody" in text(unknown)
    assert [(s.query, s.mention) for s in await store.subscriptions()] == [
        ("floods", Mention()),
        ("drought", group),
    ]
    listed = text(await bot.on_command(HERE, MEMBER, "subscriptions"))
    assert "`floods`: 0 alerts" in listed and "mentions @here" in listed and "mentions <@&777>" in listed
    # Subscribing again with another mention changes who is pinged, not the subscription.
    changed = await bot.handle(HERE, MANAGER, Subscribe("floods", None, "<@&777>", group))
    assert text(changed) == "#1 `floods` now mentions <@&777> with each alert."
    assert [s.mention for s in await store.subscriptions()] == [group, group]
    refused = await bot.handle(HERE, MEMBER, Subscribe("floods", None, "@here"))
    assert refused.private and text(refused) == MANAGERS_ONLY
