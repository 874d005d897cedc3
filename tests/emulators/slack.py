"""A local Slack emulator that the real slack-bolt / slack-sdk talk to in tests.

It serves, on 127.0.0.1, the Web API methods the bot needs, `response_url` endpoints, a Socket Mode
websocket, and signs requests for a bot's HTTP endpoint. Everything it sees is recorded in order so tests
assert on what happened (never on how long it took).

    async with SlackEmulator() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        ...
        await slack.send_event(slack.message_event("C0GENERAL", "U0ALICE", "hi"))
        [post] = await slack.wait_for_posts(1)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import pytest_asyncio
from aiohttp import ClientSession, WSMsgType, web

JsonDict = dict[str, Any]
Encoding = Literal["auto", "json", "form", "payload"]

# A fixed base for creation times and trigger ids; message timestamps use the real clock, as Slack does.
_TS_EPOCH = 1_700_000_000
_MENTION_OR_LINK = re.compile(r"<(@[UW][A-Z0-9]+|https?://[^>|]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the emulator saw it, including the ones it refused."""

    method: str
    token: str | None
    args: JsonDict
    status: int
    response: JsonDict


@dataclass(frozen=True)
class Ack:
    """A Socket Mode acknowledgement; `seconds` runs from sending the envelope to reading the ack."""

    envelope_id: str
    payload: JsonDict | None
    seconds: float


@dataclass(frozen=True)
class ResponseUrlPost:
    """What a bot posted to a `response_url` (bolt's `respond()`)."""

    key: str
    body: JsonDict

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type", "ephemeral"))


@dataclass(frozen=True)
class SignedResponse:
    status: int
    text: str


@dataclass(frozen=True)
class SignedRequest:
    """A request exactly as Slack would send it: post it twice for a byte-identical replay."""

    data: bytes
    headers: dict[str, str]


@dataclass
class SlackUser:
    id: str
    name: str
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False


@dataclass
class _RateLimit:
    remaining: int
    retry_after: int


