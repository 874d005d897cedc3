"""The Slack emulator driven by the real slack-sdk and slack-bolt (small inline apps, not the bot)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401 (registers the fixture)
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

ARTICLE_LINK = "<https://news.example.org/2024/05/harbour-bridge|Harbour bridge reopens>"


def web_client(slack: SlackEmulator, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.base_url, **kwargs)


@pytest_asyncio.fixture
async def socket_app(slack_emulator: SlackEmulator) -> AsyncIterator[AsyncApp]:
    """A bolt app connected over Socket Mode; tests add their listeners to it."""
    app = AsyncApp(client=web_client(slack_emulator))
    handler = AsyncSocketModeHandler(app, slack_emulator.app_token)
    await handler.connect_async()
    yield app
    await handler.close_async()


@pytest_asyncio.fixture
async def http_app_url(slack_emulator: SlackEmulator) -> AsyncIterator[tuple[AsyncApp, str]]:
    """A bolt app in HTTP mode, served by aiohttp on 127.0.0.1, and the URL Slack would POST to."""
    app = AsyncApp(client=web_client(slack_emulator), signing_secret=slack_emulator.signing_secret)
    runner = web.AppRunner(app.web_app("/slack/events"), handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield app, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    await runner.cleanup()


# ----- Web API -----
async def test_auth_test_names_the_bot_and_wrong_tokens_get_invalid_auth(
    slack_emulator: SlackEmulator,
) -> None:
    identity = await web_client(slack_emulator).auth_test()
    assert (identity["user_id"], identity["bot_id"]) == (slack_emulator.bot_user_id, slack_emulator.bot_id)

    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack_emulator.base_url).auth_test()
    assert refused.value.response.status_code == 200
    assert refused.value.response["error"] == "invalid_auth"
    assert [call.token for call in slack_emulator.calls] == [slack_emulator.bot_token, "xoxb-wrong"]


async def test_json_and_form_calls_are_recorded_with_their_args(slack_emulator: SlackEmulator) -> None:
    client = web_client(slack_emulator)
    posted = await client.chat_postMessage(channel="C0GENERAL", text="first draft", unfurl_links=False)
    await client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="final")
    admin = await client.users_info(user="U0ADMIN")
    member = await client.users_info(user="U0ALICE")
    channel = await client.conversations_info(channel="C0GENERAL")
    ephemeral = await client.chat_postEphemeral(channel="C0GENERAL", user="U0ALICE", text="only you")

    assert (admin["user"]["is_admin"], member["user"]["is_admin"]) == (True, False)
    assert channel["channel"]["name"] == "general"
    assert ephemeral["message_ts"]
    assert [call.method for call in slack_emulator.calls] == [
        "chat.postMessage",
        "chat.update",
        "users.info",
        "users.info",
        "conversations.info",
        "chat.postEphemeral",
    ]
    assert slack_emulator.posts[0].args == {
        "channel": "C0GENERAL",
        "text": "first draft",
        "unfurl_links": False,
    }
    assert slack_emulator.calls[1].response["message"]["text"] == "final"


async def test_unknown_user_channel_and_message_fail_like_slack(slack_emulator: SlackEmulator) -> None:
    client = web_client(slack_emulator)
    for call, error in [
        (client.users_info(user="U0NOBODY"), "user_not_found"),
        (client.conversations_info(channel="C0MISSING"), "channel_not_found"),
        (client.chat_update(channel="C0GENERAL", ts="1.000001", text="x"), "message_not_found"),
    ]:
        with pytest.raises(SlackApiError) as failed:
            await call
        assert failed.value.response["error"] == error


async def test_rate_limit_answers_429_with_retry_after(slack_emulator: SlackEmulator) -> None:
    slack_emulator.rate_limit("chat.postMessage", times=1, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        await web_client(slack_emulator).chat_postMessage(channel="C0GENERAL", text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert limited.value.response["error"] == "ratelimited"


async def test_retry_handler_gets_through_two_429s(
    slack_emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler adds up to 1 s of random jitter to Retry-After; make it 0 so the test stays fast.
    monkeypatch.setattr(builtin_async_handlers, "random", SimpleNamespace(random=lambda: 0.0))
    slack_emulator.rate_limit("chat.postMessage", times=2, retry_after=0)
    client = web_client(slack_emulator, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])

    response = await client.chat_postMessage(channel="C0GENERAL", text="third time lucky")

    assert response["ok"] is True
    assert [call.status for call in slack_emulator.calls_to("chat.postMessage")] == [429, 429, 200]
    assert len(slack_emulator.posts) == 1


# ----- Socket Mode -----
async def test_socket_mode_message_is_answered_in_its_thread(
    slack_emulator: SlackEmulator, socket_app: AsyncApp
) -> None:
    @socket_app.event("message")
    async def reply_in_thread(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="briefing")

    own = slack_emulator.message_event(
        "C0GENERAL", slack_emulator.bot_user_id, "a briefing", bot_id="B0BRIEFBOT"
    )
    await slack_emulator.send_event(own)
    user_message = slack_emulator.message_event("C0GENERAL", "U0ALICE", f"read this {ARTICLE_LINK}")
    ack = await slack_emulator.send_event(user_message)
    [post] = await slack_emulator.wait_for_posts(1)

    assert ack.payload is None
    assert post.args["thread_ts"] == user_message["ts"]
    assert post.args["channel"] == "C0GENERAL"
    # bolt looked itself up once and ignored its own message: only one post, in the user's thread.
    assert [call.method for call in slack_emulator.calls] == [
        "apps.connections.open",
        "auth.test",
        "chat.postMessage",
    ]


async def test_app_mention_reaches_the_app_mention_listener(
    slack_emulator: SlackEmulator, socket_app: AsyncApp
) -> None:
    @socket_app.event("app_mention")
    async def answer(event: dict[str, Any], say: Any) -> None:
        await say(text=f"on it: {event['text']}", thread_ts=event["ts"])

    mention = slack_emulator.app_mention_event("C0GENERAL", "U0ALICE", "brief please")
    await slack_emulator.send_event(mention)
    [post] = await slack_emulator.wait_for_posts(1)

    assert post.args["text"] == f"on it: <@{slack_emulator.bot_user_id}> brief please"
    assert post.args["thread_ts"] == mention["ts"]


async def test_slash_command_is_acked_then_answered_through_response_url(
    slack_emulator: SlackEmulator, socket_app: AsyncApp
) -> None:
    @socket_app.command("/brief")
    async def brief(ack: Any, respond: Any, command: dict[str, str]) -> None:
        await ack("Working on it")
        await respond(text=f"Briefing for {command['text']}", response_type="in_channel")

    ack = await slack_emulator.send_slash_command(ARTICLE_LINK, user="U0ALICE")
    [response] = await slack_emulator.wait_for_responses(1)

    assert ack.payload == {"text": "Working on it"}
    assert response.response_type == "in_channel"
    assert response.body["text"] == f"Briefing for {ARTICLE_LINK}"
    assert slack_emulator.acks == [ack]


async def test_message_shortcut_gets_an_ephemeral_reply(
    slack_emulator: SlackEmulator, socket_app: AsyncApp
) -> None:
    @socket_app.message_shortcut("brief_this")
    async def brief_this(ack: Any, respond: Any, shortcut: dict[str, Any]) -> None:
        await ack()
        await respond(
            text=f"Briefing {shortcut['message']['blocks'][0]['elements'][0]['elements'][1]['url']}"
        )

    message = slack_emulator.message_event("C0GENERAL", "U0ALICE", f"look {ARTICLE_LINK}")
    await slack_emulator.send_message_shortcut(message)
    [response] = await slack_emulator.wait_for_responses(1)

    assert response.response_type == "ephemeral"
    assert response.body["text"] == "Briefing https://news.example.org/2024/05/harbour-bridge"


async def test_disconnect_envelope_makes_bolt_reconnect(
    slack_emulator: SlackEmulator, socket_app: AsyncApp
) -> None:
    @socket_app.event("message")
    async def echo(event: dict[str, Any], say: Any) -> None:
        await say(text=event["text"])

    await slack_emulator.send_disconnect()
    await slack_emulator.wait_until(
        lambda: slack_emulator.connections == 2 and slack_emulator.open_sockets == 1
    )
    await slack_emulator.send_event(slack_emulator.message_event("C0GENERAL", "U0ALICE", "still there?"))

    [post] = await slack_emulator.wait_for_posts(1)
    assert post.args["text"] == "still there?"
    assert len(slack_emulator.calls_to("apps.connections.open")) == 2


async def test_unacked_envelope_times_out(slack_emulator: SlackEmulator, socket_app: AsyncApp) -> None:
    # No listener for /other: bolt answers 404 internally and never acks, as Slack would then report.
    with pytest.raises(TimeoutError, match="not acked"):
        await slack_emulator.send_envelope(
            "slash_commands", slack_emulator.slash_command("x", command="/other"), timeout=0.2
        )


# ----- HTTP mode -----
async def test_signed_event_is_handled(
    slack_emulator: SlackEmulator, http_app_url: tuple[AsyncApp, str]
) -> None:
    app, url = http_app_url

    @app.event("message")
    async def reply(event: dict[str, Any], say: Any) -> None:
        await say(text="seen", thread_ts=event["ts"])

    event = slack_emulator.message_event("C0GENERAL", "U0ALICE", ARTICLE_LINK)
    answer = await slack_emulator.signed_request(url, slack_emulator.event_callback(event))
    [post] = await slack_emulator.wait_for_posts(1)

    assert answer.status == 200
    assert post.args["thread_ts"] == event["ts"]


@pytest.mark.parametrize(
    "forgery",
    [{"secret": "not-the-signing-secret"}, {"timestamp": time.time() - 10 * 60}],
    ids=["bad-signature", "stale-timestamp"],
)
async def test_forged_or_stale_requests_get_401_and_do_nothing(
    slack_emulator: SlackEmulator, http_app_url: tuple[AsyncApp, str], forgery: dict[str, Any]
) -> None:
    app, url = http_app_url
    handled: list[str] = []

    @app.command("/brief")
    async def brief(ack: Any, command: dict[str, str]) -> None:
        handled.append(command["text"])
        await ack()

    answer = await slack_emulator.signed_request(url, slack_emulator.slash_command("forged"), **forgery)

    # A refused request never reaches a listener, so nothing can still be running when the 401 arrives.
    assert answer.status == 401
    assert handled == []
    assert slack_emulator.calls == []


async def test_url_verification_slash_command_and_shortcut_over_http(
    slack_emulator: SlackEmulator, http_app_url: tuple[AsyncApp, str]
) -> None:
    app, url = http_app_url

    @app.command("/brief")
    async def brief(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="from the command")

    @app.message_shortcut("brief_this")
    async def brief_this(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="from the shortcut")

    challenge = await slack_emulator.signed_request(url, slack_emulator.url_verification("c-42"))
    command = await slack_emulator.signed_request(url, slack_emulator.slash_command(ARTICLE_LINK))
    message = slack_emulator.message_event("C0GENERAL", "U0ALICE", ARTICLE_LINK)
    shortcut = await slack_emulator.signed_request(url, slack_emulator.message_shortcut(message))
    responses = await slack_emulator.wait_for_responses(2)

    assert challenge.status == 200
    assert "c-42" in challenge.text
    assert (command.status, shortcut.status) == (200, 200)
    assert sorted(response.body["text"] for response in responses) == [
        "from the command",
        "from the shortcut",
    ]


async def test_retries_reach_bolt_with_their_retry_number_over_http_and_socket_mode(
    slack_emulator: SlackEmulator, http_app_url: tuple[AsyncApp, str], socket_app: AsyncApp
) -> None:
    http_app, url = http_app_url
    seen: list[tuple[str, str | None, str]] = []
    for app in (http_app, socket_app):

        @app.event("app_mention")
        async def mention(body: dict[str, Any], request: Any) -> None:
            retry = request.headers.get("x-slack-retry-num", [None])[0]
            seen.append((request.mode, retry, body["event_id"]))

    callback = slack_emulator.event_callback(slack_emulator.app_mention_event("C0GENERAL", "U0ALICE", "hi"))
    signed = slack_emulator.sign(callback)
    answers = [await slack_emulator.send(url, signed), await slack_emulator.send(url, signed, retry_num=1)]
    await slack_emulator.send_envelope("events_api", callback)
    await slack_emulator.send_envelope("events_api", callback, retry_attempt=2)
    await slack_emulator.wait_until(lambda: len(seen) == 4, what="four deliveries")

    assert [answer.status for answer in answers] == [200, 200], "a byte-identical copy still verifies"
    event_id = callback["event_id"]
    expected = [("http", None, event_id), ("http", "1", event_id)]
    expected += [("socket_mode", "0", event_id), ("socket_mode", "2", event_id)]
    assert sorted(seen, key=str) == sorted(expected, key=str)
    assert len({ack.envelope_id for ack in slack_emulator.acks}) == 2, "each copy has its own envelope"


async def test_post_sends_raw_bytes_with_exactly_the_given_headers(
    slack_emulator: SlackEmulator, http_app_url: tuple[AsyncApp, str]
) -> None:
    app, url = http_app_url

    @app.command("/brief")
    async def brief(ack: Any) -> None:
        await ack()

    signed = slack_emulator.sign(slack_emulator.slash_command("x"))
    unsigned = {k: v for k, v in signed.headers.items() if k != "X-Slack-Signature"}
    assert (await slack_emulator.post(url, signed.data, signed.headers)).status == 200
    assert (await slack_emulator.post(url, signed.data, unsigned)).status == 401


def test_payload_builders_look_like_slack() -> None:
    slack = SlackEmulator()
    message = slack.message_event("C0GENERAL", "U0ALICE", f"hi <@U0BOB> {ARTICLE_LINK}", thread_ts="1.000001")
    elements = message["blocks"][0]["elements"][0]["elements"]
    assert [element["type"] for element in elements] == ["text", "user", "text", "link"]
    assert elements[3] == {"type": "link", "url": "https://news.example.org/2024/05/harbour-bridge",
                           "text": "Harbour bridge reopens"}  # fmt: skip
    assert message["thread_ts"] == "1.000001"
    bot_message = slack.message_event("C0GENERAL", None, "briefing", bot_id=slack.bot_id)
    assert "user" not in bot_message
    assert "client_msg_id" not in bot_message
    assert slack.slash_command("x")["response_url"] != slack.slash_command("x")["response_url"]
    assert float(slack.next_ts()) < float(slack.next_ts())
