"""A local Discord REST API and gateway for tests: the real discord.py client talks to it on 127.0.0.1.

Discord cannot be reached from CI, and hand-written payloads drift from what discord.py really parses, so
tests run the real library against this emulator (facts in /work/shared/notes/platform-emulators.md).
It serves one guild with a few text channels, records what the bot sends and edits, and drives events at the
bot: messages, slash commands, message context-menu commands, 429s and a gateway RECONNECT (for RESUME).
Posts with `enforce_nonce` are idempotent within a nonce window, as on Discord (set `clock` to age them).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import discord
import pytest_asyncio
import yarl
from aiohttp import WSMsgType, web

# Payload literals below are kept dense with `# fmt: skip`: they are data, one key per line would triple them.
T = TypeVar("T")
Handler = Callable[[web.Request], Any]

API_PREFIX = "/api/v10"
MESSAGE_CONTENT_INTENT = 1 << 15
EPHEMERAL_FLAG = 64
POLL_SECONDS = 0.01
# View channel, send messages, embed links, read history, use application commands.
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
MANAGER_PERMISSIONS = MEMBER_PERMISSIONS | (1 << 4)  # + Manage Channels
OPTION_TYPES = {bool: 5, int: 4, float: 10, str: 3}
CALLBACKS_WITH_MESSAGE = {4, 5}
BODY = web.RequestKey("body", object)  # the decoded request body, read once by the middleware
PLACEHOLDER = re.compile(r"\{[^}]*\}")
MAX_NONCE_LENGTH = 25
# Discord only says "the past few minutes" for enforce_nonce; the emulator picks a window within that.
NONCE_WINDOW_SECONDS = 120.0


@dataclass
class LoggedRequest:
    """One REST call as answered; `route` has its ids blanked, e.g. "POST /channels/{}/messages"."""

    route: str
    path: str
    status: int
    body: Any


@dataclass
class SentInteraction:
    """An interaction pushed at the bot, filled in with what the bot answered: callback bodies, follow-up
    messages (plus an `ephemeral` key for flag 64) and edits of the original response."""

    id: int
    token: str
    channel_id: int
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)


def route_key(method: str, template: str) -> str:
    """Blank the placeholders: "POST /channels/{id}/messages" names the same route as "{channel_id}"."""
    return f"{method.upper()} {PLACEHOLDER.sub('{}', template)}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses JSON when Content-Type is exactly this (json_response adds a charset).
    headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


def _error(status: int, message: str, code: int = 0) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


class DiscordEmulator:
    def __init__(self, token: str = "emulator-token", channel_names: tuple[str, ...] = ("general", "news")):
        self.token = token
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self.application_id = self.bot_user_id = next(self._ids)  # a bot's user id is its application id
        self.guild_id = next(self._ids)
        self.channel_ids = {name: next(self._ids) for name in channel_names}
        self.channels: dict[int, dict[str, Any]] = {
            cid: self._text_channel(cid, name, pos)
            for pos, (name, cid) in enumerate(self.channel_ids.items())
        }
        self.log: list[LoggedRequest] = []
        self.messages: list[dict[str, Any]] = []  # posted by the bot to channels and threads, in order
        self.threads: list[dict[str, Any]] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # scope (guild id or None) -> commands
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.interactions: dict[str, SentInteraction] = {}  # by token
        self._all_messages: dict[int, dict[str, Any]] = {}
        self._rate_limits: dict[str, tuple[int, float]] = {}
        self._nonces: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}  # (channel, nonce) -> message
        self.clock: Callable[[], float] = time.monotonic
        self._ws: web.WebSocketResponse | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._intents = 0
        self._seq = 0
        self.session_id = secrets.token_hex(16)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------------------
    async def __aenter__(self) -> DiscordEmulator:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self._gateway)
        for method, path, handler in self._rest_routes():
            app.router.add_route(method, API_PREFIX + path, handler)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- test controls ---------------------------------------------------------------------------------
    def rate_limit(self, route: str, times: int = 1, retry_after: float = 0.05) -> None:
        """Answer the next `times` calls of `route` ("POST /channels/{id}/messages") with a 429."""
        method, template = route.split(" ", 1)
        self._rate_limits[route_key(method, template)] = (times, retry_after)

    def delete_message(self, message_id: int) -> None:
        """Someone deleted a message: it leaves `messages`, and later edits of it get 404."""
        deleted = self._all_messages.pop(message_id)
        self.messages = [m for m in self.messages if m is not deleted]

    async def wait_for(self, predicate: Callable[[], T], seconds: float = 5.0) -> T:
        """Wait until `predicate()` is truthy: re-checked whenever the emulator records something, and every
        few milliseconds so that predicates on the client's own state work too."""
        async with asyncio.timeout(seconds):
            while not (value := predicate()):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), POLL_SECONDS)
        return value

    @property
    def is_connected(self) -> bool:
        """A client has identified (or resumed) on the gateway and not dropped since."""
        return self._ws is not None

    async def wait_until_ready(self, seconds: float = 5.0) -> None:
        await self.wait_for(lambda: self._ws is not None, seconds)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client drops the socket and comes back with RESUME."""
        await self._send(self._require_ws(), {"op": 7, "d": None})
        self._ws = None

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        await self._send(self._require_ws(), {"op": 0, "t": event, "s": self._seq, "d": data})

    async def send_message(
        self,
        channel_id: int,
        content: str,
        *,
        author_id: int = 4242,
        bot: bool = False,
        username: str = "reader",
    ) -> dict[str, Any]:
        """A user (or another bot) posts in a channel: MESSAGE_CREATE, content hidden without the intent."""
        self._channel_payload(channel_id)  # KeyError for a channel the guild does not have
        author = self._user(author_id, username, bot=bot)
        message = self._message(channel_id, content, author, embeds=[])
        message["member"] = self._member(author_id)
        mentions_bot = f"<@{self.bot_user_id}>" in content
        message["mentions"] = [self._user(self.bot_user_id, "briefbot", bot=True)] if mentions_bot else []
        seen = dict(message)
        if not self._intents & MESSAGE_CONTENT_INTENT and not mentions_bot:
            seen.update(content="", embeds=[], attachments=[], components=[])
        await self.dispatch("MESSAGE_CREATE", seen)
        return message

    async def send_slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel_id: int | None = None,
        user_id: int = 4242,
        permissions: int = MEMBER_PERMISSIONS,
    ) -> SentInteraction:
        command = self._registered_command(name, command_type=1)
        typed = {opt["name"]: opt.get("type") for opt in command.get("options", [])}
        data = {
            "options": [
                {"name": key, "type": typed.get(key) or OPTION_TYPES[type(value)], "value": value}
                for key, value in (options or {}).items()
            ]
        }
        return await self._send_command(command, data, channel_id, user_id, permissions)

    async def send_message_command(
        self,
        name: str,
        message_id: int,
        *,
        channel_id: int | None = None,
        user_id: int = 4242,
        permissions: int = MEMBER_PERMISSIONS,
    ) -> SentInteraction:
        """A message context-menu command (data.type 3) on a message the emulator has seen."""
        command = self._registered_command(name, command_type=3)
        target = self._all_messages[message_id]
        data = {"target_id": str(message_id), "resolved": {"messages": {str(message_id): target}}}
        return await self._send_command(
            command, data, channel_id or int(target["channel_id"]), user_id, permissions
        )

    # ---- payload builders ------------------------------------------------------------------------------
    def _text_channel(self, channel_id: int, name: str, position: int) -> dict[str, Any]:
        return {
            "id": str(channel_id), "type": 0, "guild_id": str(self.guild_id), "name": name,
            "position": position, "permission_overwrites": [], "topic": None, "nsfw": False,
            "parent_id": None, "last_message_id": None, "rate_limit_per_user": 0,
        }  # fmt: skip

    def _user(self, user_id: int, username: str, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": str(user_id), "username": username, "discriminator": "0", "global_name": None,
            "avatar": None, "bot": bot, "public_flags": 0, "flags": 0,
        }  # fmt: skip

    def _member(self, user_id: int, permissions: int | None = None) -> dict[str, Any]:
        member: dict[str, Any] = {"roles": [], "joined_at": _now(), "flags": 0, "deaf": False, "mute": False}
        member.update(nick=None, pending=False, avatar=None, premium_since=None)
        if permissions is not None:  # interactions carry the member's computed permissions
            member["permissions"] = str(permissions)
        return member

    def _bot_user(self) -> dict[str, Any]:
        return self._user(self.bot_user_id, "briefbot", bot=True) | {"verified": True, "mfa_enabled": False}

    def _message(
        self, channel_id: int, content: str, author: dict[str, Any], *, embeds: list[Any], flags: int = 0
    ) -> dict[str, Any]:
        message = {
            "id": str(next(self._ids)), "channel_id": str(channel_id), "guild_id": str(self.guild_id),
            "author": author, "content": content, "timestamp": _now(), "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": embeds, "pinned": False, "type": 0, "flags": flags, "components": [],
        }  # fmt: skip
        self._all_messages[int(message["id"])] = message
        return message

    def _bot_message(self, channel_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        content, embeds = payload.get("content") or "", payload.get("embeds") or []
        return self._message(
            channel_id, content, self._bot_user(), embeds=embeds, flags=payload.get("flags") or 0
        )

    def _guild(self) -> dict[str, Any]:
        everyone = {
            "id": str(self.guild_id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS),
            "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False,
        }  # fmt: skip
        bot_member = self._member(self.bot_user_id) | {"user": self._bot_user()}
        return {
            "id": str(self.guild_id), "name": "Emulated guild", "owner_id": "1", "unavailable": False,
            "member_count": 2, "large": False, "joined_at": _now(), "roles": [everyone],
            "channels": list(self.channels.values()), "threads": [], "members": [bot_member],
            "emojis": [], "stickers": [], "features": [], "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "preferred_locale": "en-US",
        }  # fmt: skip

    # ---- interactions ----------------------------------------------------------------------------------
    def _registered_command(self, name: str, command_type: int) -> dict[str, Any]:
        # Discord only delivers commands the bot registered: an unsynced tree is a bug worth failing on.
        for scope in (self.guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command["type"] == command_type:
                    return command
        raise LookupError(f"command {name!r} (type {command_type}) was never registered with PUT")

    async def _send_command(
        self,
        command: dict[str, Any],
        data: dict[str, Any],
        channel_id: int | None,
        user_id: int,
        permissions: int,
    ) -> SentInteraction:
        channel_id = channel_id or next(iter(self.channels))
        sent = SentInteraction(id=next(self._ids), token=secrets.token_urlsafe(24), channel_id=channel_id)
        self.interactions[sent.token] = sent
        data |= {"id": command["id"], "name": command["name"], "type": command["type"]}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        member = self._member(user_id, permissions) | {"user": self._user(user_id, "reader")}
        await self.dispatch("INTERACTION_CREATE", {
            "id": str(sent.id), "application_id": str(self.application_id), "type": 2, "token": sent.token,
            "version": 1, "guild_id": str(self.guild_id), "channel_id": str(channel_id),
            "channel": self._channel_payload(channel_id), "member": member, "data": data,
            "app_permissions": str(MANAGER_PERMISSIONS), "locale": "en-US", "guild_locale": "en-US",
            "attachment_size_limit": 10 * 1024 * 1024, "entitlements": [], "context": 0,
            "authorizing_integration_owners": {"0": str(self.guild_id)},
        })  # fmt: skip
        return sent

    def _channel_payload(self, channel_id: int) -> dict[str, Any]:
        found = self.channels.get(channel_id) or next(
            (t for t in self.threads if int(t["id"]) == channel_id), None
        )
        if found is None:
            raise KeyError(f"unknown channel {channel_id}")
        return found

    # ---- REST ------------------------------------------------------------------------------------------
    def _rest_routes(self) -> Iterator[tuple[str, str, Handler]]:
        yield "GET", "/users/@me", self._get_me
        yield "GET", "/oauth2/applications/@me", self._application
        yield "GET", "/gateway", self._get_gateway
        yield "GET", "/gateway/bot", self._gateway_bot
        yield "PUT", "/applications/{app}/commands", self._put_commands
        yield "PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands
        yield "GET", "/applications/{app}/commands", self._get_commands
        yield "GET", "/channels/{channel}", self._get_channel
        yield "POST", "/channels/{channel}/messages", self._post_message
        yield "PATCH", "/channels/{channel}/messages/{message}", self._edit_message
        yield "POST", "/channels/{channel}/messages/{message}/threads", self._post_thread
        yield "POST", "/interactions/{interaction}/{token}/callback", self._interaction_callback
        yield "POST", "/webhooks/{app}/{token}", self._followup
        yield "PATCH", "/webhooks/{app}/{token}/messages/{message}", self._edit_original

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        template = request.match_info.route.resource.canonical if request.match_info.route.resource else ""
        key = route_key(request.method, template.removeprefix(API_PREFIX))
        request[BODY] = body = await self._read_body(request)  # handlers read it from here
        response = self._refusal(request, key) or await handler(request)
        self.log.append(LoggedRequest(key, request.path.removeprefix(API_PREFIX), response.status, body))
        self._notify()
        return response

    def _refusal(self, request: web.Request, key: str) -> web.Response | None:
        """A 401 for a bad bot token, or a queued 429 for this route."""
        webhook_route = key.startswith(("POST /interactions/", "POST /webhooks/", "PATCH /webhooks/"))
        if not webhook_route and request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, "401: Unauthorized")
        times, retry_after = self._rate_limits.get(key, (0, 0.0))
        if times <= 0:
            return None
        self._rate_limits[key] = (times - 1, retry_after)
        # discord.py only retries a 429 that carries a Via header (no Via means a Cloudflare ban).
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        return _json(body, 429, {"Via": "1.1 google", "Retry-After": str(max(1, round(retry_after)))})

    @staticmethod
    async def _read_body(request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "multipart/form-data":  # messages with files: JSON in payload_json
            form = await request.post()
            return json.loads(str(form.get("payload_json", "{}")))
        return await request.json()

    async def _get_me(self, _: web.Request) -> web.Response:
        return _json(self._bot_user())

    async def _get_gateway(self, _: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_commands(self, _: web.Request) -> web.Response:
        return _json(self.commands.get(None, []))

    async def _application(self, _: web.Request) -> web.Response:
        return _json({
            "id": str(self.application_id), "name": "briefbot", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
            "owner": self._user(1, "owner"),
        })  # fmt: skip

    async def _gateway_bot(self, _: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = int(request.match_info["guild"]) if "guild" in request.match_info else None
        known = {c["name"]: c["id"] for c in self.commands.get(scope, [])}  # ids survive a re-sync
        echoed = [
            {"type": 1, "description": "", **c, "id": known.get(c["name"]) or str(next(self._ids)),
             "application_id": str(self.application_id), "version": str(next(self._ids))}
            | ({"guild_id": str(scope)} if scope else {})
            for c in request[BODY] or []
        ]  # fmt: skip
        self.commands[scope] = echoed
        return _json(echoed)

    async def _get_channel(self, request: web.Request) -> web.Response:
        try:
            return _json(self._channel_payload(int(request.match_info["channel"])))
        except KeyError:
            return _error(404, "Unknown Channel", 10003)

    async def _post_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        try:
            self._channel_payload(channel_id)
        except KeyError:
            return _error(404, "Unknown Channel", 10003)
        payload = request[BODY] or {}
        nonce = payload.get("nonce")
        if nonce is not None and len(str(nonce)) > MAX_NONCE_LENGTH:
            return _error(400, "Invalid Form Body", 50035)
        if payload.get("enforce_nonce") and (earlier := self._recent_nonce(channel_id, str(nonce))):
            return _json(earlier)  # the message already sent with this nonce; nothing new is posted
        message = self._bot_message(channel_id, payload)
        if nonce is not None:
            message["nonce"] = str(nonce)
            self._nonces[(channel_id, str(nonce))] = (self.clock(), message)
        if reference := payload.get("message_reference"):
            message["type"] = 19  # a reply
            message["message_reference"] = {
                "type": 0,
                "channel_id": str(channel_id),
                "guild_id": str(self.guild_id),
            }
            message["message_reference"] |= {k: str(v) for k, v in reference.items() if k.endswith("_id")}
            if referenced := self._all_messages.get(int(reference["message_id"])):
                message["referenced_message"] = referenced
        self.messages.append(message)
        if self._ws is not None:  # Discord echoes the bot's own messages back over the gateway
            await self.dispatch("MESSAGE_CREATE", message)
        return _json(message)

    async def _edit_message(self, request: web.Request) -> web.Response:
        """Replace what an edit names (content, embeds, flags) on a recorded message, in place: `messages`
        shows the edited text. Unknown, deleted or other-channel ids get Discord's 404 Unknown Message."""
        channel_id, message_id = int(request.match_info["channel"]), int(request.match_info["message"])
        message = self._all_messages.get(message_id)
        if message is None or int(message["channel_id"]) != channel_id:
            return _error(404, "Unknown Message", 10008)
        payload = request[BODY] or {}
        message.update({key: payload[key] for key in ("content", "embeds", "flags") if key in payload})
        message["edited_timestamp"] = _now()
        if self._ws is not None:  # Discord tells the gateway about every edit
            await self.dispatch("MESSAGE_UPDATE", message)
        return _json(message)

    def _recent_nonce(self, channel_id: int, nonce: str) -> dict[str, Any] | None:
        sent_at, message = self._nonces.get((channel_id, nonce), (None, None))
        if sent_at is None or self.clock() - sent_at > NONCE_WINDOW_SECONDS:
            return None
        return message

    async def _post_thread(self, request: web.Request) -> web.Response:
        parent_id, message_id = int(request.match_info["channel"]), int(request.match_info["message"])
        payload = request[BODY] or {}
        archive = payload.get("auto_archive_duration", 1440)
        thread = {
            "id": str(message_id), "type": 11, "guild_id": str(self.guild_id), "parent_id": str(parent_id),
            "owner_id": str(self.bot_user_id), "name": payload["name"], "message_count": 0, "member_count": 1,
            "rate_limit_per_user": 0, "flags": 0, "last_message_id": None,
            "thread_metadata": {"archived": False, "auto_archive_duration": archive,
                                "archive_timestamp": _now(), "locked": False},
        }  # fmt: skip
        self.threads.append(thread)
        if self._ws is not None:
            await self.dispatch("THREAD_CREATE", thread | {"newly_created": True})
        return _json(thread, 201)

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        sent = self.interactions.get(request.match_info["token"])
        if sent is None or str(sent.id) != request.match_info["interaction"]:
            return _error(404, "Unknown interaction", 10062)
        if sent.callbacks:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        payload = request[BODY] or {}
        sent.callbacks.append(payload)
        data = payload.get("data") or {}
        flags = data.get("flags") or 0
        result: dict[str, Any] = {"interaction": {"id": str(sent.id), "type": 2}}
        if payload["type"] in CALLBACKS_WITH_MESSAGE:
            loading = (
                payload["type"] == 5
            )  # a deferred answer shows "thinking" (flag 128) until the follow-up
            message = self._bot_message(sent.channel_id, data | {"flags": flags | (128 if loading else 0)})
            result["interaction"] |= {
                "response_message_id": message["id"],
                "response_message_loading": loading,
                "response_message_ephemeral": bool(flags & EPHEMERAL_FLAG),
            }
            result["resource"] = {"type": payload["type"], "message": message}
        return _json(result)

    async def _followup(self, request: web.Request) -> web.Response:
        sent = self.interactions.get(request.match_info["token"])
        if sent is None or not sent.callbacks:  # a follow-up needs an acknowledged interaction
            return _error(404, "Unknown Webhook", 10015)
        payload = request[BODY] or {}
        message = self._bot_message(sent.channel_id, payload)
        message["webhook_id"] = str(self.application_id)
        sent.followups.append(message | {"ephemeral": bool(message["flags"] & EPHEMERAL_FLAG)})
        return _json(message)

    async def _edit_original(self, request: web.Request) -> web.Response:
        sent = self.interactions.get(request.match_info["token"])
        if sent is None or not sent.callbacks:
            return _error(404, "Unknown Webhook", 10015)
        payload = request[BODY] or {}
        sent.edits.append(payload)
        message = self._bot_message(sent.channel_id, payload)
        return _json(message | {"edited_timestamp": _now()})

    # ---- gateway ---------------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            # Plain JSON text frames: discord.py asks for zlib-stream but only inflates binary frames.
            await self._send(ws, {"op": 10, "d": {"heartbeat_interval": 41250}})
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    await self._on_gateway_payload(ws, json.loads(frame.data))
        finally:
            self._sockets.discard(ws)
            if self._ws is ws:
                self._ws = None
            self._notify()
        return ws

    async def _on_gateway_payload(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == 1:
            await self._send(ws, {"op": 11})
        elif op == 2:
            await self._identify(ws, data)
        elif op == 6:
            self.resumes.append(data)
            if data.get("session_id") != self.session_id or data.get("token") != self.token:
                await self._send(ws, {"op": 9, "d": False})
                return
            self._ws = ws
            await self.dispatch("RESUMED", {})
            self._notify()

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self._intents, self._seq, self._ws = int(data.get("intents", 0)), 0, ws
        await self.dispatch("READY", {
            "v": 10, "user": self._bot_user(), "session_id": self.session_id,
            "resume_gateway_url": self.gateway_url, "shard": [0, 1],
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "application": {"id": str(self.application_id), "flags": 0},
        })  # fmt: skip
        await self.dispatch("GUILD_CREATE", self._guild())
        self._notify()

    def _require_ws(self) -> web.WebSocketResponse:
        if self._ws is None:
            raise RuntimeError("no client is connected to the gateway (await emulator.wait_until_ready())")
        return self._ws

    @staticmethod
    async def _send(ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(payload))

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


@contextlib.contextmanager
def discord_endpoints_restored() -> Iterator[None]:
    """Undo whatever a test (or the adapter under test) points discord.py's class-level endpoints at."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@contextlib.contextmanager
def discord_py_pointed_at(emulator: DiscordEmulator) -> Iterator[None]:
    """Point discord.py at the emulator for the duration of the block; the real endpoints come back after."""
    with discord_endpoints_restored():
        discord.http.Route.BASE = emulator.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)
        yield


@pytest_asyncio.fixture(name="discord_emulator")
async def discord_emulator_fixture() -> AsyncIterator[DiscordEmulator]:
    """Fixture `discord_emulator` (import this name to use it): a running emulator; discord.py's endpoints
    are restored after the test, whoever patched them."""
    with discord_endpoints_restored():
        async with DiscordEmulator() as emulator:
            yield emulator
