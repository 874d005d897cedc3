"""A local Discord REST API and gateway for tests: the real discord.py client talks to it on 127.0.0.1.

Discord cannot be reached from CI, and hand-written payloads drift from what discord.py really parses, so
tests run the real library against this emulator (facts in /work/shared/notes/platform-emulators.md).
It serves one guild with a few text channels (or several guilds), records what the bot sends and edits, and
drives events at the bot: messages, slash commands, message context-menu commands, 429s, held answers and a
gateway RECONNECT (for RESUME). Posts with `enforce_nonce` are idempotent within a nonce window, as on
Discord (set `clock` to age them).

Sharded as Discord is: each IDENTIFY names its shard [id, count] ([0, 1] when it names none), several gateway
connections live at once, and a guild's events go only to the connections of its shard, (guild_id >> 22) %
count; events of no guild go to shard 0.
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
# Guild ids are snowflakes whose bits above 22 count up from a multiple of lcm(1..16): the k-th guild lands
# on shard k % count for any shard count up to 16, so tests know where their guilds are.
GUILD_SNOWFLAKES = (1_400_000_000_000_000_000 >> 22) // 720_720 * 720_720
INVALID_SHARD = 4010


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


@dataclass
class Guild:
    """An emulated guild and its text channels, by name."""

    id: int
    name: str
    channel_ids: dict[str, int]


@dataclass
class Session:
    """One gateway session: the shard its IDENTIFY named, and every event dispatched on it, in order."""

    session_id: str
    shard: tuple[int, int]  # (shard id, shard count)
    intents: int
    ws: web.WebSocketResponse | None  # None once the socket dropped, until a RESUME
    seq: int = 0
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def serves(self, guild_id: int | None) -> bool:
        """Discord's rule: a guild is on shard (guild_id >> 22) % count; events of no guild on shard 0."""
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else (guild_id >> 22) % count)

    def received(self, event: str) -> list[dict[str, Any]]:
        return [data for name, data in self.events if name == event]


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
    """`guilds` (guild name -> channel names) serves several guilds instead of one with `channel_names`;
    `guild_id` and `channel_ids` are the first guild's. `shard_count` is what GET /gateway/bot recommends."""

    def __init__(
        self,
        token: str = "emulator-token",
        channel_names: tuple[str, ...] = ("general", "news"),
        *,
        guilds: dict[str, tuple[str, ...]] | None = None,
        shard_count: int = 1,
    ):
        self.token = token
        self.shard_count = shard_count
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self.application_id = self.bot_user_id = next(self._ids)  # a bot's user id is its application id
        guild_snowflakes = itertools.count(GUILD_SNOWFLAKES)
        self.guilds = [
            Guild(next(guild_snowflakes) << 22, name, {channel: next(self._ids) for channel in channels})
            for name, channels in (guilds or {"Emulated guild": channel_names}).items()
        ]
        self.guild_id, self.channel_ids = self.guilds[0].id, self.guilds[0].channel_ids
        self.channels: dict[int, dict[str, Any]] = {
            cid: self._text_channel(cid, name, pos, guild.id)
            for guild in self.guilds
            for pos, (name, cid) in enumerate(guild.channel_ids.items())
        }
        self._guilds_by_channel = {cid: str(c["guild_id"]) for cid, c in self.channels.items()}
        self.log: list[LoggedRequest] = []
        self.messages: list[dict[str, Any]] = []  # posted by the bot to channels and threads, in order
        self.threads: list[dict[str, Any]] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # scope (guild id or None) -> commands
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.interactions: dict[str, SentInteraction] = {}  # by token
        self._all_messages: dict[int, dict[str, Any]] = {}
        self._rate_limits: dict[str, tuple[int, float]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._nonces: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}  # (channel, nonce) -> message
        self.clock: Callable[[], float] = time.monotonic
        self.sessions: list[Session] = []  # in the order the bot identified them
        self._sockets: set[web.WebSocketResponse] = set()
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

    def hold(self, route: str) -> None:
        """Carry out and record calls of `route` ("POST /channels/{id}/messages") but keep their answers back
        until `release(route)` (a crash test kills the bot that is waiting for one)."""
        method, template = route.split(" ", 1)
        self._holds[route_key(method, template)] = asyncio.Event()

    def release(self, route: str) -> None:
        method, template = route.split(" ", 1)
        if (gate := self._holds.pop(route_key(method, template), None)) is not None:
            gate.set()

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
        return bool(self._live(any_guild=True))

    @property
    def session_id(self) -> str:
        """The id of the latest session identified."""
        return self.sessions[-1].session_id

    def shard_of(self, guild_id: int, shard_count: int | None = None) -> int:
        return (guild_id >> 22) % (shard_count or self.shard_count)

    async def wait_until_ready(self, seconds: float = 5.0) -> None:
        """Wait until every guild is on the shard of some live session."""
        await self.wait_for(lambda: all(self._live(guild.id) for guild in self.guilds), seconds)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT on every live session: the client drops them and comes back with RESUME."""
        for session in self._live(any_guild=True):
            assert session.ws is not None
            await self._send(session.ws, {"op": 7, "d": None})
            session.ws = None

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event on the live sessions of its guild's shard; an error when there are none."""
        guild_id = data.get("guild_id")
        sessions = self._live(int(guild_id) if guild_id else None)
        if not sessions:
            raise RuntimeError(
                f"no client is connected for guild {guild_id} (await emulator.wait_until_ready())"
            )
        for session in sessions:
            await self._dispatch_on(session, event, data)

    async def _echo(self, event: str, data: dict[str, Any]) -> None:
        """Events Discord sends back whenever a client listens (the bot's own messages, edits, threads)."""
        if self._live(int(data["guild_id"])):
            await self.dispatch(event, data)

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
        guild_id = int(self._channel_payload(channel_id)["guild_id"])  # KeyError for a channel of no guild
        author = self._user(author_id, username, bot=bot)
        message = self._message(channel_id, content, author, embeds=[])
        message["member"] = self._member(author_id)
        mentions_bot = f"<@{self.bot_user_id}>" in content
        message["mentions"] = [self._user(self.bot_user_id, "briefbot", bot=True)] if mentions_bot else []
        hidden = {"content": "", "embeds": [], "attachments": [], "components": []}
        if not (sessions := self._live(guild_id)):
            raise RuntimeError(
                f"no client is connected for guild {guild_id} (await emulator.wait_until_ready())"
            )
        for session in sessions:  # each session sees content as its own intents allow
            shown = session.intents & MESSAGE_CONTENT_INTENT or mentions_bot
            await self._dispatch_on(session, "MESSAGE_CREATE", message if shown else message | hidden)
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
        command = self._registered_command(name, 1, channel_id)
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
        target = self._all_messages[message_id]
        command = self._registered_command(name, 3, channel_id or int(target["channel_id"]))
        data = {"target_id": str(message_id), "resolved": {"messages": {str(message_id): target}}}
        return await self._send_command(
            command, data, channel_id or int(target["channel_id"]), user_id, permissions
        )

    # ---- payload builders ------------------------------------------------------------------------------
    def _text_channel(self, channel_id: int, name: str, position: int, guild_id: int) -> dict[str, Any]:
        return {
            "id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": name,
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
            "id": str(next(self._ids)), "channel_id": str(channel_id), "guild_id": self._guild_of(channel_id),
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

    def _guild_of(self, channel_id: int) -> str:
        """The guild id of a channel or thread, deleted or not (its messages still name their guild)."""
        return self._guilds_by_channel[channel_id]

    def _guild(self, guild: Guild) -> dict[str, Any]:
        channels = [c for c in self.channels.values() if c["guild_id"] == str(guild.id)]
        everyone = {
            "id": str(guild.id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS),
            "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False,
        }  # fmt: skip
        bot_member = self._member(self.bot_user_id) | {"user": self._bot_user()}
        return {
            "id": str(guild.id), "name": guild.name, "owner_id": "1", "unavailable": False,
            "member_count": 2, "large": False, "joined_at": _now(), "roles": [everyone],
            "channels": channels, "threads": [], "members": [bot_member],
            "emojis": [], "stickers": [], "features": [], "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "preferred_locale": "en-US",
        }  # fmt: skip

    # ---- interactions ----------------------------------------------------------------------------------
    def _registered_command(self, name: str, command_type: int, channel_id: int | None) -> dict[str, Any]:
        # Discord only delivers commands the bot registered: an unsynced tree is a bug worth failing on.
        guild_id = int(self._guild_of(channel_id)) if channel_id else self.guild_id
        for scope in (guild_id, None):
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
        guild_id = self._guild_of(channel_id)
        sent = SentInteraction(id=next(self._ids), token=secrets.token_urlsafe(24), channel_id=channel_id)
        self.interactions[sent.token] = sent
        data |= {"id": command["id"], "name": command["name"], "type": command["type"]}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        member = self._member(user_id, permissions) | {"user": self._user(user_id, "reader")}
        await self.dispatch("INTERACTION_CREATE", {
            "id": str(sent.id), "application_id": str(self.application_id), "type": 2, "token": sent.token,
            "version": 1, "guild_id": guild_id, "channel_id": str(channel_id),
            "channel": self._channel_payload(channel_id), "member": member, "data": data,
            "app_permissions": str(MANAGER_PERMISSIONS), "locale": "en-US", "guild_locale": "en-US",
            "attachment_size_limit": 10 * 1024 * 1024, "entitlements": [], "context": 0,
            "authorizing_integration_owners": {"0": guild_id},
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
        if (gate := self._holds.get(key)) is not None:
            await gate.wait()  # done and recorded; only the answer waits
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
        return _json({"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit})

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
                "guild_id": message["guild_id"],
            }
            message["message_reference"] |= {k: str(v) for k, v in reference.items() if k.endswith("_id")}
            if referenced := self._all_messages.get(int(reference["message_id"])):
                message["referenced_message"] = referenced
        self.messages.append(message)
        await self._echo("MESSAGE_CREATE", message)  # Discord echoes the bot's own messages back
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
        await self._echo("MESSAGE_UPDATE", message)  # Discord tells the gateway about every edit
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
        guild_id = self._guilds_by_channel[message_id] = self._guild_of(parent_id)
        thread = {
            "id": str(message_id), "type": 11, "guild_id": guild_id, "parent_id": str(parent_id),
            "owner_id": str(self.bot_user_id), "name": payload["name"], "message_count": 0, "member_count": 1,
            "rate_limit_per_user": 0, "flags": 0, "last_message_id": None,
            "thread_metadata": {"archived": False, "auto_archive_duration": archive,
                                "archive_timestamp": _now(), "locked": False},
        }  # fmt: skip
        self.threads.append(thread)
        await self._echo("THREAD_CREATE", thread | {"newly_created": True})
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
            for session in self.sessions:
                if session.ws is ws:
                    session.ws = None
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
            session = next((s for s in self.sessions if s.session_id == data.get("session_id")), None)
            if session is None or data.get("token") != self.token:
                await self._send(ws, {"op": 9, "d": False})
                return
            session.ws = ws
            await self._dispatch_on(session, "RESUMED", {})
            self._notify()

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        shard_id, count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < count:
            await ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        session = Session(secrets.token_hex(16), (shard_id, count), int(data.get("intents", 0)), ws)
        self.sessions.append(session)
        guilds = [guild for guild in self.guilds if session.serves(guild.id)]
        await self._dispatch_on(session, "READY", {
            "v": 10, "user": self._bot_user(), "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url, "shard": [shard_id, count],
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in guilds],
            "application": {"id": str(self.application_id), "flags": 0},
        })  # fmt: skip
        for guild in guilds:
            await self._dispatch_on(session, "GUILD_CREATE", self._guild(guild))
        self._notify()

    def _live(self, guild_id: int | None = None, *, any_guild: bool = False) -> list[Session]:
        return [s for s in self.sessions if s.ws is not None and (any_guild or s.serves(guild_id))]

    async def _dispatch_on(self, session: Session, event: str, data: dict[str, Any]) -> None:
        assert session.ws is not None
        session.seq += 1
        session.events.append((event, data))
        await self._send(session.ws, {"op": 0, "t": event, "s": session.seq, "d": data})

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