@dataclass
class SlackEmulator:
    """Slack Web API, Socket Mode and response_url emulator: `async with` it or use `slack_emulator`."""

    bot_token: str = "xoxb-emulator-bot"
    app_token: str = "xapp-emulator-app"
    signing_secret: str = "emulator-signing-secret"
    team_id: str = "T0EMULATE"
    team_domain: str = "emulated"
    api_app_id: str = "A0BRIEFBOT"
    bot_user_id: str = "U0BRIEFBOT"
    bot_id: str = "B0BRIEFBOT"

    calls: list[ApiCall] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    responses: list[ResponseUrlPost] = field(default_factory=list)
    users: dict[str, SlackUser] = field(default_factory=dict)
    channels: dict[str, JsonDict] = field(default_factory=dict)
    # Slack hands each envelope to one of an app's open connections: the newest (a reconnect's new socket
    # takes over), or with `spread` each in turn (several replicas, each with its own connection).
    spread: bool = False

    def __post_init__(self) -> None:
        self._turns = itertools.count()
        self._counter = itertools.count(1)
        self._rate_limits: dict[str, _RateLimit] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._messages: dict[tuple[str, str], JsonDict] = {}
        self._pending_acks: dict[str, tuple[float, asyncio.Future[Ack]]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.port = 0
        self.connections = 0  # Socket Mode connections ever opened (reconnects count)
        self.add_user(self.bot_user_id, "briefbot", is_bot=True)
        self.add_channel("C0GENERAL", "general")

    # ----- lifecycle -----
    async def __aenter__(self) -> SlackEmulator:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle_api)
        app.router.add_get("/api/{method}", self._handle_api)
        app.router.add_post("/response/{key}", self._handle_response_url)
        app.router.add_get("/link/", self._handle_socket)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = ClientSession()

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        # The trailing slash matters: slack-sdk joins method names with urljoin.
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/"

    # ----- workspace state -----
    def add_user(
        self, user_id: str, name: str, *, is_admin: bool = False, is_owner: bool = False, is_bot: bool = False
    ) -> SlackUser:
        user = SlackUser(user_id, name, is_admin=is_admin, is_owner=is_owner, is_bot=is_bot)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> JsonDict:
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_private": is_private,
            "is_member": True,
            "is_archived": False,
            "created": _TS_EPOCH,
            "context_team_id": self.team_id,
        }
        self.channels[channel_id] = channel
        return channel

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 0) -> None:
        """Answer the next `times` calls to `method` with HTTP 429 and an integer Retry-After."""
        self._rate_limits[method] = _RateLimit(times, retry_after)

    def hold(self, method: str) -> asyncio.Event:
        """Record calls to `method` but keep their answers back until the returned event is set."""
        gate = self._holds[method] = asyncio.Event()
        return gate

    def release(self, method: str) -> None:
        gate = self._holds.pop(method, None)
        if gate is not None:
            gate.set()

    @property
    def open_sockets(self) -> int:
        return len(self._sockets)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    @property
    def posts(self) -> list[ApiCall]:
        """Successful chat.postMessage calls, in order."""
        return [call for call in self.calls_to("chat.postMessage") if call.response.get("ok")]

    def next_ts(self) -> str:
        n = next(self._counter)
        # Real time, like Slack (the bot compares message times with its own clock); n keeps them unique.
        return f"{int(time.time())}.{n:06d}"

    # ----- waiting helpers -----
    # They take `timeout=` (ASYNC109) so a test reads `wait_for_posts(1, timeout=5)`; they only ever wait.
    async def wait_until(
        self,
        ready: Callable[[], bool],
        *,
        timeout: float = 10,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(ready)
        except TimeoutError:
            raise TimeoutError(
                f"Slack emulator: gave up waiting for {what}; calls so far: {self.calls}"
            ) from None

    async def wait_for_calls(self, method: str, n: int = 1, *, timeout: float = 10) -> list[ApiCall]:  # noqa: ASYNC109
        await self.wait_until(lambda: len(self.calls_to(method)) >= n, timeout=timeout, what=f"{n}× {method}")
        return self.calls_to(method)

    async def wait_for_posts(self, n: int = 1, *, timeout: float = 10) -> list[ApiCall]:  # noqa: ASYNC109
        await self.wait_until(lambda: len(self.posts) >= n, timeout=timeout, what=f"{n} posted messages")
        return self.posts

    async def wait_for_responses(self, n: int = 1, *, timeout: float = 10) -> list[ResponseUrlPost]:  # noqa: ASYNC109
        await self.wait_until(
            lambda: len(self.responses) >= n, timeout=timeout, what=f"{n} response_url posts"
        )
        return self.responses

    async def wait_for_socket(self, *, timeout: float = 10) -> None:  # noqa: ASYNC109
        await self.wait_until(lambda: bool(self._sockets), timeout=timeout, what="a Socket Mode connection")

    async def _record(self, action: Callable[[], None]) -> None:
        async with self._changed:
            action()
            self._changed.notify_all()

    # ----- Web API -----
    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = {**request.query, **await _read_body(request)}
        token = _bearer_token(request) or args.pop("token", None)
        status, response = self._answer(method, token, args)
        await self._record(lambda: self.calls.append(ApiCall(method, token, args, status, response)))
        if (gate := self._holds.get(method)) is not None:
            await (
                gate.wait()
            )  # the call is done and recorded; its answer waits (a crash test kills the bot here)
        headers = {"Retry-After": str(self._rate_limits[method].retry_after)} if status == 429 else None
        return web.json_response(response, status=status, headers=headers)

    def _answer(self, method: str, token: str | None, args: JsonDict) -> tuple[int, JsonDict]:
        limit = self._rate_limits.get(method)
        if limit is not None and limit.remaining > 0:
            limit.remaining -= 1
            return 429, {"ok": False, "error": "ratelimited"}
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token is None:
            return 200, {"ok": False, "error": "not_authed"}
        if token != expected:
            return 200, {"ok": False, "error": "invalid_auth"}
        handler = self._methods().get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}
        return 200, handler(args)

    def _methods(self) -> dict[str, Callable[[JsonDict], JsonDict]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "apps.connections.open": self._connections_open,
        }

    def _auth_test(self, _args: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Emulated",
            "user": "briefbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _known_channel(self, channel: str) -> bool:
        # Direct-message channels (D…) are not listed in `channels`; any other unknown id is refused.
        return channel in self.channels or channel.startswith("D")

    def _post_message(self, args: JsonDict) -> JsonDict:
        if not args.get("channel") or not self._known_channel(args["channel"]):
            return {"ok": False, "error": "channel_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self.next_ts()
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "ts": ts,
            "text": args.get("text", ""),
            "team": self.team_id,
        }
        for key in ("blocks", "thread_ts", "metadata"):
            if key in args:
                message[key] = args[key]
        if isinstance(message.get("metadata"), str):  # form-encoded posts send it as a JSON string
            message["metadata"] = json.loads(message["metadata"])
        self._messages[(args["channel"], ts)] = message
        return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}

    def add_message(self, channel: str, text: str, *, metadata: JsonDict | None = None) -> JsonDict:
        """A message the bot posted earlier (e.g. before a restart), as conversations.history will show it."""
        args: JsonDict = {"channel": channel, "text": text}
        if metadata is not None:
            args["metadata"] = metadata
        response = self._post_message(args)
        assert response["ok"], response
        return self._messages[(channel, response["ts"])]

    def message(self, channel: str, ts: str) -> JsonDict | None:
        """The message as stored now (after any chat.update), or None if there is none (or it was deleted)."""
        return self._messages.get((channel, ts))

    def delete_message(self, channel: str, ts: str) -> None:
        """Someone deleted the message in Slack: history no longer shows it and chat.update cannot find it."""
        del self._messages[(channel, ts)]

    def _conversations_history(self, args: JsonDict) -> JsonDict:
        """Newest first, oldest/latest exclusive, offset cursors; metadata only with include_all_metadata."""
        channel = args.get("channel", "")
        if not self._known_channel(channel):
            return {"ok": False, "error": "channel_not_found"}
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        messages = sorted(
            (m for (c, ts), m in self._messages.items() if c == channel and oldest < float(ts) < latest),
            key=lambda m: float(m["ts"]),
            reverse=True,
        )
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or 100), 999)
        page = messages[start : start + limit]
        if str(args.get("include_all_metadata", "0")).lower() not in {"1", "true"}:
            page = [_without_metadata(m) for m in page]
        more = start + limit < len(messages)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _post_ephemeral(self, args: JsonDict) -> JsonDict:
        if not args.get("channel") or not args.get("user"):
            return {
                "ok": False,
                "error": "channel_not_found" if not args.get("channel") else "user_not_found",
            }
        return {"ok": True, "message_ts": self.next_ts()}

    def _update(self, args: JsonDict) -> JsonDict:
        message = self._messages.get((args.get("channel", ""), args.get("ts", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        # Like Slack: fields sent replace the stored ones, fields left out are kept.
        message.update({key: args[key] for key in ("text", "blocks", "metadata") if key in args})
        if isinstance(message.get("metadata"), str):  # form-encoded calls send it as a JSON string
            message["metadata"] = json.loads(message["metadata"])
        return {
            "ok": True,
            "channel": args["channel"],
            "ts": args["ts"],
            "text": message["text"],
            "message": message,
        }

    def _users_info(self, args: JsonDict) -> JsonDict:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        profile = {"real_name": user.name, "display_name": user.name}
        return {
            "ok": True,
            "user": {
                "id": user.id,
                "team_id": self.team_id,
                "name": user.name,
                "real_name": user.name,
                "deleted": False,
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": False,
                "is_bot": user.is_bot,
                "profile": profile,
            },
        }

    def _conversations_info(self, args: JsonDict) -> JsonDict:
        channel = self.channels.get(args.get("channel", ""))
        return {"ok": True, "channel": channel} if channel else {"ok": False, "error": "channel_not_found"}

    def _connections_open(self, _args: JsonDict) -> JsonDict:
        return {"ok": True, "url": f"{self.socket_url}?ticket=t{next(self._counter)}"}

    # ----- response_url -----
    async def _handle_response_url(self, request: web.Request) -> web.Response:
        post = ResponseUrlPost(request.match_info["key"], await _read_body(request))
        await self._record(lambda: self.responses.append(post))
        return web.Response(text="ok")

    def new_response_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/response/r{next(self._counter)}"

    # ----- Socket Mode -----
    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets) + 1,
                "debug_info": {"host": "emulator", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.api_app_id},
            }
        )

        def register() -> None:
            self._sockets.append(ws)
            self.connections += 1

        await self._record(register)
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    await self._receive_ack(json.loads(frame.data))
        finally:
            await self._record(lambda: self._sockets.remove(ws))
        return ws

    async def _receive_ack(self, message: JsonDict) -> None:
        sent_at, future = self._pending_acks.pop(message.get("envelope_id", ""), (0.0, None))
        if future is None:
            return
        ack = Ack(message["envelope_id"], message.get("payload"), time.monotonic() - sent_at)
        await self._record(lambda: self.acks.append(ack))
        future.set_result(ack)

    async def send_envelope(
        self,
        kind: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        timeout: float = 3,  # noqa: ASYNC109
    ) -> Ack:
        """Push an envelope on one connection (see `spread`) and wait for its ack (Slack allows 3 seconds).

        Send the same `payload` again (with `retry_attempt` > 0 for events, as Slack does after a late ack)
        to test that a retry is acked but not acted on; each envelope gets its own envelope_id.
        """
        await self.wait_for_socket(timeout=timeout)
        envelope_id = f"env-{next(self._counter)}"
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending_acks[envelope_id] = (time.monotonic(), future)
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        socket = self._sockets[next(self._turns) % len(self._sockets)] if self.spread else self._sockets[-1]
        await socket.send_json(envelope)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._pending_acks.pop(envelope_id, None)
            raise TimeoutError(f"Slack emulator: {kind} envelope {envelope_id} not acked") from None

    async def send_event(self, event: JsonDict) -> Ack:
        return await self.send_envelope("events_api", self.event_callback(event))

    async def send_slash_command(
        self, text: str, channel: str = "C0GENERAL", user: str = "U0ALICE", command: str = "/brief"
    ) -> Ack:
        return await self.send_envelope(
            "slash_commands", self.slash_command(text, channel, user, command), accepts_response_payload=True
        )

    async def send_message_shortcut(
        self, message: JsonDict, channel: str = "C0GENERAL", user: str = "U0ALICE"
    ) -> Ack:
        return await self.send_envelope("interactive", self.message_shortcut(message, channel, user))

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        await self._sockets[-1].send_json({"type": "disconnect", "reason": reason})

    # ----- payload builders (shapes follow Slack's Events API / interactivity docs) -----
    def message_event(
        self,
        channel: str,
        user: str | None,
        text: str,
        ts: str | None = None,
        *,
        thread_ts: str | None = None,
        bot_id: str | None = None,
    ) -> JsonDict:
        ts = ts or self.next_ts()
        event: JsonDict = {
            "type": "message",
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel": channel,
            "channel_type": "im" if channel.startswith("D") else "channel",
            "team": self.team_id,
            "blocks": _rich_text_blocks(text),
        }
        if user is not None:
            event["user"] = user
        if bot_id is None:
            event["client_msg_id"] = f"msg-{ts}"
        else:
            event.update(bot_id=bot_id, app_id=self.api_app_id if bot_id == self.bot_id else "A0OTHER")
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return event

    def app_mention_event(
        self, channel: str, user: str, text: str, ts: str | None = None, thread_ts: str | None = None
    ) -> JsonDict:
        """An app_mention; `text` gets the bot's mention in front unless it already has it."""
        mention = f"<@{self.bot_user_id}>"
        full_text = text if mention in text else f"{mention} {text}"
        event = self.message_event(channel, user, full_text, ts, thread_ts=thread_ts)
        del event["channel_type"]
        return {**event, "type": "app_mention"}

    def event_callback(self, event: JsonDict) -> JsonDict:
        n = next(self._counter)
        authorization = {
            "enterprise_id": None,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "is_bot": True,
            "is_enterprise_install": False,
        }
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{n:08d}",
            "event_time": _TS_EPOCH + n,
            "authorizations": [authorization],
            "is_ext_shared_channel": False,
            "event_context": f"ctx-{n}",
        }

    def url_verification(self, challenge: str = "emulator-challenge") -> JsonDict:
        return {"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"}

    def slash_command(
        self, text: str, channel: str = "C0GENERAL", user: str = "U0ALICE", command: str = "/brief"
    ) -> dict[str, str]:
        """Slash commands arrive form-encoded, so every value is a string."""
        channel_name = self.channels.get(channel, {}).get("name", "unknown")
        user_name = self.users[user].name if user in self.users else "someone"
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.new_response_url(),
            "trigger_id": f"{next(self._counter)}.{_TS_EPOCH}.trigger",
        }

    def message_shortcut(
        self,
        message: JsonDict,
        channel: str = "C0GENERAL",
        user: str = "U0ALICE",
        callback_id: str = "brief_this",
    ) -> JsonDict:
        """A message shortcut on `message` (e.g. one built with `message_event`)."""
        user_name = self.users[user].name if user in self.users else "someone"
        return {
            "type": "message_action",
            "token": "legacy-verification-token",
            "action_ts": self.next_ts(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": {"id": user, "username": user_name, "name": user_name, "team_id": self.team_id},
            "channel": {"id": channel, "name": self.channels.get(channel, {}).get("name", "unknown")},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": f"{next(self._counter)}.{_TS_EPOCH}.trigger",
            "message_ts": message["ts"],
            "message": message,
            "response_url": self.new_response_url(),
        }

    # ----- HTTP mode -----
    async def signed_request(
        self,
        url: str,
        body: Mapping[str, Any] | str,
        *,
        encoding: Encoding = "auto",
        timestamp: float | None = None,
        secret: str | None = None,
    ) -> SignedResponse:
        """POST `body` to a bot's HTTP endpoint the way Slack does, signed with `secret` at `timestamp`.

        Pass a wrong `secret` or an old `timestamp` for negative tests. `auto` encoding sends events as
        JSON, slash commands form-encoded and interactive payloads as the form field `payload`.
        """
        return await self.send(url, self.sign(body, encoding=encoding, timestamp=timestamp, secret=secret))

    def sign(
        self,
        body: Mapping[str, Any] | str,
        *,
        encoding: Encoding = "auto",
        timestamp: float | None = None,
        secret: str | None = None,
    ) -> SignedRequest:
        """The bytes and headers of a signed request (see `signed_request`), to send once or replay."""
        raw, content_type = _encode(body, encoding)
        stamp = str(int(time.time() if timestamp is None else timestamp))
        # Signed with hmac, not slack_sdk's helper, so the check is independent of the code under test.
        digest = hmac.new(
            (secret or self.signing_secret).encode(), f"v0:{stamp}:{raw}".encode(), hashlib.sha256
        )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest.hexdigest()}",
        }
        return SignedRequest(raw.encode(), headers)

    async def send(self, url: str, signed: SignedRequest, *, retry_num: int | None = None) -> SignedResponse:
        """POST a signed request, byte for byte: again for a replay, or with `retry_num` as Slack's retry
        after a late ack (`X-Slack-Retry-Num` is not part of the signature)."""
        headers = dict(signed.headers)
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(url, signed.data, headers)

    async def post(self, url: str, data: bytes, headers: Mapping[str, str]) -> SignedResponse:
        """POST raw bytes with exactly these headers (forged or malformed ones too)."""
        assert self._session is not None, "start the emulator first"
        async with self._session.post(url, data=data, headers=headers) as response:
            return SignedResponse(response.status, await response.text())


