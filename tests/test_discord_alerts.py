"""Topic alerts on Discord: `DiscordAdapter.deliver`, real discord.py against the local emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from emulators.discord import (  # noqa: F401 (discord_emulator_fixture registers the fixture)
    NONCE_WINDOW_SECONDS,
    DiscordEmulator,
    discord_emulator_fixture,
)
from fakes import FakeBriefer, FakeClock

from adapters.discordbot.adapter import DiscordAdapter
from adapters.discordbot.alerts import alert_nonce
from adapters.discordbot.listeners import role_mention
from adapters.discordbot.render import CONTENT_LIMIT, EMBED_TOTAL_LIMIT, alert_content, units
from adapters.discordbot.replies import NotConnectedError, PostRefusedError
from bot.alerts.model import AlertRefused, Delivery, StoryAlert
from bot.chat.core import ChatCore
from bot.chat.model import Mention, Notice
from bot.chat.outbox import Outbox
from bot.config import DiscordSettings, Settings
from bot.models import Actor, Briefing
from bot.store import Store

MESSAGES = "POST /channels/{}/messages"
HARBOUR = Briefing(
    title="Harbour reopens after the storm",
    url="https://news.example.org/2024/harbour-reopens",
    published=None,
    summary=["The harbour reopened on Monday.", "Ferries run again from Tuesday."],
    actors=[Actor("Port Authority", "org", 3)],
)

EMPTY = Briefing(title=None, url=None, published=None, summary=[])


NO_BRIEFER = "alerts arrive already briefed; the adapter's own commands are not exercised here"


def settings_for(emulator: DiscordEmulator) -> Settings:
    return Settings(
        discord=DiscordSettings(
            message_content_intent=False, api_base_url=emulator.api_base, gateway_url=emulator.gateway_url
        )
    )


def alert(
    subscription: int,
    channel: int,
    *,
    story: str = "story-1",
    query: str = "harbour -airport",
    briefing: Briefing = HARBOUR,
    also: list[str] | None = None,
) -> Delivery:
    content = StoryAlert(subscription, query, briefing, tuple(also or ()))
    return Delivery(f"{subscription}:{story}", "discord", str(channel), content, 0.0)


@pytest_asyncio.fixture
async def start_adapter(
    discord_emulator: DiscordEmulator, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[DiscordAdapter]]]:
    """Run the adapter through its real `run` until it is ready; stopped after the test."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []
    async with await Store.open(tmp_path / "bot.sqlite3") as store:

        async def start(outbox: Outbox | None = None) -> DiscordAdapter:
            settings = settings_for(discord_emulator)
            adapter = DiscordAdapter(
                settings, token=discord_emulator.token, outbox=outbox, guild_ready_timeout=0.01
            )
            stop = asyncio.Event()
            task = asyncio.create_task(
                adapter.run(ChatCore(FakeBriefer(unused=NO_BRIEFER), store, settings.chat), stop)
            )
            running.append((stop, task))
            await asyncio.wait_for(adapter.ready.wait(), 10)
            return adapter

        yield start
        for stop, task in running:
            stop.set()
            await asyncio.wait_for(task, 10)


def posts(emulator: DiscordEmulator) -> list[Any]:
    return [entry for entry in emulator.log if entry.route == MESSAGES]


def instant_outbox() -> tuple[Outbox, list[float]]:
    """An Outbox whose rate-limit waits are recorded instead of slept."""
    clock = FakeClock()
    return Outbox(sleep=clock.sleep), clock.sleeps


