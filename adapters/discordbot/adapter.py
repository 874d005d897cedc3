"""The Discord adapter: discord.py events and application commands in, ChatCore calls, embeds out.

It only translates, and wires the parts that do: `client` connects and registers the commands, `listeners`
turn events and commands into ChatCore calls, `replies` post through the per-channel Outbox (a 429 delays
replies and never loses one), `alerts` post and edit topic alerts for the watcher (its AlertSink).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord

from adapters.discordbot.alerts import edit_alert, post_alert
from adapters.discordbot.client import BriefbotClient, point_discord_py_at
from adapters.discordbot.replies import NotConnectedError, PostRefusedError, Posts
from adapters.shutdown import EventTasks, shut_down
from bot.alerts.model import AlertRefused, Delivery
from bot.chat.core import ChatCore
from bot.chat.outbox import Outbox
from bot.config import Settings

log = logging.getLogger(__name__)


class DiscordAdapter:
    name = "discord"

    def __init__(
        self,
        settings: Settings,
        *,
        token: str,
        outbox: Outbox | None = None,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        self._discord = settings.discord
        self._max_links = settings.chat.max_links_per_message
        self._token = token
        self._outbox = outbox or Outbox()
        self._guild_ready_timeout = guild_ready_timeout
        self._tasks = EventTasks(self.name)
        self._posts = Posts(self._outbox, settings.briefing)
        self._client: BriefbotClient | None = None
        self.ready = asyncio.Event()  # set once the gateway session is ready (tests and logs)

    @property
    def in_flight(self) -> int:
        """Events and commands being handled right now."""
        return len(self._tasks)

    # --- lifecycle ----------------------------------------------------------------------------------

    async def check(self) -> str:
        """Log in over REST (GET /users/@me, then the application) without opening the gateway."""
        point_discord_py_at(self._discord)
        async with discord.Client(intents=discord.Intents.none()) as client:
            await client.login(self._token)  # also fetches the application (GET /oauth2/applications/@me)
            application_id = client.application_id
            user = client.user
        intent = "on" if self._discord.message_content_intent else "off"
        count, shard_ids = self._discord.shards
        return (
            f"discord: connected as {user} (application id {application_id}) at "
            f"{self._discord.api_base_url}; message content intent {intent}; "
            f"shard(s) {', '.join(map(str, shard_ids))} of {count}"
        )

    async def run(self, core: ChatCore, stop: asyncio.Event) -> None:
        point_discord_py_at(self._discord)
        client = self._client = BriefbotClient(
            self._discord,
            core,
            self._posts,
            self._tasks,
            ready=self.ready,
            guild_ready_timeout=self._guild_ready_timeout,
            max_links=self._max_links,
        )
        async with client:
            connection = asyncio.create_task(client.start(self._token), name="discord:client")
            stopping = asyncio.create_task(stop.wait(), name="discord:stop")
            await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            await shut_down(self.name, self._tasks, self._outbox)
            self._posts.fail_waiting()
            await client.close()
            if not connection.done():
                connection.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connection  # re-raises a login failure or a fatal gateway error
        log.info("discord: stopped")

    # --- topic alerts (AlertSink) -------------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> str:
        """Post one topic alert in `delivery.channel`; return the message id once Discord accepted it, raise
        otherwise (see alerts.py for replays).

        Raises NotConnectedError at once before the client logged in (a replay at start-up): the watcher
        keeps the alert queued and retries next round, which is simpler than waiting here while other
        alerts queue up behind this one.
        """
        try:
            return await post_alert(self._posts, self._alert_channel(delivery), delivery)
        except PostRefusedError as refused:  # channel deleted, permission missing: the watcher parks it
            raise AlertRefused(f"HTTP {refused.status}, Discord error {refused.code}") from refused

    async def update(self, delivery: Delivery, ref: str) -> None:
        """Edit the alert posted as message `ref` to show `delivery.content` as it is now (more outlets);
        return once Discord accepted the edit. Raises NotConnectedError like `deliver`, and PostRefusedError
        when Discord refuses it (the message was deleted: 404, code 10008)."""
        await edit_alert(self._posts, self._alert_channel(delivery), delivery, ref)

    def _alert_channel(self, delivery: Delivery) -> discord.PartialMessageable:
        """The alert's channel, or NotConnectedError at once when the client is not logged in."""
        client = self._client
        if client is None or not self.ready.is_set() or client.is_closed():
            raise NotConnectedError(f"discord is not connected; alert {delivery.key} stays queued")
        return client.get_partial_messageable(int(delivery.channel))
