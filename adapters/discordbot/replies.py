"""Posts to Discord through the per-channel Outbox, and the core's replies as message bodies.

Every post waits for Discord's answer: a 429 is waited out by the Outbox (a delay, never a lost reply), a
refusal (missing permission, deleted channel) is reported and not retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord

from adapters.discordbot.render import alert_content, briefing_embed, notice_content
from adapters.errors import refused_for_good
from bot.alerts.model import AlertNotNow, StoryAlert
from bot.chat.model import Notice, Outcome, Place
from bot.chat.outbox import Outbox, RateLimited
from bot.config import BriefingSettings
from bot.models import Briefing

log = logging.getLogger(__name__)

T = TypeVar("T")


class NotConnectedError(AlertNotNow):
    """An alert arrived before the adapter logged in (or after it stopped); the watcher retries it later."""


class PostRefusedError(Exception):
    """Discord refused a post with a 4xx other than 429 (missing permission, deleted channel): sending the
    same request again would not help, so the outbox does not retry it."""

    def __init__(self, channel_key: str, error: discord.HTTPException) -> None:
        super().__init__(f"post refused in {channel_key}: HTTP {error.status}, code {error.code}")
        self.status = error.status
        self.code = error.code


def message_body(reply: Briefing | Notice | StoryAlert, shown: BriefingSettings) -> dict[str, Any]:
    """Any reply or topic alert as channel.send arguments."""
    if isinstance(reply, Notice):
        return {"content": notice_content(reply)}
    briefing = reply.briefing if isinstance(reply, StoryAlert) else reply
    embed = briefing_embed(briefing, max_actors=shown.max_actors_shown, max_dates=shown.max_dates_shown)
    if isinstance(reply, StoryAlert):
        return {"embed": embed, "content": alert_content(reply)}
    return {"embed": embed}


class Posts:
    """Posts queued on the Outbox, each awaited until Discord accepted it."""

    def __init__(self, outbox: Outbox, shown: BriefingSettings) -> None:
        self._outbox = outbox
        self._shown = shown
        self._awaited: set[asyncio.Future[None]] = set()  # outbox futures someone is waiting on

    def body(self, reply: Briefing | Notice | StoryAlert) -> dict[str, Any]:
        return message_body(reply, self._shown)

    async def post(self, where: Place, send: Callable[[], Awaitable[T]]) -> T | None:
        """Queue one post on the channel's outbox and wait for it; None when Discord refused it or it was
        finally lost (both logged)."""
        try:
            return await self.send_queued(where, send)
        except PostRefusedError as refusal:
            log.warning("discord: %s", refusal)
        except Exception:
            log.warning("discord: a reply in %s was lost", where.channel_key, exc_info=True)
        return None

    async def send_queued(self, where: Place, send: Callable[[], Awaitable[T]]) -> T:
        """Queue one post on the channel's outbox and return what Discord answered once it accepted it;
        raise PostRefusedError for a refusal, or whatever made the outbox give up."""
        posted: list[T] = []
        refused: list[discord.HTTPException] = []

        async def post() -> None:
            try:
                posted.append(await send())
            except discord.RateLimited as limited:  # longer than discord.py is willing to wait itself
                raise RateLimited(limited.retry_after) from limited
            except discord.HTTPException as error:
                # A 429 here is one discord.py retried 5 times: the outbox waits and tries again.
                if not refused_for_good(error.status, getattr(error.response, "headers", None) or {}):
                    raise
                refused.append(error)  # permissions, deleted channel: retrying won't help

        sent = self._outbox.send(where.channel_key, post)
        self._awaited.add(sent)
        try:
            await sent
        finally:
            self._awaited.discard(sent)
        if refused:
            raise PostRefusedError(where.channel_key, refused[0]) from refused[0]
        return posted[0]

    async def reply(self, where: Place, message: discord.Message, outcome: Outcome) -> None:
        """The outcome as a reply to `message` (pinging nobody)."""
        reference = message.to_reference(fail_if_not_exists=False)
        await self.post(
            where,
            lambda: message.channel.send(
                reference=reference, mention_author=False, **self.body(outcome.reply)
            ),
        )

    def fail_waiting(self) -> None:
        """At shutdown, once the outbox closed: its unsent posts stay pending, so their waiters would hang."""
        for post in self._awaited:
            if not post.done():
                post.set_exception(NotConnectedError("discord stopped before the post went out"))
