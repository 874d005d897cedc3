"""The Slack adapter: slack-bolt's AsyncApp over Socket Mode (default) or signed HTTP requests.

It only translates. Slack events become `ChatCore` calls; the core's Outcomes become Block Kit posts, each
sent through the per-channel Outbox so a 429 delays replies instead of losing or reordering them. Listeners
acknowledge at once and hand the work to tasks this adapter owns, so Slack's 3-second ack deadline never
depends on how long a briefing takes. Each delivery is acted on once, whatever Slack retries or anyone replays
(slack_dedupe); in HTTP mode, requests are checked before bolt parses them (slack_http).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_dedupe import DeliveryDedupe
from adapters.slack_http import slack_endpoint
from adapters.slack_render import Message, from_slack_markup, reply_message, strip_mention
from bot.alerts.model import Delivery
from bot.chat.commands import BriefUrl, Command, parse
from bot.chat.core import ChatCore
from bot.chat.links import find_links
from bot.chat.model import Notice, Outcome, Person, Place
from bot.chat.outbox import Outbox, Post, RateLimited
from bot.config import Settings
from bot.store import Store

log = logging.getLogger(__name__)

COMMAND = "/brief"
SHORTCUT_CALLBACK_ID = "brief_this"
# Message subtypes that are still a person writing something; edits, joins, bot posts etc. are ignored.
_PERSON_SUBTYPES = {None, "thread_broadcast", "file_share"}
# chat.postMessage errors after which the command's response_url can still post in the channel.
_NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found"}
_SHUTDOWN_FLUSH_SECONDS = 5.0

# Topic alerts carry their delivery key in the message metadata, so a restart can tell what it already posted.
ALERT_EVENT_TYPE = "briefbot_alert"
# Slack's clock against ours: history is searched from this long before an alert was queued.
_ALERT_CLOCK_SLACK_SECONDS = 300.0
_HISTORY_PAGE_SIZE = 200
_HISTORY_MAX_PAGES = 5
_REMEMBERED_ALERTS = 10_000  # keys known posted in this run (bounded: a long run posts many)

ApiCall = Callable[[], Awaitable[Any]]  # one Web API or response_url request


class ResponseUrlError(Exception):
    """A response_url answered with an HTTP error (it does not raise by itself)."""


class AlertNotDelivered(Exception):
    """A topic alert did not reach Slack; it stays queued and the watcher tries again later."""


class AlertNotUpdated(Exception):
    """A posted alert could not be edited (deleted message, channel gone, not connected...)."""


@dataclass
class _AlertCall:
    """What one alert post or edit came to: the message's ts, or Slack's refusal (ok=false, not retried)."""

    ts: str | None = None
    refusal: str | None = None


def _retry_after(headers: Mapping[str, Any]) -> float:
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name)
        if isinstance(value, list):  # slack-sdk keeps multi-valued headers as lists
            value = value[0] if value else None
        if value is not None:
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return 1.0  # Slack always sends the header; one second if a proxy dropped it


def _alert_metadata(key: str) -> dict[str, Any]:
    """Every alert message carries its delivery key, so a restart can find what it already posted."""
    return {"event_type": ALERT_EVENT_TYPE, "event_payload": {"key": key}}


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
        return Place(SlackAdapter.name, channel)
    thread = _field(message, "thread_ts") or _field(message, "ts")
    return None if thread is None else Place(SlackAdapter.name, channel, thread=thread)


def _malformed(kind: str) -> None:
    log.warning("slack: ignored a %s that lacks fields Slack always sends (malformed_payload)", kind)


class SlackAdapter:
    name = "slack"

    def __init__(
        self,
        settings: Settings,
        *,
        bot_token: str,
        app_token_or_secret: str,
        outbox: Outbox | None = None,
    ) -> None:
        self._slack = settings.slack
        self._database = settings.chat.database  # where handled deliveries are remembered across restarts
        self._max_links = settings.chat.max_links_per_message
        self._shown = settings.briefing
        self._bot_token = bot_token
        self._app_token_or_secret = app_token_or_secret
        # No rate-limit retry handler here: a 429 becomes RateLimited and the Outbox waits, so one slow
        # channel never blocks a task and per-channel order holds. (The SDK's default connection-error
        # retry handler stays.)
        self._client = AsyncWebClient(token=bot_token, base_url=self._slack.api_base_url)
        self._outbox = outbox or Outbox()
        self._tasks: set[asyncio.Task[None]] = set()
        self._core: ChatCore | None = None
        self.ready = asyncio.Event()  # set once connected (Socket Mode) or listening (HTTP mode)
        self.http_port: int | None = None  # the bound port in HTTP mode (the config may say 0 in tests)
        # Alert idempotency (see deliver): keys posted in this run, keys whose post may or may not have
        # gone through, and per channel the time from which its history was searched since start.
        self._alerts_posted: OrderedDict[str, str] = OrderedDict()  # key → ts of its message
        self._alerts_unconfirmed: set[str] = set()
        self._history_searched_from: dict[str, float] = {}

    # ----- ChatAdapter ----------------------------------------------------------------------------------

    async def check(self) -> str:
        """auth.test through the configured base URL (and, in Socket Mode, the app token)."""
        try:
            identity = await self._client.auth_test()
            line = f"slack: connected as @{identity['user']} (team {identity['team_id']})"
            if self._slack.mode == "socket":
                await self._client.apps_connections_open(app_token=self._app_token_or_secret)
                line += ", Socket Mode app token accepted"
        except SlackApiError as error:
            raise RuntimeError(f"Slack refused the token: {error.response.get('error')}") from None
        except (ClientError, TimeoutError) as error:
            url = self._slack.api_base_url
            raise RuntimeError(f"cannot reach {url} ({type(error).__name__})") from None
        return line

    async def run(self, core: ChatCore, stop: asyncio.Event) -> None:
        self._core = core
        try:
            # Its own connection to the bot's store file (WAL: the core's connection shares it safely).
            async with await Store.open(self._database) as store:
                app = self._build_app(DeliveryDedupe(store))
                async with self._connected(app):
                    self.ready.set()
                    where = f" on port {self.http_port}" if self.http_port is not None else ""
                    log.info("slack: listening (%s mode%s)", self._slack.mode, where)
                    await stop.wait()
        finally:
            self.ready.clear()
            await self._shut_down()

    async def wait_idle(self) -> None:
        """Wait until every event being handled is done and its replies have left (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._outbox.flush()

    # ----- topic alerts (AlertSink) ---------------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> str:
        """Post one queued alert in its channel; return its message's ts once Slack accepted it (the ts of
        the earlier post when it was already there), else raise AlertNotDelivered.

        Raises at once when the adapter is not connected (e.g. the watcher's replay at start-up): the alert
        stays queued and the watcher retries. Posts go through the Outbox (per-channel order, 429s waited
        out). Before posting, the channel's recent history is searched for the alert's key (in the message
        metadata) once per channel after start, and again whenever an earlier post of that key may have
        gone through unconfirmed, so a crash between posting and marking delivered never posts twice.
        """
        if problem := self._cannot_send_alert(delivery):
            raise AlertNotDelivered(f"{problem}; the alert stays queued")
        if (ts := self._alerts_posted.get(delivery.key)) is not None:
            return ts  # posted earlier in this run; only its confirmation was lost
        call = _AlertCall()
        channel_key = Place(self.name, delivery.channel).channel_key
        await self._outbox.send(channel_key, self._alert_post(delivery, self._render_alert(delivery), call))
        if call.refusal is not None or call.ts is None:
            raise AlertNotDelivered(f"slack refused the alert in {channel_key}: {call.refusal}")
        return call.ts

    async def update(self, delivery: Delivery, ref: str) -> None:
        """Replace the posted alert `ref` (its ts) with `delivery.content` rendered afresh, e.g. with a longer
        "Also reported by" line; return once Slack accepted the edit, else raise AlertNotUpdated.

        Goes through the Outbox like posts (429s waited out, in order with the channel's other messages).
        An edit is idempotent, so a retry after an unconfirmed attempt is harmless.
        """
        if problem := self._cannot_send_alert(delivery):
            raise AlertNotUpdated(problem)
        call = _AlertCall()
        channel_key = Place(self.name, delivery.channel).channel_key
        await self._outbox.send(
            channel_key, self._alert_edit(delivery, ref, self._render_alert(delivery), call)
        )
        if call.refusal is not None:
            raise AlertNotUpdated(
                f"slack refused to edit alert {delivery.key} in {channel_key}: {call.refusal}"
            )

    def _cannot_send_alert(self, delivery: Delivery) -> str | None:
        if delivery.platform != self.name:
            return f"slack: an alert for {delivery.platform} was routed here"
        if not self.ready.is_set():
            return "slack: not connected yet"
        return None

    def _render_alert(self, delivery: Delivery) -> Message:
        return reply_message(
            delivery.content, max_actors=self._shown.max_actors_shown, max_dates=self._shown.max_dates_shown
        )

    def _alert_edit(self, delivery: Delivery, ref: str, message: Message, call: _AlertCall) -> Post:
        async def edit() -> None:
            try:
                await self._client.chat_update(
                    channel=delivery.channel,
                    ts=ref,
                    # chat.update keeps old blocks when sent none; a plain-text render must clear them.
                    blocks=message.get("blocks", []),
                    text=message["text"],
                    metadata=_alert_metadata(delivery.key),
                )
            except SlackApiError as error:
                status = error.response.status_code
                if status == 429:
                    raise RateLimited(_retry_after(error.response.headers)) from None
                if status < 500:
                    call.refusal = str(error.response.get("error"))  # e.g. message_not_found: no retry
                    return
                raise

        return edit

    def _alert_post(self, delivery: Delivery, message: Message, call: _AlertCall) -> Post:
        key = delivery.key

        async def post() -> None:
            if (ts := await self._posted_alert_ts(delivery)) is not None:
                call.ts = ts
                return
            try:
                response = await self._client.chat_postMessage(
                    channel=delivery.channel,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata=_alert_metadata(key),
                    **message,
                )
            except SlackApiError as error:
                status = error.response.status_code
                if status == 429:
                    raise RateLimited(_retry_after(error.response.headers)) from None
                if status < 500:
                    # ok=false: nothing was posted and retrying cannot help; deliver() raises it.
                    call.refusal = str(error.response.get("error"))
                    return
                self._alerts_unconfirmed.add(key)
                raise
            except BaseException:  # a timeout, a lost connection, cancellation: it may have been posted
                self._alerts_unconfirmed.add(key)
                raise
            self._alerts_unconfirmed.discard(key)
            call.ts = str(response["ts"])
            self._remember_posted(key, call.ts)

        return post

    def _remember_posted(self, key: str, ts: str) -> None:
        self._alerts_posted[key] = ts
        while len(self._alerts_posted) > _REMEMBERED_ALERTS:
            self._alerts_posted.popitem(last=False)

    async def _posted_alert_ts(self, delivery: Delivery) -> str | None:
        """The ts of the alert's message if it is in its channel already, else None. Asks Slack only when
        this run cannot know by itself."""
        if (ts := self._alerts_posted.get(delivery.key)) is not None:
            return ts
        since = delivery.created_at - _ALERT_CLOCK_SLACK_SECONDS
        searched_from = self._history_searched_from.get(delivery.channel)
        covered = searched_from is not None and searched_from <= since
        if covered and delivery.key not in self._alerts_unconfirmed:
            return None  # searched since start, and since then only this run posts alerts here
        for key, ts in (await self._alert_messages_in_history(delivery.channel, since)).items():
            self._remember_posted(key, ts)
        self._history_searched_from[delivery.channel] = (
            since if searched_from is None else min(since, searched_from)
        )
        self._alerts_unconfirmed.discard(delivery.key)
        return self._alerts_posted.get(delivery.key)

    async def _alert_messages_in_history(self, channel: str, since: float) -> dict[str, str]:
        """Alert key → message ts, from the metadata of the channel's messages since `since` (a bounded
        number of pages; newest first, so a key posted twice maps to its latest message)."""
        keys: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(_HISTORY_MAX_PAGES):
            try:
                page = await self._client.conversations_history(
                    channel=channel,
                    oldest=f"{since:.6f}",
                    limit=_HISTORY_PAGE_SIZE,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            except SlackApiError as error:
                if error.response.status_code == 429:
                    raise RateLimited(_retry_after(error.response.headers)) from None
                if error.response.status_code >= 500:
                    raise
                # e.g. missing_scope: post anyway; a rare duplicate is better than alerts that never arrive.
                log.warning(
                    "slack: cannot search %s for posted alerts: %s", channel, error.response.get("error")
                )
                return keys
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == ALERT_EVENT_TYPE:
                    key = str((metadata.get("event_payload") or {}).get("key"))
                    keys.setdefault(key, str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
        return keys

    # ----- connection -----------------------------------------------------------------------------------

    def _build_app(self, dedupe: DeliveryDedupe) -> AsyncApp:
        http = self._slack.mode == "http"
        app = AsyncApp(
            # The token, not our client: bolt also reads SLACK_BOT_TOKEN itself and warns when given both.
            token=self._bot_token,
            # Bolt verifies signatures (and timestamps) of HTTP requests; Socket Mode needs no secret.
            signing_secret=self._app_token_or_secret if http else "",
            request_verification_enabled=http,
            logger=log.getChild("bolt"),
        )
        app.client.base_url = self._slack.api_base_url  # bolt has no such setting; the SDK client's is public
        app.middleware(dedupe.middleware)  # before every listener: copies are acked, not acted on
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        app.command(COMMAND)(self._on_command)
        app.message_shortcut(SHORTCUT_CALLBACK_ID)(self._on_shortcut)
        return app

    @asynccontextmanager
    async def _connected(self, app: AsyncApp) -> AsyncIterator[None]:
        if self._slack.mode == "socket":
            handler = AsyncSocketModeHandler(app, self._app_token_or_secret)
            await handler.connect_async()
            try:
                yield
            finally:
                await handler.close_async()
            return
        endpoint = slack_endpoint(app, self._slack.http_path, self._app_token_or_secret)
        runner = web.AppRunner(endpoint, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._slack.http_host, self._slack.http_port).start()
            self.http_port = runner.addresses[0][1]
            yield
        finally:
            await runner.cleanup()

    async def _shut_down(self) -> None:
        """Stop work in progress, give queued replies a moment to leave, then drop the rest."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            async with asyncio.timeout(_SHUTDOWN_FLUSH_SECONDS):
                await self._outbox.flush()
        except TimeoutError:
            log.warning("slack: replies still queued at shutdown were dropped")
        await self._outbox.close()

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
        text = from_slack_markup(strip_mention(_field(event, "text") or "", context.bot_user_id))
        # People write "@briefbot can you brief <link>?": the links are the request, whatever the words
        # around them (the core would take a link with many words for pasted text). No link: like /brief.
        requests: list[Command] = [BriefUrl(link) for link in find_links(text, self._max_links)]
        self._spawn(self._answer(where, _person(event), requests or [parse(text)], respond=None))

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()  # first, before any work: Slack gives 3 seconds
        where, user = _place(_field(command, "channel_id")), _field(command, "user_id")
        if where is None or user is None:
            _malformed("slash command")
            return
        text = from_slack_markup(_field(command, "text") or "")
        self._spawn(self._answer_command(where, user, parse(text), respond))

    async def _answer_command(self, where: Place, user: str, command: Command, respond: AsyncRespond) -> None:
        # Slack has no per-channel "manage" permission: the app checks (admins, owners, configured managers),
        # and only for the commands that need it, to spare a users.info call per briefing.
        can_manage = command.needs_manager and await self._can_manage(user)
        await self._answer(where, Person(user, can_manage=can_manage), [command], respond)

    async def _can_manage(self, user: str) -> bool:
        if user in self._slack.managers:
            return True
        try:
            info = await self._client.users_info(user=user)
        except SlackApiError:
            log.warning("slack: users.info failed; treating %s as not a manager", user)
            return False
        profile = info.get("user") or {}
        return bool(profile.get("is_admin") or profile.get("is_owner"))

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
            self._send_reply(
                where, person, Outcome(Notice("I found nothing to brief in that message."), True), respond
            )
            return
        self._spawn(self._answer(where, person, requests, respond))

    # ----- work (in owned tasks) ------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _logged(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("slack: handling an event failed")

    @property
    def core(self) -> ChatCore:
        assert self._core is not None, "run() sets the core"
        return self._core

    async def _brief_pasted(self, where: Place, person: Person, text: str) -> None:
        async for outcome in self.core.on_message(where, person, text):
            self._send_reply(where, person, outcome, respond=None)

    async def _answer(
        self, where: Place, person: Person, requests: list[Command], respond: AsyncRespond | None
    ) -> None:
        """/brief, mentions and the shortcut: each request answered, replies in request order."""
        outcomes = await asyncio.gather(*(self.core.handle(where, person, command) for command in requests))
        for outcome in outcomes:
            self._send_reply(where, person, outcome, respond)

    # ----- delivery -------------------------------------------------------------------------------------

    def _send_reply(
        self, where: Place, person: Person, outcome: Outcome, respond: AsyncRespond | None
    ) -> None:
        """Queue one reply: public in the channel (or thread), private to the person who asked."""
        message = reply_message(
            outcome.reply, max_actors=self._shown.max_actors_shown, max_dates=self._shown.max_dates_shown
        )
        if outcome.private:
            call = self._private_post(where, person, message, respond)
        else:
            call = self._public_post(where, message, respond)
        kind = "private" if outcome.private else "public"
        done = self._outbox.send(where.channel_key, self._for_outbox(call, where, kind))
        done.add_done_callback(lambda future: self._log_lost(future, where, kind))

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

    @staticmethod
    def _for_outbox(call: ApiCall, where: Place, kind: str) -> Post:
        """The call as the Outbox runs it: a 429 to wait out, a refusal logged and not retried."""

        async def post() -> None:
            try:
                await call()
            except SlackApiError as error:
                status = error.response.status_code
                if status == 429:
                    raise RateLimited(_retry_after(error.response.headers)) from None
                if status < 500:
                    # ok=false (e.g. channel_not_found, invalid_blocks): retrying cannot help.
                    log.warning(
                        "slack: %s reply in %s refused: %s",
                        kind,
                        where.channel_key,
                        error.response.get("error"),
                    )
                    return
                raise

        return post

    @staticmethod
    def _log_lost(future: asyncio.Future[None], where: Place, kind: str) -> None:
        if future.cancelled():
            log.warning("slack: a %s reply in %s was dropped at shutdown", kind, where.channel_key)
        elif (error := future.exception()) is not None:
            log.error("slack: a %s reply in %s was lost (%s)", kind, where.channel_key, type(error).__name__)


async def _responded(sending: Awaitable[Any]) -> None:
    """Await a response_url post; its HTTP errors become exceptions (429 → RateLimited for the Outbox)."""
    response = await sending
    if response.status_code == 429:
        raise RateLimited(_retry_after(response.headers))
    if response.status_code >= 300:
        raise ResponseUrlError(f"response_url answered HTTP {response.status_code}")
