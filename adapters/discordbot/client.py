"""The connection to Discord: discord.py pointed at the configured endpoints, the gateway client with the
intents briefbot needs and the shards this replica runs, and the application commands it registers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

import discord
import yarl
from discord import app_commands

from adapters.discordbot.listeners import TOPIC_ACTIONS, Listeners
from adapters.discordbot.replies import Posts
from adapters.shutdown import EventTasks
from bot.chat.core import ChatCore
from bot.config import DiscordSettings

log = logging.getLogger(__name__)


def point_discord_py_at(settings: DiscordSettings) -> None:
    """Send discord.py's REST calls and gateway connection to the configured endpoints.

    discord.py has no supported setting for either: REST URLs (interaction callbacks and webhook follow-ups
    included) are built from the class attribute Route.BASE at request time, and a plain Client opens
    DiscordWebSocket.DEFAULT_GATEWAY (an AutoShardedClient too, given a shard count). Both are process-wide,
    which is fine: one process runs one Discord bot.
    """
    discord.http.Route.BASE = settings.api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
    # briefbot never joins voice channels: warnings about missing voice libraries would only mislead.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False


class BriefbotClient(discord.AutoShardedClient):
    """One code path for every size: unsharded is one shard, [0, 1]. A shard count is always passed: without
    one, discord.py asks GET /gateway/bot and connects to the URL it returns, not the configured gateway_url.
    """

    def __init__(
        self,
        settings: DiscordSettings,
        core: ChatCore,
        posts: Posts,
        tasks: EventTasks,
        *,
        ready: asyncio.Event,
        guild_ready_timeout: float,
        max_links: int,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = settings.message_content_intent
        intents.typing = intents.dm_typing = intents.guild_typing = False
        shard_count, shard_ids = settings.shards
        super().__init__(
            shard_count=shard_count,
            shard_ids=list(shard_ids),
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),  # briefings quote articles: never ping anyone
            chunk_guilds_at_startup=False,
            guild_ready_timeout=guild_ready_timeout,
        )
        self.ready = ready
        self.listeners = Listeners(
            self,
            core,
            posts,
            tasks,
            message_content_intent=settings.message_content_intent,
            max_links=max_links,
        )
        self.tree = build_command_tree(self, self.listeners)

    async def setup_hook(self) -> None:
        # Discord only delivers commands an application registered; a bulk PUT is idempotent.
        synced = await self.tree.sync()
        log.info("discord: synced commands %s", ", ".join(c.name for c in synced))
        log.info("discord: this replica runs shard(s) %s of %d", self._shards, self.shard_count)

    async def on_ready(self) -> None:
        # discord.py waits for every shard this replica runs before it dispatches ready.
        log.info(
            "discord: ready as %s in %d guild(s) on shard(s) %s of %d",
            self.user,
            len(self.guilds),
            self._shards,
            self.shard_count,
        )
        self.ready.set()

    async def on_shard_ready(self, shard_id: int) -> None:
        log.info("discord: shard %d of %d ready", shard_id, self.shard_count)

    @property
    def _shards(self) -> str:
        return ", ".join(map(str, self.shard_ids or ()))

    async def on_message(self, message: discord.Message) -> None:
        await self.listeners.on_message(message)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("discord: unhandled error in %s", event_method)


def build_command_tree(client: discord.Client, listeners: Listeners) -> app_commands.CommandTree:
    tree = app_commands.CommandTree(client)

    @tree.command(name="brief", description="Brief a news article: summary, key actors, key dates")
    @app_commands.describe(url="Link to the article", text="The article text, pasted")
    async def brief(
        interaction: discord.Interaction, url: str | None = None, text: str | None = None
    ) -> None:
        await listeners.on_brief(interaction, url, text)

    @tree.command(name="brief-auto", description="Brief links pasted in this channel automatically")
    @app_commands.describe(state="on or off; leave it out to see the current setting")
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def brief_auto(interaction: discord.Interaction, state: Literal["on", "off"] | None = None) -> None:
        await listeners.on_brief_auto(interaction, state)

    @tree.command(name="brief-topics", description="Topic alerts for this channel: subscribe, list, sources")
    @app_commands.describe(
        action="what to do",
        value='the query (e.g. "North Korea" missile -sports), a subscription number, or a feed url',
    )
    @app_commands.choices(action=[app_commands.Choice(name=name, value=name) for name in TOPIC_ACTIONS])
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def brief_topics(
        interaction: discord.Interaction, action: app_commands.Choice[str], value: str | None = None
    ) -> None:
        await listeners.on_brief_topics(interaction, action.value, value)

    @tree.context_menu(name="Brief this")
    async def brief_this(interaction: discord.Interaction, message: discord.Message) -> None:
        await listeners.on_brief_this(interaction, message)

    @tree.error
    async def on_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("discord: command failed", exc_info=error)

    return tree
