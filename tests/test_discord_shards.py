"""Shards in the Discord emulator, spoken to over the raw gateway protocol: each IDENTIFY names its shard,
several sessions live at once, and a guild's events reach only the sessions of its shard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from emulators.discord import MESSAGE_CONTENT_INTENT, DiscordEmulator

GUILDS = {"Harbour": ("general", "news"), "Bridge": ("general",), "Ferry": ("general",)}
LINK = "https://news.example.org/2024/harbour-reopens"


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(guilds=GUILDS, shard_count=2) as running:
        yield running


@pytest_asyncio.fixture
async def http(emulator: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {emulator.token}"}) as session:
        yield session


class Gateway:
    """Bare gateway sessions opened by hand, each kept open until the test ends (a dropped socket leaves its
    shard unserved)."""

    def __init__(self, http: aiohttp.ClientSession, emulator: DiscordEmulator) -> None:
        self.http, self.emulator = http, emulator
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def identify(self, shard: list[int] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Open a session for `shard` (None: unsharded); its READY and GUILD_CREATE payloads."""
        ws = await self.http.ws_connect(self.emulator.gateway_url)
        self.sockets.append(ws)
        assert (await ws.receive_json())["op"] == 10  # HELLO
        data: dict[str, Any] = {"token": self.emulator.token, "intents": MESSAGE_CONTENT_INTENT}
        if shard is not None:
            data["shard"] = shard
        await ws.send_json({"op": 2, "d": data})
        ready = await ws.receive_json()
        assert ready["t"] == "READY", ready
        guilds = [(await ws.receive_json())["d"] for _ in ready["d"]["guilds"]]
        return ready["d"], guilds

    async def both_shards(self) -> None:
        await self.identify([0, 2])
        await self.identify([1, 2])


@pytest_asyncio.fixture
async def gateway(emulator: DiscordEmulator, http: aiohttp.ClientSession) -> Gateway:
    return Gateway(http, emulator)


def names(emulator: DiscordEmulator, guild_ids: list[str]) -> list[str]:
    by_id = {str(guild.id): guild.name for guild in emulator.guilds}
    return [by_id[guild_id] for guild_id in guild_ids]


def test_guilds_land_on_shards_by_discords_rule() -> None:
    emulator = DiscordEmulator(guilds=GUILDS, shard_count=2)
    assert [emulator.shard_of(guild.id) for guild in emulator.guilds] == [0, 1, 0]
    assert [(guild.id >> 22) % 3 for guild in emulator.guilds] == [0, 1, 2]
    assert emulator.guild_id == emulator.guilds[0].id
    assert emulator.channel_ids == emulator.guilds[0].channel_ids
    general = {guild.channel_ids["general"] for guild in emulator.guilds}
    assert len(general) == 3, "each guild has its own #general"


async def test_each_shard_is_told_about_its_own_guilds_only(
    emulator: DiscordEmulator, gateway: Gateway
) -> None:
    ready_0, created_0 = await gateway.identify([0, 2])
    ready_1, created_1 = await gateway.identify([1, 2])
    assert ready_0["shard"] == [0, 2] and ready_1["shard"] == [1, 2]
    assert names(emulator, [g["id"] for g in ready_0["guilds"]]) == ["Harbour", "Ferry"]
    assert names(emulator, [g["id"] for g in ready_1["guilds"]]) == ["Bridge"]
    assert [g["name"] for g in created_0] == ["Harbour", "Ferry"] and [g["name"] for g in created_1] == [
        "Bridge"
    ]
    assert {c["name"] for c in created_0[0]["channels"]} == {"general", "news"}
    assert {c["guild_id"] for c in created_1[0]["channels"]} == {created_1[0]["id"]}
    assert ready_0["session_id"] != ready_1["session_id"]
    assert emulator.is_connected
    await emulator.wait_until_ready()  # every guild is on a live session


