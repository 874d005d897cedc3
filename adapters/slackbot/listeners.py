"""Slack events in, ChatCore requests out: messages, mentions, the /brief command and the message shortcut.

Listeners acknowledge at once and hand the work to tasks the adapter owns, so Slack's 3-second ack deadline
never depends on how long a briefing takes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.shutdown import EventTasks
from adapters.slackbot.render import from_slack_markup, group_mention, strip_mention
from adapters.slackbot.replies import Replies
from bot.chat.commands import BriefUrl, Command, parse, parse_mention, with_group_mention
from bot.chat.core import ChatCore
from bot.chat.links import find_links
from bot.chat.model import Notice, Outcome, Person, Place

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/brief"
SHORTCUT_CALLBACK_ID = "brief_this"
# Message subtypes that are still a person writing something; edits, joins, bot posts etc. are ignored.
_PERSON_SUBTYPES = {None, "thread_broadcast", "file_share"}


def _person(event: Mapping[str, Any]) -> Person:
    bot_id = event.get("bot_id")
    return Person(str(event.get("user") or bot_id or "unknown"), is_bot=bool(bot_id))


def _field(payload: Any, *path: str) -> str | None:
    """A nested text field, or None when the payload lacks it. Slack always sends the fields read here; a
    payload of another shape (a buggy proxy, a future change) is skipped with a warning, not a crash."""
    for key in path:
        payload = payload.get(key) if isinstance(payload, Mapping) else None
    return payload if isinstance(payload, str) and payload else None


def _place(channel: str | None, message: Mapping[str, Any] | None = None) -> Place | None:
    """Where to answer: the channel, in the message's thread (or starting one) when there is a message."""
    if channel is None:
        return None
    if message is None:
        return Place(PLATFORM, channel)
    thread = _field(message, "thread_ts") or _field(message, "ts")
    return None if thread is None else Place(PLATFORM, channel, thread=thread)


def _malformed(kind: str) -> None:
    log.warning("slack: ignored a %s that lacks fields Slack always sends (malformed_payload)", kind)


class Listeners:
    def __init__(
        self,
        core: ChatCore,
        replies: Replies,
        tasks: EventTasks,
        client: AsyncWebClient,
        *,
        managers: tuple[str, ...],
        max_links: int,
    ) -> None:
        self._core = core
        self._replies = replies
        self._tasks = tasks
        self._client = client
        self._managers = managers  # besides workspace admins and owners
        self._max_links = max_links

    def register(self, app: AsyncApp) -> None:
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        app.command(COMMAND)(self._on_command)
        app.message_shortcut(SHORTCUT_CALLBACK_ID)(self._on_shortcut)

    # ----- listeners: translate, acknowledge, hand over ------------------------------------------------

    async def _on_message(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("subtype") not in _PERSON_SUBTYPES:
            return  # edits, deletions, joins, bot_message…
        text = _field(event, "text") or ""
        if context.bot_user_id and f"<@{context.bot_user_id}" in text:
            return  # the app_mention event for the same message answers it
        if (where := _place(_field(event, "channel"), event)) is None:
            _malformed("message event")
            return
        self._spawn(self._brief_pasted(where, _person(event), from_slack_markup(text)))

    async def _on_mention(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        if (where := _place(_field(event, "channel"), event)) is None:
            _malformed("mention event")
            return
        markup = strip_mention(_field(event, "text") or "", context.bot_user_id)
        # "@briefbot can you brief <link>?": the links are the request, whatever the words around them.
        requests = [
            with_group_mention(command, group_mention(markup))
            for command in parse_mention(from_slack_markup(markup), self._max_links)
        ]
        self._spawn(self._answer(where, _person(event), requests, respond=None))

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()  # first, before any work: Slack gives 3 seconds
        where, user = _place(_field(command, "channel_id")), _field(command, "user_id")
        if where is None or user is None:
            _malformed("slash command")
            return
        markup = _field(command, "text") or ""
        asked = with_group_mention(parse(from_slack_markup(markup)), group_mention(markup))
        self._spawn(self._answer_command(where, user, asked, respond))

    async def _on_shortcut(self, ack: AsyncAck, shortcut: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        message = shortcut.get("message")
        where = _place(_field(shortcut, "channel", "id"), message if isinstance(message, Mapping) else {})
        user = _field(shortcut, "user", "id")
        if where is None or user is None:
            _malformed("message shortcut")
            return
        person = Person(user)
        text = from_slack_markup(_field(message, "text") or "")
        # An explicit request: brief every link (up to the per-message cap), or the text if it has none.
        requests: list[Command] = [BriefUrl(link) for link in find_links(text, self._max_links)]
        if not requests and text.strip():
            requests = [parse(text)]
        if not requests:
            self._replies.send(
                where, person, Outcome(Notice("I found nothing to brief in that message."), True), respond
            )
            return
        self._spawn(self._answer(where, person, requests, respond))

    # ----- work (in owned tasks) ------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn("an event", work)

    async def _answer_command(self, where: Place, user: str, command: Command, respond: AsyncRespond) -> None:
        # Slack has no per-channel "manage" permission: the app checks (admins, owners, configured managers),
        # and only for the commands that need it, to spare a users.info call per briefing.
        can_manage = command.needs_manager and await self._can_manage(user)
        await self._answer(where, Person(user, can_manage=can_manage), [command], respond)

    async def _can_manage(self, user: str) -> bool:
        if user in self._managers:
            return True
        try:
            info = await self._client.users_info(user=user)
        except SlackApiError:
            log.warning("slack: users.info failed; treating %s as not a manager", user)
            return False
        profile = info.get("user") or {}
        return bool(profile.get("is_admin") or profile.get("is_owner"))

    async def _brief_pasted(self, where: Place, person: Person, text: str) -> None:
        async for outcome in self._core.on_message(where, person, text):
            self._replies.send(where, person, outcome, respond=None)

    async def _answer(
        self, where: Place, person: Person, requests: list[Command], respond: AsyncRespond | None
    ) -> None:
        """/brief, mentions and the shortcut: each request answered, replies in request order."""
        outcomes = await asyncio.gather(*(self._core.handle(where, person, command) for command in requests))
        for outcome in outcomes:
            self._replies.send(where, person, outcome, respond)