async def test_an_alert_has_its_header_briefing_and_other_outlets(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    news = discord_emulator.channel_ids["news"]
    also = [
        "https://www.harbour-times.example/a?b=(1)",
        "https://coast.example.net/story",
        "ftp://x.example/",
    ]
    await adapter.deliver(alert(7, news, also=also))

    [message] = discord_emulator.messages
    header, also_text = message["content"].split("\n")
    assert header == "New story for `harbour -airport` (#7)"
    assert also_text == (
        "Also reported by: [harbour-times.example](<https://www.harbour-times.example/a?b=%281%29>), "
        "[coast.example.net](<https://coast.example.net/story>)"
    )
    [embed] = message["embeds"]
    assert embed["title"] == HARBOUR.title and embed["url"] == HARBOUR.url
    assert "The harbour reopened on Monday." in embed["description"]
    assert "Port Authority" in embed["fields"][0]["value"]
    [request] = posts(discord_emulator)
    assert request.body["allowed_mentions"]["parse"] == []  # nobody is pinged
    assert request.body["nonce"] == alert_nonce("7:story-1") and request.body["enforce_nonce"] is True
    assert message["channel_id"] == str(news)


async def test_an_alert_without_other_outlets_is_just_the_header(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    await adapter.deliver(alert(3, discord_emulator.channel_ids["general"], query="say `hi` there"))
    assert discord_emulator.messages[0]["content"] == "New story for `say 'hi' there` (#3)"


async def test_a_notice_is_plain_text_without_link_previews(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    general = discord_emulator.channel_ids["general"]
    text = "The feed https://feeds.example.org/rss failed 8 times in a row and was disabled."
    await adapter.deliver(Delivery("feed-disabled:1", "discord", str(general), Notice(text), 0.0))
    [message] = discord_emulator.messages
    assert message["content"] == text and message["embeds"] == []
    assert message["flags"] & 4  # SUPPRESS_EMBEDS: the feed's link is not previewed


async def test_a_burst_of_429s_delivers_every_alert_in_order_and_only_then_returns(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    """discord.py retries 5 times itself; 8 429s in a row make the outbox wait and send again."""
    outbox, waits = instant_outbox()
    adapter = await start_adapter(outbox)
    news = discord_emulator.channel_ids["news"]
    discord_emulator.rate_limit(MESSAGES, times=8, retry_after=0.01)
    seen_on_return: dict[int, list[str]] = {}

    async def deliver(number: int) -> None:
        await adapter.deliver(alert(number, news, query=f"topic {number}"))
        seen_on_return[number] = [m["content"] for m in discord_emulator.messages]

    await asyncio.gather(*(deliver(number) for number in range(1, 5)))

    contents = [m["content"] for m in discord_emulator.messages]
    assert contents == [f"New story for `topic {n}` (#{n})" for n in range(1, 5)]
    for number, seen in seen_on_return.items():
        assert f"New story for `topic {number}` (#{number})" in seen
    assert [entry.status for entry in posts(discord_emulator)].count(429) == 8
    assert waits  # the outbox took over from discord.py at least once


async def test_a_refused_post_raises_and_posts_nothing(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    with pytest.raises(AlertRefused) as refused:  # refused for good: the watcher parks it
        await adapter.deliver(alert(1, 999_999))  # a channel the guild does not have (deleted)
    assert isinstance(refused.value.__cause__, PostRefusedError)
    assert refused.value.__cause__.status == 404 and refused.value.__cause__.code == 10003
    assert discord_emulator.messages == []
    assert len(posts(discord_emulator)) == 1  # a refusal is not retried


async def test_a_replay_within_the_nonce_window_does_not_post_twice(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    """A crash after Discord accepted the alert but before it was marked delivered: it is sent again."""
    adapter = await start_adapter()
    news = discord_emulator.channel_ids["news"]
    clock = FakeClock()
    discord_emulator.clock = clock.monotonic
    await adapter.deliver(alert(5, news))
    clock.advance(NONCE_WINDOW_SECONDS / 2)
    await adapter.deliver(alert(5, news))
    assert len(discord_emulator.messages) == 1
    assert [entry.status for entry in posts(discord_emulator)] == [200, 200]

    await adapter.deliver(alert(5, news, story="story-2"))  # another story: another key, another nonce
    assert len(discord_emulator.messages) == 2

    # The limit: after the window, Discord (and the emulator) no longer recognises the nonce.
    clock.advance(NONCE_WINDOW_SECONDS + 1)
    await adapter.deliver(alert(5, news))
    assert len(discord_emulator.messages) == 3


async def test_an_alert_still_queued_when_the_adapter_stops_raises(
    discord_emulator: DiscordEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rate limited past the shutdown grace: `deliver` raises (the alert stays queued), it does not hang."""
    monkeypatch.setattr("adapters.shutdown.SHUTDOWN_GRACE_SECONDS", 0.05)
    settings = settings_for(discord_emulator)
    adapter = DiscordAdapter(
        settings, token=discord_emulator.token, outbox=Outbox(sleep=lambda _: asyncio.Event().wait())
    )
    stop = asyncio.Event()
    async with await Store.open(tmp_path / "bot.sqlite3") as store:
        running = asyncio.create_task(
            adapter.run(ChatCore(FakeBriefer(unused=NO_BRIEFER), store, settings.chat), stop)
        )
        await asyncio.wait_for(adapter.ready.wait(), 10)
        discord_emulator.rate_limit(MESSAGES, times=6, retry_after=0.01)  # discord.py gives up after 5
        delivering = asyncio.create_task(adapter.deliver(alert(1, discord_emulator.channel_ids["news"])))
        await discord_emulator.wait_for(lambda: len(posts(discord_emulator)) == 5)
        stop.set()
        with pytest.raises(NotConnectedError):
            await asyncio.wait_for(delivering, 10)
        await asyncio.wait_for(running, 10)
    assert discord_emulator.messages == []


async def test_deliver_before_the_adapter_runs_raises_at_once() -> None:
    adapter = DiscordAdapter(Settings(), token="unused")
    with pytest.raises(NotConnectedError):
        await adapter.deliver(alert(1, 1234))


def test_nonces_are_short_stable_and_distinct() -> None:
    assert alert_nonce("12:abc") == alert_nonce("12:abc")
    assert alert_nonce("12:abc") != alert_nonce("12:abd")
    assert len(alert_nonce("x" * 500)) <= 25


def test_alert_content_stays_within_the_message_limit() -> None:
    also = [f"https://outlet-{n}.example.com/{'long-path/' * 10}{n}" for n in range(200)]
    content = alert_content(StoryAlert(9, "word " * 600, EMPTY, tuple(also)))
    header, also_text = content.split("\n")
    assert units(content) <= CONTENT_LIMIT
    assert header.startswith("New story for `word word") and header.endswith("…` (#9)")
    shown = also_text.count("](<")
    assert 0 < shown < 200 and also_text.endswith(f" and {200 - shown} more")


def test_the_same_site_is_listed_once() -> None:
    also = ["https://a.example/1", "https://www.a.example/2", "https://b.example/3"]
    content = alert_content(StoryAlert(1, "q", EMPTY, tuple(also)))
    assert content.count("a.example") == 2  # one link text and its url
    assert content.count("](<") == 2


async def test_a_long_briefing_in_an_alert_fits_discord_limits(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    long = Briefing(
        title="T " * 400, url=HARBOUR.url, published=None, summary=["A long sentence. " * 300] * 5
    )
    await adapter.deliver(alert(2, discord_emulator.channel_ids["news"], briefing=long))
    [request] = posts(discord_emulator)
    [embed] = request.body["embeds"]
    title, description = embed["title"], embed["description"]
    assert units(title) <= 256 and units(description) <= 4096
    assert units(title) + units(description) + units(embed["footer"]["text"]) <= EMBED_TOTAL_LIMIT


# --- references and edits: another outlet of an alert already posted -------------------------------------

EDITS = "PATCH /channels/{}/messages/{}"


def edits(emulator: DiscordEmulator) -> list[Any]:
    return [entry for entry in emulator.log if entry.route == EDITS]


async def test_deliver_returns_the_posted_message_id_and_a_replay_returns_the_same(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    news = discord_emulator.channel_ids["news"]
    ref = await adapter.deliver(alert(4, news))
    [message] = discord_emulator.messages
    assert ref == message["id"]
    assert await adapter.deliver(alert(4, news)) == ref  # recognised by its nonce: the earlier message
    assert await adapter.deliver(alert(4, news, story="story-2")) != ref


async def test_update_edits_the_posted_alert_to_list_the_new_outlet(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    news = discord_emulator.channel_ids["news"]
    ref = await adapter.deliver(alert(7, news))
    assert "Also reported by" not in discord_emulator.messages[0]["content"]

    await adapter.update(alert(7, news, also=["https://coast.example.net/story"]), ref)

    [message] = discord_emulator.messages  # edited in place, nothing new posted
    assert message["id"] == ref and message["edited_timestamp"] is not None
    assert message["content"].split("\n")[1] == (
        "Also reported by: [coast.example.net](<https://coast.example.net/story>)"
    )
    [embed] = message["embeds"]  # the briefing is still there
    assert embed["title"] == HARBOUR.title
    [request] = edits(discord_emulator)
    assert request.path == f"/channels/{news}/messages/{ref}"
    assert request.body["allowed_mentions"]["parse"] == []


async def test_an_update_goes_through_a_burst_of_429s(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    outbox, waits = instant_outbox()
    adapter = await start_adapter(outbox)
    news = discord_emulator.channel_ids["news"]
    ref = await adapter.deliver(alert(7, news))
    discord_emulator.rate_limit(EDITS, times=7, retry_after=0.01)  # more than discord.py retries itself

    await adapter.update(alert(7, news, also=["https://coast.example.net/story"]), ref)

    assert "coast.example.net" in discord_emulator.messages[0]["content"]
    assert [entry.status for entry in edits(discord_emulator)] == [429] * 7 + [200]
    assert waits  # the outbox took over from discord.py


async def test_an_update_of_a_deleted_message_raises(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    news = discord_emulator.channel_ids["news"]
    ref = await adapter.deliver(alert(7, news))
    discord_emulator.delete_message(int(ref))
    with pytest.raises(PostRefusedError) as refused:
        await adapter.update(alert(7, news, also=["https://coast.example.net/story"]), ref)
    assert refused.value.status == 404 and refused.value.code == 10008
    assert len(edits(discord_emulator)) == 1  # a refusal is not retried


async def test_an_update_of_an_unknown_message_raises(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    news, general = discord_emulator.channel_ids["news"], discord_emulator.channel_ids["general"]
    ref = await adapter.deliver(alert(7, news))
    for channel, unknown in ((news, "123456789"), (general, ref)):  # a message of another channel too
        with pytest.raises(PostRefusedError) as refused:
            await adapter.update(alert(7, channel, also=["https://coast.example.net/story"]), unknown)
        assert refused.value.code == 10008
    assert "Also reported by" not in discord_emulator.messages[0]["content"]


async def test_update_before_the_adapter_runs_raises_at_once() -> None:
    adapter = DiscordAdapter(Settings(), token="unused")
    with pytest.raises(NotConnectedError):
        await adapter.update(alert(1, 1234), "42")


async def test_an_alert_pings_its_subscriptions_mention_and_nothing_it_quotes(
    discord_emulator: DiscordEmulator, start_adapter: Any
) -> None:
    adapter = await start_adapter()
    news = discord_emulator.channel_ids["news"]
    role = replace(alert(7, news, query="harbour"), mention=Mention("777", "<@&777>"))
    here = replace(alert(8, news), key="8:story-1", mention=Mention())
    quoting = Notice("Daily digest: @everyone <@&123456789012345678> cheers")
    digest = Delivery("digest:8:1", "discord", str(news), quoting, 0.0, Mention())
    for delivery in (role, here, digest):
        await adapter.deliver(delivery)
    first, second, third = (request.body for request in posts(discord_emulator))
    assert first["content"].startswith("<@&777> New story for `harbour` (#7)")
    assert first["allowed_mentions"]["parse"] == [] and first["allowed_mentions"]["roles"] == [777]
    assert second["content"].startswith("@here New story")
    assert second["allowed_mentions"]["parse"] == ["everyone"] and not second["allowed_mentions"].get("roles")
    # What the digest quotes is escaped: with "everyone" allowed, only the leading @here may ping.
    assert third["content"] == "@here Daily digest: @\u200beveryone <@\u200b&123456789012345678> cheers"
    # An edit (another outlet turned up) keeps the mention shown but pings nobody again.
    await adapter.update(replace(role, content=replace(role.content, also=("https://b.example/x",))),
                         discord_emulator.messages[0]["id"])  # fmt: skip
    edit = [e for e in discord_emulator.log if e.route.startswith("PATCH")][-1].body
    assert edit["content"].startswith("<@&777> ") and edit["allowed_mentions"]["parse"] == []
    assert "roles" not in edit["allowed_mentions"] or edit["allowed_mentions"]["roles"] == []


def test_a_role_mention_is_read_from_discords_markup() -> None:
    assert role_mention("<@&123456789012345678>") == Mention("123456789012345678", "<@&123456789012345678>")
    for written in ("@Mods", "<@123>", "<#123>", "<@&123> x", "@here"):
        assert role_mention(written) is None