async def test_an_unsharded_session_gets_every_guild(emulator: DiscordEmulator, gateway: Gateway) -> None:
    ready, created = await gateway.identify(None)
    assert ready["shard"] == [0, 1]
    assert [g["name"] for g in created] == ["Harbour", "Bridge", "Ferry"]


async def test_messages_and_interactions_reach_only_their_guilds_shard(
    emulator: DiscordEmulator, gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    await gateway.both_shards()
    shard_0, shard_1 = emulator.sessions
    commands = f"{emulator.api_base}/applications/{emulator.application_id}/commands"
    async with http.put(commands, json=[{"name": "brief", "type": 1, "description": "Brief"}]) as response:
        assert response.status == 200
    harbour, bridge, ferry = (guild.channel_ids["general"] for guild in emulator.guilds)

    await emulator.send_message(harbour, f"look {LINK}")
    await emulator.send_message(bridge, f"see {LINK}")
    sent = await emulator.send_slash_command("brief", {"url": LINK}, channel_id=bridge)
    await emulator.send_slash_command("brief", {"url": LINK}, channel_id=ferry)

    assert [m["content"] for m in shard_0.received("MESSAGE_CREATE")] == [f"look {LINK}"]
    assert [m["content"] for m in shard_1.received("MESSAGE_CREATE")] == [f"see {LINK}"]
    [interaction] = shard_1.received("INTERACTION_CREATE")
    assert interaction["token"] == sent.token and interaction["guild_id"] == str(emulator.guilds[1].id)
    assert [i["channel_id"] for i in shard_0.received("INTERACTION_CREATE")] == [str(ferry)]


async def test_the_bots_own_posts_echo_on_the_channels_shard(
    emulator: DiscordEmulator, gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    await gateway.both_shards()
    shard_0, shard_1 = emulator.sessions
    bridge = emulator.guilds[1].channel_ids["general"]
    async with http.post(
        f"{emulator.api_base}/channels/{bridge}/messages", json={"content": "hi"}
    ) as response:
        posted = await response.json()
    assert posted["guild_id"] == str(emulator.guilds[1].id)
    assert shard_1.received("MESSAGE_CREATE") == [posted] and shard_0.received("MESSAGE_CREATE") == []


async def test_a_guild_with_no_session_on_its_shard_gets_no_events(
    emulator: DiscordEmulator, gateway: Gateway
) -> None:
    await gateway.identify([0, 2])
    with pytest.raises(RuntimeError, match="no client is connected for guild"):
        await emulator.send_message(emulator.guilds[1].channel_ids["general"], "nobody hears this")
    assert emulator.sessions[0].received("MESSAGE_CREATE") == []


async def test_a_shard_outside_the_count_is_refused(
    emulator: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(emulator.gateway_url)
    await ws.receive_json()
    await ws.send_json({"op": 2, "d": {"token": emulator.token, "intents": 0, "shard": [2, 2]}})
    await ws.receive()
    assert ws.close_code == 4010
    assert emulator.sessions == []


async def test_gateway_bot_recommends_the_shard_count(
    emulator: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emulator.api_base}/gateway/bot") as response:
        answer = await response.json()
    assert answer["shards"] == 2 and answer["url"] == emulator.gateway_url


async def test_resume_rebinds_the_session_of_its_shard(
    emulator: DiscordEmulator, gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    await gateway.identify([0, 2])
    ready_1, _ = await gateway.identify([1, 2])
    await gateway.sockets[1].close()
    await emulator.wait_for(lambda: emulator.sessions[1].ws is None)
    resumed = await http.ws_connect(emulator.gateway_url)
    await resumed.receive_json()
    resume = {"token": emulator.token, "session_id": ready_1["session_id"], "seq": 2}
    await resumed.send_json({"op": 6, "d": resume})
    assert (await resumed.receive_json())["t"] == "RESUMED"
    await emulator.send_message(emulator.guilds[1].channel_ids["general"], "back")
    assert (await resumed.receive_json())["d"]["content"] == "back"
    assert emulator.sessions[0].received("MESSAGE_CREATE") == []
