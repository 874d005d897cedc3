"""The Discord emulator against the real discord.py client (a small inline client, not the bot)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from emulators.discord import (
    MANAGER_PERMISSIONS,
    DiscordEmulator,
    discord_emulator_fixture,  # noqa: F401 (registers the fixture)
    discord_endpoints_restored,
    discord_py_pointed_at,
)

ARTICLE = "https://news.example.org/2024/harbour-reopens"


class InlineClient(discord.Client):
    """Replies to "!brief", opens a thread for "!thread", serves /brief and a "Brief this" message command."""

    def __init__(self, *, message_content: bool = True) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(intents=intents, guild_ready_timeout=0.01, chunk_guilds_at_startup=False)
        self.tree = app_commands.CommandTree(self)
        self.seen_contents: list[str] = []
        self.resumed = False
        self.tree.command(name="brief", description="Brief an article")(brief)
        self.tree.context_menu(name="Brief this")(brief_this)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_resumed(self) -> None:
        self.resumed = True

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        self.seen_contents.append(message.content)
        if message.content.startswith("!brief"):
            await message.reply("Briefing coming up.", embed=discord.Embed(title="Harbour reopens"))
        elif message.content.startswith("!thread"):
            thread = await message.create_thread(name="Briefing")
            await thread.send("Inside the thread.")


@app_commands.describe(url="Article link")
async def brief(interaction: discord.Interaction, url: str) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.followup.send(f"Briefing for {url}", embed=discord.Embed(title="Summary"))


async def brief_this(interaction: discord.Interaction, message: discord.Message) -> None:
    await interaction.response.send_message(f"Briefing: {message.content}", ephemeral=True)
    await interaction.edit_original_response(content="Briefing done.")


async def start(client: InlineClient, emulator: DiscordEmulator) -> asyncio.Task[None]:
    """Start the client and wait until it is ready; a failed login surfaces instead of a timeout."""
    runner = asyncio.create_task(client.start(emulator.token))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({runner, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await stop(client, runner)
        raise AssertionError("client never became ready")
    return runner


async def stop(client: InlineClient, runner: asyncio.Task[None]) -> None:
    await client.close()
    await runner  # re-raises whatever stopped the client early


@pytest_asyncio.fixture
async def client(discord_emulator: DiscordEmulator) -> AsyncIterator[InlineClient]:
    with discord_py_pointed_at(discord_emulator):
        client = InlineClient()
        runner = await start(client, discord_emulator)
        yield client
        await stop(client, runner)


def statuses(emulator: DiscordEmulator, route: str) -> list[int]:
    return [entry.status for entry in emulator.log if entry.route == route]


async def test_client_logs_in_identifies_and_syncs_commands(
    discord_emulator: DiscordEmulator, client: InlineClient
) -> None:
    assert client.user is not None and client.user.id == discord_emulator.bot_user_id
    assert statuses(discord_emulator, "GET /users/@me") == [200]
    assert statuses(discord_emulator, "PUT /applications/{}/commands") == [200]
    assert {(c["name"], c["type"]) for c in discord_emulator.commands[None]} == {
        ("brief", 1),
        ("Brief this", 3),
    }
    intents = discord_emulator.identifies[0]["intents"]
    assert intents & discord.Intents(message_content=True).value
    guild = client.get_guild(discord_emulator.guild_id)
    assert guild is not None and {c.name for c in guild.text_channels} == {"general", "news"}


async def test_message_create_gets_a_reply_with_an_embed(
    discord_emulator: DiscordEmulator, client: InlineClient
) -> None:
    general = discord_emulator.channel_ids["general"]
    asked = await discord_emulator.send_message(general, f"!brief {ARTICLE}")
    reply = (await discord_emulator.wait_for(lambda: discord_emulator.messages))[0]
    assert reply["channel_id"] == str(general)
    assert reply["message_reference"]["message_id"] == asked["id"]
    assert reply["embeds"][0]["title"] == "Harbour reopens"


async def test_thread_is_created_and_the_bot_posts_inside(
    discord_emulator: DiscordEmulator, client: InlineClient
) -> None:
    news = discord_emulator.channel_ids["news"]
    asked = await discord_emulator.send_message(news, "!thread please")
    posted = (await discord_emulator.wait_for(lambda: discord_emulator.messages))[0]
    assert discord_emulator.threads[0]["id"] == asked["id"]
    assert discord_emulator.threads[0]["parent_id"] == str(news)
    assert (posted["channel_id"], posted["content"]) == (asked["id"], "Inside the thread.")


async def test_slash_command_is_deferred_then_followed_up(
    discord_emulator: DiscordEmulator, client: InlineClient
) -> None:
    sent = await discord_emulator.send_slash_command(
        "brief", {"url": ARTICLE}, permissions=MANAGER_PERMISSIONS
    )
    followup = (await discord_emulator.wait_for(lambda: sent.followups))[0]
    assert [callback["type"] for callback in sent.callbacks] == [5]
    assert followup["content"] == f"Briefing for {ARTICLE}"
    assert followup["embeds"][0]["title"] == "Summary"
    assert not followup["ephemeral"]


async def test_message_context_menu_answers_ephemerally(
    discord_emulator: DiscordEmulator, client: InlineClient
) -> None:
    target = await discord_emulator.send_message(
        discord_emulator.channel_ids["general"], "Harbour reopens today"
    )
    sent = await discord_emulator.send_message_command("Brief this", int(target["id"]))
    callback = (await discord_emulator.wait_for(lambda: sent.callbacks))[0]
    assert callback["type"] == 4
    assert callback["data"]["content"] == "Briefing: Harbour reopens today"
    assert callback["data"]["flags"] & 64
    edit = (await discord_emulator.wait_for(lambda: sent.edits))[0]
    assert edit["content"] == "Briefing done."


async def test_three_429s_are_retried_and_messages_arrive_in_order(
    discord_emulator: DiscordEmulator, client: InlineClient
) -> None:
    discord_emulator.rate_limit("POST /channels/{id}/messages", times=3, retry_after=0.01)
    channel = client.get_channel(discord_emulator.channel_ids["general"])
    assert isinstance(channel, discord.TextChannel)
    for text in ("first", "second", "third"):  # one outbound queue per channel sends in turn
        await channel.send(text)
    assert [m["content"] for m in discord_emulator.messages] == ["first", "second", "third"]
    assert statuses(discord_emulator, "POST /channels/{}/messages") == [429, 429, 429, 200, 200, 200]


async def test_a_message_with_a_file_is_read_from_its_multipart_payload(
    discord_emulator: DiscordEmulator, client: InlineClient
) -> None:
    channel = client.get_channel(discord_emulator.channel_ids["news"])
    assert isinstance(channel, discord.TextChannel)
    await channel.send("Full briefing attached.", file=discord.File(io.BytesIO(b"summary"), "brief.txt"))
    assert discord_emulator.messages[0]["content"] == "Full briefing attached."
    assert discord_emulator.log[-1].body["attachments"][0]["filename"] == "brief.txt"


async def test_reconnect_resumes_the_session_and_events_still_flow(
    discord_emulator: DiscordEmulator, client: InlineClient
) -> None:
    await discord_emulator.request_reconnect()
    await discord_emulator.wait_for(lambda: client.resumed)
    assert discord_emulator.is_connected
    assert discord_emulator.resumes[0]["session_id"] == discord_emulator.session_id
    assert len(discord_emulator.identifies) == 1
    await discord_emulator.send_message(discord_emulator.channel_ids["general"], "!brief again")
    await discord_emulator.wait_for(lambda: discord_emulator.messages)


async def test_content_is_hidden_without_the_message_content_intent(
    discord_emulator: DiscordEmulator,
) -> None:
    with discord_py_pointed_at(discord_emulator):
        client = InlineClient(message_content=False)
        runner = await start(client, discord_emulator)
        try:
            general = discord_emulator.channel_ids["general"]
            await discord_emulator.send_message(general, "!brief hidden")
            await discord_emulator.send_message(general, f"<@{discord_emulator.bot_user_id}> !brief shown")
            await discord_emulator.wait_for(lambda: len(client.seen_contents) == 2)
            assert client.seen_contents[0] == ""
            assert client.seen_contents[1].endswith("!brief shown")
        finally:
            await stop(client, runner)


async def test_unregistered_commands_are_not_delivered(discord_emulator: DiscordEmulator) -> None:
    with pytest.raises(LookupError):
        await discord_emulator.send_slash_command("brief", {"url": ARTICLE})


async def test_wrong_token_is_refused(discord_emulator: DiscordEmulator) -> None:
    with discord_py_pointed_at(discord_emulator):
        client = InlineClient()
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
        await client.close()
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{discord_emulator.api_base}/users/@me") as resp,
    ):
        assert resp.status == 401
        assert resp.headers["Content-Type"] == "application/json"


async def test_followup_for_an_unknown_interaction_is_refused(discord_emulator: DiscordEmulator) -> None:
    api = discord_emulator.api_base
    async with aiohttp.ClientSession() as session:
        url = f"{api}/webhooks/{discord_emulator.application_id}/no-such-token"
        async with session.post(url, json={"content": "hi"}) as resp:
            assert resp.status == 404
            assert (await resp.json())["code"] == 10015


def test_endpoints_are_restored_after_pointing() -> None:
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with discord_endpoints_restored():
        discord.http.Route.BASE = "http://127.0.0.1:1/api/v10"
    after = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    assert after == before
