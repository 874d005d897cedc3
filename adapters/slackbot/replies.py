"""Replies to Slack events: public in the channel or thread, private to the person who asked.

Every reply goes through the per-channel Outbox, so a 429 delays replies instead of losing or reordering
them; a refusal (ok=false) is logged and not retried. A slash command carries a response_url, which can
still answer in a channel the bot has not joined, and answers privately without chat.postEphemeral.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.errors import refused_for_good, retry_after
from adapters.slackbot.render import Message, reply_message, requested_by
from bot.chat.model import Outcome, Person, Place
from bot.chat.outbox import Outbox, Post, RateLimited
from bot.config import BriefingSettings
from bot.models import Briefing

log = logging.getLogger(__name__)

# chat.postMessage errors after which the command's response_url can still post in the channel.
_NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found"}

ApiCall = Callable[[], Awaitable[Any]]  # one Web API or response_url request


class ResponseUrlError(Exception):
    """A response_url answered with an HTTP error (it does not raise by itself)."""


def refused(error: SlackApiError) -> bool:
    """True when Slack refused a call for good (ok=false); a 429 raises RateLimited for the Outbox."""
    return refused_for_good(error.response.status_code, error.response.headers)


class Replies:
    def __init__(self, client: AsyncWebClient, outbox: Outbox, shown: BriefingSettings) -> None:
        self._client = client
        self._outbox = outbox
        self._shown = shown

    def send(self, where: Place, person: Person, outcome: Outcome, respond: AsyncRespond | None) -> None:
        """Queue one reply: public in the channel (or thread), private to the person who asked."""
        message = reply_message(
            outcome.reply, max_actors=self._shown.max_actors_shown, max_dates=self._shown.max_dates_shown
        )
        if outcome.private:
            call = self._private_post(where, person, message, respond)
        else:
            if respond is not None and isinstance(outcome.reply, Briefing):
                message = requested_by(message, person.user)
            call = self._public_post(where, message, respond)
        kind = "private" if outcome.private else "public"
        done = self._outbox.send(where.channel_key, _for_outbox(call, where, kind))
        done.add_done_callback(lambda future: _log_lost(future, where, kind))

    def _public_post(self, where: Place, message: Message, respond: AsyncRespond | None) -> ApiCall:
        async def post() -> None:
            try:
                await self._client.chat_postMessage(
                    channel=where.channel,
                    thread_ts=where.thread,
                    unfurl_links=False,
                    unfurl_media=False,
                    **message,
                )
            except SlackApiError as error:
                # /brief in a channel the bot has not joined: the command's response_url can still post.
                if respond is None or error.response.get("error") not in _NOT_IN_CHANNEL:
                    raise
                log.info("slack: not in %s; answering through the response_url", where.channel_key)
                await _responded(
                    respond(**message, response_type="in_channel", unfurl_links=False, unfurl_media=False)
                )

        return post

    def _private_post(
        self, where: Place, person: Person, message: Message, respond: AsyncRespond | None
    ) -> ApiCall:
        if respond is not None:
            return lambda: _responded(respond(**message, response_type="ephemeral"))
        return lambda: self._client.chat_postEphemeral(
            channel=where.channel, user=person.user, thread_ts=where.thread, **message
        )


def _for_outbox(call: ApiCall, where: Place, kind: str) -> Post:
    """The call as the Outbox runs it: a 429 to wait out, a refusal logged and not retried."""

    async def post() -> None:
        try:
            await call()
        except SlackApiError as error:
            if not refused(error):
                raise
            # ok=false (e.g. channel_not_found, invalid_blocks): retrying cannot help.
            log.warning(
                "slack: %s reply in %s refused: %s", kind, where.channel_key, error.response.get("error")
            )

    return post


def _log_lost(future: asyncio.Future[None], where: Place, kind: str) -> None:
    if future.cancelled():
        log.warning("slack: a %s reply in %s was dropped at shutdown", kind, where.channel_key)
    elif (error := future.exception()) is not None:
        log.error("slack: a %s reply in %s was lost (%s)", kind, where.channel_key, type(error).__name__)


async def _responded(sending: Awaitable[Any]) -> None:
    """Await a response_url post; its HTTP errors become exceptions (429 → RateLimited for the Outbox)."""
    response = await sending
    if response.status_code == 429:
        raise RateLimited(retry_after(response.headers))
    if response.status_code >= 300:
        raise ResponseUrlError(f"response_url answered HTTP {response.status_code}")