def _encode(body: Mapping[str, Any] | str, encoding: Encoding) -> tuple[str, str]:
    if isinstance(body, str):
        return body, "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    if encoding == "auto":
        encoding = (
            "form" if "command" in body else "json" if "event" in body or "challenge" in body else "payload"
        )
    if encoding == "json":
        return json.dumps(body), "application/json"
    if encoding == "form":
        return urlencode(body), "application/x-www-form-urlencoded"
    return urlencode({"payload": json.dumps(body)}), "application/x-www-form-urlencoded"


async def _read_body(request: web.Request) -> JsonDict:
    """slack-sdk sends JSON for chat.* methods and form fields (or a query string) for the others."""
    if not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        return await request.json()
    return dict(await request.post())


def _without_metadata(message: JsonDict) -> JsonDict:
    return {key: value for key, value in message.items() if key != "metadata"}


def _bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme == "Bearer" and token else None


def _rich_text_blocks(text: str) -> list[JsonDict]:
    """The rich_text block Slack adds to user messages: mentions and links become their own elements."""
    elements: list[JsonDict] = []
    position = 0
    for match in _MENTION_OR_LINK.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        target, label = match.groups()
        if target.startswith("@"):
            elements.append({"type": "user", "user_id": target[1:]})
        else:
            elements.append({"type": "link", "url": target, **({"text": label} if label else {})})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": f"b{len(text)}", "elements": [section]}]


@pytest_asyncio.fixture(name="slack_emulator")
async def slack_emulator_fixture() -> AsyncIterator[SlackEmulator]:
    """Fixture `slack_emulator` (import this name to use it): a started emulator with users U0ALICE
    (regular) and U0ADMIN (workspace admin)."""
    async with SlackEmulator() as emulator:
        emulator.add_user("U0ALICE", "alice")
        emulator.add_user("U0ADMIN", "dana", is_admin=True)
        yield emulator
