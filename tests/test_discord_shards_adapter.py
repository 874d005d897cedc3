"""Discord shards through the real adapter (discord.py's AutoShardedClient) against the emulator: replicas
that each run some of the shards answer only their own guilds, and post alerts anywhere over REST."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from emulators.discord import (  # noqa: F401 (discord_emulator_fixture registers the fixture)
    DiscordEmulator,
    discord_emulator_fixture,
    discord_endpoints_restored,
)
from fakes import FakeBriefer

from adapters.discordbot.adapter import DiscordAdapter
from bot.alerts.model import Delivery, StoryAlert
from bot.chat.core import ChatCore
from bot.config import ChatSettings, DiscordSettings, Settings
from bot.models import Briefing
from bot.store import Store

GUILDS = {"Harbour": ("general", "news"), "Bridge": ("general", "news")}  # on shards 0 and 1 of 2
CALLBACKS = "POST /interactions/{}/{}/callback"
EDITS = "PATCH /webhooks/{}/{}/messages/{}"
WAIT = 30  # generous: a second shard in one client identifies 5 s after the first (discord.py's pacing)


class Replica:
    """A running adapter with its own briefer: what it was asked tells which replica answered."""

    def __init__(self, adapter: DiscordAdapter, briefer: FakeBriefer) -> None:
        self.adapter, self.briefer = adapter, briefer


Start = Callable[..., Awaitable[Replica]]


@pytest_asyncio.fixture
async def sharded() -> AsyncIterator[DiscordEmulator]:
    with discord_endpoints_restored():
        async with DiscordEmulator(guilds=GUILDS, shard_count=2) as emulator:
            yield emulator


def start_replicas(emulator: DiscordEmulator, store: Store) -> tuple[Start, Callable[[], Awaitable[None]]]:
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(**shards: Any) -> Replica:
        discord = DiscordSettings(
            message_content_intent=True,
            api_base_url=emulator.api_base,
            gateway_url=emulator.gateway_url,
            **shards,
        )
        # One person (the emulator's default user) asks for four briefings across the replicas, whose rate
        # limits are shared through the one store: a burst that allows them all.
        settings = Settings(discord=discord, chat=ChatSettings(user_burst=10))
        adapter = DiscordAdapter(settings, token=emulator.token, guild_ready_timeout=0.01)
        briefer = FakeBriefer(
            lambda url: Briefing(title=f"Title of {url}", url=url, published=None, summary=[])
        )
        stop = asyncio.Event()
        task = asyncio.create_task(adapter.run(ChatCore(briefer, store, settings.chat), stop))
        running.append((stop, task))
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait({task, ready}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise AssertionError(f"adapter never became ready: {task.exception() if task.done() else 'hung'}")
        return Replica(adapter, briefer)

    async def stop_all() -> None:
        for stop, task in running:
            stop.set()
            await asyncio.wait_for(task, WAIT)

    return start, stop_all


@pytest_asyncio.fixture
async def start(sharded: DiscordEmulator, store: Store) -> AsyncIterator[Start]:
    starting, stop_all = start_replicas(sharded, store)
    yield starting
    await stop_all()


@pytest_asyncio.fixture
async def start_unsharded(discord_emulator: DiscordEmulator, store: Store) -> AsyncIterator[Start]:
    starting, stop_all = start_replicas(discord_emulator, store)
    yield starting
    await stop_all()


def link(guild: str, kind: str = "story") -> str:
    return f"https://news.example.org/2024/{guild.lower()}-{kind}"


def answered(emulator: DiscordEmulator, token: str, route: str) -> list[int]:
    """Statuses of the answers to the interaction with this token, on `route`."""
    return [entry.status for entry in emulator.log if entry.route == route and token in entry.path]


async def test_each_replica_answers_only_the_guilds_on_its_shard(
    sharded: DiscordEmulator, start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.discordbot")
    harbour, bridge = sharded.guilds
    assert [sharded.shard_of(harbour.id), sharded.shard_of(bridge.id)] == [0, 1]
    replicas = [await start(shard_count=2, shard_ids=(0,)), await start(shard_count=2, shard_ids=(1,))]
    assert [session.shard for session in sharded.sessions] == [(0, 2), (1, 2)]

    sent = {}
    for guild in sharded.guilds:
        general = guild.channel_ids["general"]
        sent[guild.name] = await sharded.send_slash_command(
            "brief", {"url": link(guild.name)}, channel_id=general
        )
        await sharded.send_message(guild.channel_ids["news"], f"Pasted: {link(guild.name, 'pasted')}")
    await sharded.wait_for(lambda: all(s.edits for s in sent.values()), WAIT)  # "Posted: ..."
    await sharded.wait_for(lambda: len(sharded.messages) >= 4, WAIT)  # briefings of /brief and pasted links
    await sharded.wait_for(lambda: all(r.adapter.in_flight == 0 for r in replicas), WAIT)

    for replica, guild in zip(replicas, sharded.guilds, strict=True):
        asked, pasted = link(guild.name), link(guild.name, "pasted")
        assert sorted(replica.briefer.urls) == sorted([asked, pasted])
        token = sent[guild.name].token
        assert answered(sharded, token, CALLBACKS) == [200], "acknowledged once"
        assert answered(sharded, token, EDITS) == [200], "told once where the briefing was posted"
        for channel, title in (("general", asked), ("news", pasted)):
            [posted] = [m for m in sharded.messages if m["channel_id"] == str(guild.channel_ids[channel])]
            assert posted["embeds"][0]["title"] == f"Title of {title}"
    logs = caplog.messages
    assert "discord: this replica runs shard(s) 0 of 2" in logs
    assert "discord: this replica runs shard(s) 1 of 2" in logs
    assert any(line.endswith("in 1 guild(s) on shard(s) 1 of 2") for line in logs), logs


async def test_any_replica_posts_alerts_to_any_guild_over_rest(
    sharded: DiscordEmulator, start: Start
) -> None:
    only_shard_0 = await start(shard_count=2, shard_ids=(0,))  # nothing runs shard 1
    bridge_news = sharded.guilds[1].channel_ids["news"]
    briefing = Briefing(
        title="Bridge vote passes", url=link("Bridge"), published=None, summary=["It passed."]
    )
    delivery = Delivery("1:story-1", "discord", str(bridge_news), StoryAlert(1, "bridge", briefing, ()), 0.0)
    message_id = await only_shard_0.adapter.deliver(delivery)
    [posted] = sharded.messages
    assert posted["id"] == message_id and posted["channel_id"] == str(bridge_news)
    assert posted["guild_id"] == str(sharded.guilds[1].id)
    assert "Bridge vote passes" in str(posted["embeds"])
    assert not any(session.serves(sharded.guilds[1].id) for session in sharded.sessions)


async def test_one_replica_running_every_shard_is_ready_once_all_of_them_are(
    sharded: DiscordEmulator, start: Start
) -> None:
    replica = await start(shard_count=2)
    assert sorted(session.shard for session in sharded.sessions) == [(0, 2), (1, 2)]
    assert all(session.received("GUILD_CREATE") for session in sharded.sessions), "ready after both"
    sent = [
        await sharded.send_slash_command(
            "brief", {"url": link(guild.name)}, channel_id=guild.channel_ids["general"]
        )
        for guild in sharded.guilds
    ]
    await sharded.wait_for(lambda: all(s.edits for s in sent), WAIT)
    assert sorted(replica.briefer.urls) == sorted(link(guild.name) for guild in sharded.guilds)


async def test_unsharded_is_one_shard_as_before(
    discord_emulator: DiscordEmulator, start_unsharded: Start
) -> None:
    await start_unsharded()
    [identify] = discord_emulator.identifies
    assert identify["shard"] == [0, 1]
    assert not any(entry.route == "GET /gateway/bot" for entry in discord_emulator.log), (
        "never asks for a count"
    )


async def test_check_names_this_replicas_shards(sharded: DiscordEmulator) -> None:
    discord = DiscordSettings(api_base_url=sharded.api_base, shard_count=4, shard_ids=(1, 3))
    line = await DiscordAdapter(Settings(discord=discord), token=sharded.token).check()
    assert line.endswith("; shard(s) 1, 3 of 4"), line
    assert sharded.sessions == [], "checked over REST only"
