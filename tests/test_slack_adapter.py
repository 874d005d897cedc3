"""The Slack adapter: real slack-bolt against the local Slack emulator, a fake briefer in a real ChatCore."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401 (registers the fixture)
from fakes import FakeBriefer, text_briefing
from multidict import CIMultiDict

from adapters.slackbot.adapter import SlackAdapter
from adapters.slackbot.listeners import COMMAND, SHORTCUT_CALLBACK_ID
from bot.alerts.commands import MANAGERS_ONLY, AlertCommands
from bot.chat.core import ChatCore
from bot.config import ChatSettings, Settings, SlackSettings, StoreSettings
from bot.errors import NotFoundError
from bot.models import Actor, Briefing
from bot.store import Store

ARTICLE = "https://news.example.org/2024/05/harbour-bridge"
MISSING = "https://news.example.org/2024/05/missing-page"


def by_slug(url: str) -> Briefing:
    """A briefing titled after the link's last path segment."""
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    actors = [Actor("Port Authority", "organization", 2)]
    return Briefing(title=f"Title {slug}", url=url, published=None, summary=["One."], actors=actors)


@dataclass
class Bot:
    adapter: SlackAdapter
    briefer: FakeBriefer
    slack: SlackEmulator
    http_url: str = ""


def generous_chat() -> ChatSettings:
    # The core's own per-user limits are tested elsewhere; here they must not drop replies.
    return ChatSettings(user_burst=50, channel_burst=50, max_links_per_message=5)


@asynccontextmanager
async def running_bot(slack: SlackEmulator, tmp_path: Path, mode: str = "socket") -> AsyncIterator[Bot]:
    """A SlackAdapter running against the emulator, stopped (and checked to stop cleanly) afterwards."""
    secret = slack.app_token if mode == "socket" else slack.signing_secret
    slack_settings = SlackSettings(mode=mode, api_base_url=slack.base_url, http_host="127.0.0.1", http_port=0)
    store = StoreSettings(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    settings = Settings(chat=generous_chat(), store=store, slack=slack_settings)
    # URLs with "missing" are 404s; a test holds briefings in flight by setting the briefer's `gate`.
    briefer = FakeBriefer(by_slug, answer_text=text_briefing(30), errors={"missing": NotFoundError()})
    async with await Store.open(settings.store.url) as store:
        adapter = SlackAdapter(settings, bot_token=slack.bot_token, app_token_or_secret=secret)
        stop = asyncio.Event()
        alerts = AlertCommands(store, settings.alerts)
        core = ChatCore(briefer, store, settings.chat, alerts=alerts)
        run = asyncio.create_task(adapter.run(core, stop))
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait([run, ready], timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert adapter.ready.is_set(), run.exception() if run.done() else "adapter never got ready"
        url = f"http://127.0.0.1:{adapter.http_port}/slack/events" if mode == "http" else ""
        try:
            yield Bot(adapter, briefer, slack, url)
        finally:
            stop.set()
            await asyncio.wait_for(run, 10)


@pytest_asyncio.fixture
async def bot(slack_emulator: SlackEmulator, tmp_path: Path) -> AsyncIterator[Bot]:
    async with running_bot(slack_emulator, tmp_path) as running:
        yield running


def link(url: str, label: str = "an article") -> str:
    return f"<{url}|{label}>"


def titles(posts: list[Any]) -> list[str]:
    return [post.args["text"].split("\n", 1)[0] for post in posts]


# ----- pasted links -----
async def test_pasted_link_gets_a_threaded_briefing_with_blocks(bot: Bot) -> None:
    message = bot.slack.message_event("C0GENERAL", "U0ALICE", f"worth a read {link(ARTICLE)}")
    await bot.slack.send_event(message)
    [post] = await bot.slack.wait_for_posts(1)

    assert bot.briefer.urls == [ARTICLE]
    assert post.args["channel"] == "C0GENERAL"
    assert post.args["thread_ts"] == message["ts"]
    assert post.args["unfurl_links"] is False
    assert post.args["unfurl_media"] is False
    assert post.args["text"].startswith("Title harbour-bridge")
    assert post.args["blocks"][0]["text"]["text"] == f"*<{ARTICLE}|Title harbour-bridge>*"
    assert "Requested by" not in str(post.args["blocks"]), "an answer in the poster's own thread"


async def test_link_pasted_in_a_thread_is_answered_in_that_thread(bot: Bot) -> None:
    message = bot.slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE), thread_ts="1699999999.000001")
    await bot.slack.send_event(message)
    [post] = await bot.slack.wait_for_posts(1)
    assert post.args["thread_ts"] == "1699999999.000001"


async def test_own_bot_and_edited_messages_are_ignored(bot: Bot) -> None:
    slack = bot.slack
    own = slack.message_event("C0GENERAL", slack.bot_user_id, link(ARTICLE + "-own"), bot_id=slack.bot_id)
    other_bot = slack.message_event("C0GENERAL", None, link(ARTICLE + "-rss"), bot_id="B0RSSFEED")
    edited = {
        **slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE + "-edit")),
        "subtype": "message_changed",
    }
    for event in (own, other_bot, edited):
        await slack.send_event(event)
    await slack.send_event(slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE)))
    await slack.wait_for_posts(1)
    await bot.adapter.wait_idle()

    assert bot.briefer.urls == [ARTICLE]
    assert titles(slack.posts) == ["Title harbour-bridge"]


async def test_pasted_404_link_gets_an_ephemeral_error_for_the_poster(bot: Bot) -> None:
    message = bot.slack.message_event("C0GENERAL", "U0ALICE", f"see {link(MISSING)}")
    await bot.slack.send_event(message)
    [ephemeral] = await bot.slack.wait_for_calls("chat.postEphemeral")
    await bot.adapter.wait_idle()

    assert ephemeral.args["user"] == "U0ALICE"
    assert ephemeral.args["channel"] == "C0GENERAL"
    assert ephemeral.args["thread_ts"] == message["ts"]
    assert ephemeral.args["text"] == NotFoundError.default_message
    assert bot.slack.posts == []


async def test_429_burst_delays_but_loses_and_reorders_nothing(bot: Bot) -> None:
    slack = bot.slack
    slack.add_channel("C0RANDOM", "random")
    slack.rate_limit("chat.postMessage", times=5, retry_after=0)
    first = " ".join(link(f"{ARTICLE}-{n}") for n in (1, 2, 3))
    await slack.send_event(slack.message_event("C0GENERAL", "U0ALICE", first))
    await slack.send_event(slack.message_event("C0RANDOM", "U0ALICE", link(f"{ARTICLE}-r")))
    await slack.send_event(slack.message_event("C0GENERAL", "U0ALICE", link(f"{ARTICLE}-4")))
    posts = await slack.wait_for_posts(5)

    general = [post for post in posts if post.args["channel"] == "C0GENERAL"]
    assert titles(general) == [f"Title harbour-bridge-{n}" for n in (1, 2, 3, 4)]
    assert titles([post for post in posts if post.args["channel"] == "C0RANDOM"]) == [
        "Title harbour-bridge-r"
    ]
    assert [call.status for call in slack.calls_to("chat.postMessage")].count(429) == 5


async def test_auto_off_then_pasted_link_gets_nothing(bot: Bot) -> None:
    slack = bot.slack
    await slack.send_slash_command("auto off")
    [confirmation] = await slack.wait_for_posts(1)
    assert "no longer brief" in confirmation.args["text"]

    await slack.send_event(slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE)))
    await slack.send_slash_command("help")  # a marker: its answer comes after the pasted link was handled
    await slack.wait_for_responses(1)
    await bot.adapter.wait_idle()

    assert bot.briefer.urls == []
    assert len(slack.posts) == 1


# ----- /brief -----
async def test_brief_command_is_acked_before_the_briefing_is_posted(bot: Bot) -> None:
    bot.briefer.gate = gate = asyncio.Event()
    ack = await bot.slack.send_slash_command(f"{link(ARTICLE)}")
    await asyncio.wait_for(bot.briefer.wait_for_calls(1), 10)

    # The ack came back while the briefing was still held: nothing posted, nothing answered yet.
    assert ack.payload is None
    assert bot.briefer.urls == [ARTICLE]
    assert bot.slack.posts == []
    gate.set()
    [post] = await bot.slack.wait_for_posts(1)

    assert post.args["channel"] == "C0GENERAL"
    assert "thread_ts" not in post.args
    assert post.args["unfurl_links"] is False
    assert post.args["blocks"]
    assert post.args["blocks"][-1]["elements"][0]["text"] == "Requested by <@U0ALICE>", "as on Discord"
    assert bot.slack.responses == []


async def test_brief_help_is_ephemeral(bot: Bot) -> None:
    await bot.slack.send_slash_command("help")
    [response] = await bot.slack.wait_for_responses(1)
    assert response.response_type == "ephemeral"
    assert "/brief auto on" in response.body["text"]
    assert "&lt;link&gt;" in response.body["text"]  # mrkdwn-escaped
    assert bot.slack.posts == []


async def test_brief_404_answers_only_the_asker_through_response_url(bot: Bot) -> None:
    await bot.slack.send_slash_command(MISSING)
    [response] = await bot.slack.wait_for_responses(1)
    await bot.adapter.wait_idle()

    assert response.response_type == "ephemeral"
    assert response.body["text"] == NotFoundError.default_message
    assert bot.slack.posts == []
    assert bot.slack.calls_to("chat.postEphemeral") == []


async def test_brief_in_a_channel_the_bot_has_not_joined_answers_through_response_url(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.slack, "_post_message", lambda _args: {"ok": False, "error": "not_in_channel"})
    await bot.slack.send_slash_command(link(ARTICLE))
    [response] = await bot.slack.wait_for_responses(1)

    assert response.response_type == "in_channel"
    assert response.body["text"].startswith("Title harbour-bridge")
    assert response.body["blocks"]


# ----- mentions and the shortcut -----
async def test_app_mention_is_answered_once_in_its_thread(bot: Bot) -> None:
    slack = bot.slack
    text = f"<@{slack.bot_user_id}> what is this {link(ARTICLE)}"
    mention = slack.app_mention_event("C0GENERAL", "U0ALICE", text)
    # Slack sends the same message as a `message` event too; only the mention may answer.
    await slack.send_event(slack.message_event("C0GENERAL", "U0ALICE", text, ts=mention["ts"]))
    await slack.send_event(mention)
    [post] = await slack.wait_for_posts(1)
    await bot.adapter.wait_idle()

    assert post.args["thread_ts"] == mention["ts"]
    assert post.args["text"].startswith("Title harbour-bridge")
    assert bot.briefer.urls == [ARTICLE]
    assert len(slack.posts) == 1


async def test_app_mention_without_a_link_gets_private_help(bot: Bot) -> None:
    await bot.slack.send_event(bot.slack.app_mention_event("C0GENERAL", "U0ALICE", "help"))
    [ephemeral] = await bot.slack.wait_for_calls("chat.postEphemeral")
    assert ephemeral.args["user"] == "U0ALICE"
    assert "/brief auto on" in ephemeral.args["text"]


async def test_brief_this_shortcut_briefs_the_links_of_a_bot_message_in_its_thread(bot: Bot) -> None:
    slack = bot.slack
    # An RSS bot's post: never briefed automatically, but a person can ask for it.
    message = slack.message_event(
        "C0GENERAL", None, f"New: {link(ARTICLE + '-1')} and {link(ARTICLE + '-2')}", bot_id="B0RSSFEED"
    )
    ack = await slack.send_message_shortcut(message)
    posts = await slack.wait_for_posts(2)

    assert ack.payload is None
    assert titles(posts) == ["Title harbour-bridge-1", "Title harbour-bridge-2"]
    assert {post.args["thread_ts"] for post in posts} == {message["ts"]}


# ----- HTTP mode -----
async def test_http_mode_handles_a_signed_slash_command(
    slack_emulator: SlackEmulator, tmp_path: Path
) -> None:
    async with running_bot(slack_emulator, tmp_path, mode="http") as bot:
        answer = await slack_emulator.signed_request(
            bot.http_url, slack_emulator.slash_command(link(ARTICLE))
        )
        [post] = await slack_emulator.wait_for_posts(1)
        challenge = await slack_emulator.signed_request(bot.http_url, slack_emulator.url_verification("c-7"))

    assert answer.status == 200
    assert (challenge.status, json.loads(challenge.text)) == (200, {"challenge": "c-7"})
    assert post.args["text"].startswith("Title harbour-bridge")


@pytest.mark.parametrize(
    "forgery",
    [{"secret": "not-the-signing-secret"}, {"timestamp": time.time() - 10 * 60}],
    ids=["bad-signature", "stale-timestamp"],
)
async def test_http_mode_refuses_forged_or_stale_requests(
    slack_emulator: SlackEmulator, tmp_path: Path, forgery: dict[str, Any]
) -> None:
    async with running_bot(slack_emulator, tmp_path, mode="http") as bot:
        command = slack_emulator.slash_command(link(ARTICLE))
        answer = await slack_emulator.signed_request(bot.http_url, command, **forgery)
        await bot.adapter.wait_idle()

        assert answer.status == 401
        assert bot.briefer.urls == []
        assert slack_emulator.calls == []
        assert slack_emulator.responses == []


def signed_bytes(slack: SlackEmulator, raw: bytes, content_type: str) -> dict[str, str]:
    """Headers that sign `raw` exactly as Slack would, for bodies the emulator's encoder will not make."""
    stamp = str(int(time.time()))
    digest = hmac.new(slack.signing_secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


async def test_http_mode_malformed_requests_get_401_or_400_and_no_traceback(
    slack_emulator: SlackEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    slack = slack_emulator
    good = slack.sign(slack.slash_command(link(ARTICLE)))
    stamp = good.headers["X-Slack-Request-Timestamp"]

    def with_headers(**changes: str | None) -> tuple[bytes, CIMultiDict[str]]:
        headers = CIMultiDict(good.headers)
        for name, value in changes.items():
            header = name.replace("_", "-")
            headers.popall(header, None)
            if value is not None:
                headers[header] = value
        return good.data, headers

    def signed(raw: bytes, content_type: str = "application/json") -> tuple[bytes, CIMultiDict[str]]:
        return raw, CIMultiDict(signed_bytes(slack, raw, content_type))

    two_stamps = CIMultiDict(good.headers)
    two_stamps.add("X-Slack-Request-Timestamp", stamp)
    cases: dict[str, tuple[bytes, CIMultiDict[str]]] = {
        "timestamp abc": with_headers(X_Slack_Request_Timestamp="abc"),
        "timestamp empty": with_headers(X_Slack_Request_Timestamp=""),
        "timestamp missing": with_headers(X_Slack_Request_Timestamp=None),
        "timestamp huge": with_headers(X_Slack_Request_Timestamp="9" * 5000),
        "timestamp float": with_headers(X_Slack_Request_Timestamp=f"{stamp}.5"),
        "timestamp negative": with_headers(X_Slack_Request_Timestamp=f"-{stamp}"),
        "timestamp far future": with_headers(X_Slack_Request_Timestamp="999999999999"),
        "timestamp twice": (good.data, two_stamps),
        "signature missing": with_headers(X_Slack_Signature=None),
        "signature not hex": with_headers(X_Slack_Signature="v0=" + "zz" * 32),
        "signature non-ascii": with_headers(X_Slack_Signature="v0=" + "é" * 64),
        "signature wrong": with_headers(X_Slack_Signature="v0=" + "ab" * 32),
        "body not utf-8": signed(b"command=/brief&text=\xff\xfe"),
        "body not json": signed(b"{not json"),
        "body a json list": signed(b"[1, 2]"),
        "body json null": signed(b"null"),
        "body payload not json": signed(b"payload=%7Bnot", "application/x-www-form-urlencoded"),
        "body event not an object": signed(b'{"type": "event_callback", "event": "hi", "event_id": "Ev1"}'),
        "body empty": signed(b"", "application/x-www-form-urlencoded"),
    }
    async with running_bot(slack, tmp_path, mode="http") as bot:
        seen = {}
        for name, (data, headers) in cases.items():
            answer = await slack.post(bot.http_url, data, headers)
            seen[name] = (answer.status, json.loads(answer.text)["error"])
        await bot.adapter.wait_idle()

    bad_timestamp, bad_signature, bad_body = (401, "bad_timestamp"), (401, "bad_signature"), (400, "bad_body")
    assert seen == {
        **{name: bad_timestamp for name in cases if name.startswith("timestamp")},
        "timestamp far future": (401, "stale_timestamp"),
        **{name: bad_signature for name in cases if name.startswith("signature")},
        "body not utf-8": (400, "bad_encoding"),
        **{name: bad_body for name in cases if name.startswith("body") and name != "body not utf-8"},
    }
    assert slack.calls == [] and slack.responses == [] and bot.briefer.urls == []
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("slack: refused")]
    assert len(refusals) == len(cases)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_http_mode_signed_payloads_missing_fields_are_acked_and_skipped(
    slack_emulator: SlackEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack always sends these fields; a payload without them is skipped with a warning, not a crash."""
    slack = slack_emulator
    command = slack.slash_command(link(ARTICLE))
    del command["channel_id"]
    message = slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE))
    del message["channel"]
    mention = slack.app_mention_event("C0GENERAL", "U0ALICE", link(ARTICLE))
    del mention["ts"]
    shortcut = slack.message_shortcut(slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE)))
    del shortcut["message"]
    bodies = [command, slack.event_callback(message), slack.event_callback(mention), shortcut]
    async with running_bot(slack, tmp_path, mode="http") as bot:
        answers = [await slack.signed_request(bot.http_url, body) for body in bodies]
        await settled_http(bot)

    assert [answer.status for answer in answers] == [200] * 4
    assert bot.briefer.urls == [] and slack.posts == []
    assert caplog.text.count("malformed_payload") == 4
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def settled_http(bot: Bot) -> None:
    """Like `settled`, over HTTP: a marker /brief help, last, answered."""
    answered = len(bot.slack.responses)
    await bot.slack.signed_request(bot.http_url, bot.slack.slash_command("help"))
    await bot.slack.wait_for_responses(answered + 1)
    await bot.adapter.wait_idle()


# ----- check -----
async def test_check_reports_the_bot_and_team(slack_emulator: SlackEmulator) -> None:
    settings = Settings(slack=SlackSettings(api_base_url=slack_emulator.base_url))
    adapter = SlackAdapter(
        settings, bot_token=slack_emulator.bot_token, app_token_or_secret=slack_emulator.app_token
    )
    line = await adapter.check()
    assert line.startswith(f"slack: connected as @briefbot (team {slack_emulator.team_id})")

    wrong = SlackAdapter(settings, bot_token="xoxb-wrong", app_token_or_secret=slack_emulator.app_token)
    with pytest.raises(RuntimeError, match="invalid_auth") as failed:
        await wrong.check()
    assert "xoxb-wrong" not in str(failed.value)


# ----- the manifest -----
def test_manifest_declares_what_the_adapter_listens_to() -> None:
    manifest = (Path(__file__).parents[1] / "adapters" / "slackbot" / "manifest.yml").read_text(
        encoding="utf-8"
    )
    for needed in (
        f"command: {COMMAND}",
        f"callback_id: {SHORTCUT_CALLBACK_ID}",
        "type: message",
        "- app_mention",
        "- message.channels",
        "- chat:write",
        "- commands",
        "socket_mode_enabled: true",
    ):
        assert needed in manifest, needed


# ----- end to end: the real `briefbot run` process -----
ARTICLE_HTML = """<!doctype html>
<html><head><title>Riverside council approves flood barrier | Valley Courier</title>
<meta property="og:title" content="Riverside council approves flood barrier">
<meta property="article:published_time" content="2025-03-14T09:00:00Z"></head>
<body><article><h1>Riverside council approves flood barrier</h1>
<p>The Riverside city council voted on Thursday to build a two-kilometre flood barrier along the Alder
River, ending a debate that began after the floods of last October damaged more than 300 homes.</p>
<p>Mayor Helen Okafor said the barrier would be finished by September 2026 and would cost about
40 million dollars, most of it paid by the regional government. "We cannot ask families to rebuild a
third time," Okafor told reporters after the vote, which passed by seven votes to two.</p>
<p>The Alder Valley Water Authority will manage the construction. Its chief engineer, Tomas Brandt, said
work on the northern section would start in June, once the spring high water has passed, and that
temporary walls would protect the old town until then.</p>
<p>Opponents on the council, led by councillor Grace Lindqvist, argued that the money should go to
restoring wetlands upstream, which they said would slow the river more cheaply. Lindqvist said she
would ask the regional government to fund a study of the wetlands plan next year.</p>
<p>Residents of the riverside district, where water reached the first floor of many houses last autumn,
welcomed the decision. Shop owners said insurance companies had refused to renew their policies
until the town could show a plan to protect the district.</p>
</article></body></html>"""


def loopback_host() -> str:
    """127.0.0.2 where it can be bound (Linux binds all of 127/8), so the fetch guard's /32 is exact."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.2", 0))
        except OSError:
            return "127.0.0.1"
    return "127.0.0.2"


@asynccontextmanager
async def article_server() -> AsyncIterator[str]:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=ARTICLE_HTML, content_type="text/html")

    app = web.Application()
    app.router.add_get("/2025/03/flood-barrier", page)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    host = loopback_host()
    await web.TCPSite(runner, host, 0).start()
    try:
        yield f"http://{host}:{runner.addresses[0][1]}/2025/03/flood-barrier"
    finally:
        await runner.cleanup()


async def test_briefbot_run_briefs_a_pasted_link_end_to_end(
    slack_emulator: SlackEmulator, tmp_path: Path
) -> None:
    async with article_server() as url:
        host = url.split("/")[2].split(":")[0]
        config = tmp_path / "briefbot.toml"
        config.write_text(
            f'[fetch]\nallow_private_networks = ["{host}/32"]\n'
            f'[store]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
            f"[briefing]\nworkers = 1\n"
            f'[slack]\napi_base_url = "{slack_emulator.base_url}"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
        env |= {"SLACK_BOT_TOKEN": slack_emulator.bot_token, "SLACK_APP_TOKEN": slack_emulator.app_token}
        log_path = tmp_path / "stderr.log"
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("briefbot")),
                "run",
                "-v",
                "--config",
                str(config),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
            )
            try:
                # Generous waits, not assertions on time: the worker process loads spaCy first.
                await slack_emulator.wait_for_socket(timeout=60)
                message = slack_emulator.message_event("C0GENERAL", "U0ALICE", f"flood news <{url}>")
                await slack_emulator.send_event(message)
                [post] = await slack_emulator.wait_for_posts(1, timeout=60)
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                exit_code = await asyncio.wait_for(process.wait(), 30)
        logs = log_path.read_text(encoding="utf-8", errors="replace")

    assert post.args["thread_ts"] == message["ts"]
    assert post.args["unfurl_links"] is False
    assert "Riverside council approves flood barrier" in post.args["blocks"][0]["text"]["text"]
    assert post.args["text"].startswith("Riverside council approves flood barrier")
    assert exit_code == 0, logs
    assert slack_emulator.bot_token not in logs
    assert slack_emulator.app_token not in logs
    assert '"level": "error"' not in logs and '"level": "warning"' not in logs, logs


# ----- topic alerts: who may change them -----
async def test_only_admins_and_managers_subscribe_a_channel(bot: Bot) -> None:
    slack = bot.slack
    await slack.send_slash_command("subscribe floods", user="U0ALICE")
    [refused] = await slack.wait_for_responses(1)
    assert refused.response_type == "ephemeral"
    assert refused.body["text"] == MANAGERS_ONLY
    await slack.send_slash_command("subscribe floods", user="U0ADMIN")
    await slack.wait_until(lambda: len(slack.posts) + len(slack.responses) >= 2, what="the confirmation")
    await bot.adapter.wait_idle()
    confirmations = [p.args["text"] for p in slack.posts] + [
        r.body.get("text", "") for r in slack.responses[1:]
    ]
    assert any(text.startswith("Subscribed (#1)") for text in confirmations)
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U0ALICE", "U0ADMIN"]
    await slack.send_slash_command("subscriptions", user="U0ALICE")  # listing is for everyone, no lookup
    await slack.wait_for_responses(2)
    assert len(slack.calls_to("users.info")) == 2


# ----- each delivery acted on once (retries, replays, restarts) -----
async def settled(bot: Bot, channel: str = "C0GENERAL") -> None:
    """Wait until everything sent before now is handled: a marker /brief help's answer, then idleness.

    (Bolt runs event listeners after the ack, but in arrival order: once the marker is answered, every
    earlier delivery has been dispatched, and wait_idle covers the work it spawned.)
    """
    answered = len(bot.slack.responses)
    await bot.slack.send_slash_command("help", channel=channel)
    await bot.slack.wait_for_responses(answered + 1)
    await bot.adapter.wait_idle()


async def test_socket_mode_retries_and_copies_are_acked_but_acted_on_once(bot: Bot) -> None:
    slack = bot.slack
    slack.add_channel("C0RANDOM", "random")
    slack.add_channel("C0NEWS", "news")
    pasted = slack.event_callback(slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE + "-pasted")))
    mention = slack.event_callback(slack.app_mention_event("C0RANDOM", "U0ALICE", link(ARTICLE + "-asked")))
    command = slack.slash_command(link(ARTICLE + "-command"), channel="C0NEWS")
    rss = slack.message_event("C0NEWS", None, link(ARTICLE + "-shortcut"), bot_id="B0RSSFEED")
    shortcut = slack.message_shortcut(rss, channel="C0NEWS")

    acks = [
        await slack.send_envelope("events_api", pasted),
        await slack.send_envelope("events_api", pasted, retry_attempt=1),  # Slack's retry after a late ack
        await slack.send_envelope("events_api", mention),
        await slack.send_envelope("events_api", mention),  # a copy with a fresh envelope
        await slack.send_envelope("slash_commands", command, accepts_response_payload=True),
        await slack.send_envelope("slash_commands", command, accepts_response_payload=True),
        await slack.send_envelope("interactive", shortcut),
        await slack.send_envelope("interactive", shortcut),
    ]
    await settled(bot)

    assert [ack.payload for ack in acks] == [None] * 8, "every copy is acked, with nothing to show"
    assert sorted(bot.briefer.urls) == sorted(
        ARTICLE + suffix for suffix in ("-pasted", "-asked", "-command", "-shortcut")
    )
    by_channel = sorted((post.args["channel"], titles([post])[0]) for post in slack.posts)
    assert by_channel == [
        ("C0GENERAL", "Title harbour-bridge-pasted"),
        ("C0NEWS", "Title harbour-bridge-command"),
        ("C0NEWS", "Title harbour-bridge-shortcut"),
        ("C0RANDOM", "Title harbour-bridge-asked"),
    ]


async def test_copies_arriving_together_are_acted_on_once(bot: Bot) -> None:
    slack = bot.slack
    slack.add_channel("C0RANDOM", "random")
    events = [
        slack.event_callback(slack.message_event(channel, "U0ALICE", link(f"{ARTICLE}-{channel}")))
        for channel in ("C0GENERAL", "C0RANDOM")
    ]
    # Five copies of each at once: the claims race in the store and exactly one of each may win.
    await asyncio.gather(*(slack.send_envelope("events_api", event) for event in events for _ in range(5)))
    await settled(bot)

    assert sorted(bot.briefer.urls) == [f"{ARTICLE}-C0GENERAL", f"{ARTICLE}-C0RANDOM"]
    assert sorted(post.args["channel"] for post in slack.posts) == ["C0GENERAL", "C0RANDOM"]


async def test_http_mode_byte_identical_replays_and_retries_act_once(
    slack_emulator: SlackEmulator, tmp_path: Path
) -> None:
    slack = slack_emulator
    slack.add_channel("C0RANDOM", "random")
    async with running_bot(slack, tmp_path, mode="http") as bot:
        help_command = slack.sign(slack.slash_command("help", channel="C0GENERAL"))
        mention = slack.sign(
            slack.event_callback(slack.app_mention_event("C0RANDOM", "U0ALICE", link(ARTICLE)))
        )
        answers = [
            await slack.send(bot.http_url, help_command),
            await slack.send(bot.http_url, help_command),  # a replay, seconds later, byte for byte
            await slack.send(bot.http_url, mention),
            await slack.send(bot.http_url, mention, retry_num=1),
            await slack.send(bot.http_url, mention, retry_num=2),
        ]
        # The marker goes over HTTP too: nothing after it, so its answer means the copies were handled.
        await slack.signed_request(bot.http_url, slack.slash_command("help", channel="C0RANDOM"))
        await slack.wait_for_responses(2)
        await bot.adapter.wait_idle()

    assert [answer.status for answer in answers] == [200] * 5
    assert [response.key for response in slack.responses] == [
        slack.responses[0].key,  # the first help's response_url, once
        slack.responses[1].key,  # the marker's
    ]
    assert slack.responses[0].key != slack.responses[1].key
    assert bot.briefer.urls == [ARTICLE]
    assert [(post.args["channel"], titles([post])[0]) for post in slack.posts] == [
        ("C0RANDOM", "Title harbour-bridge")
    ]


async def test_a_copy_after_a_restart_is_still_not_acted_on(
    slack_emulator: SlackEmulator, tmp_path: Path
) -> None:
    slack = slack_emulator
    event = slack.event_callback(slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE)))
    command = slack.slash_command("help")
    async with running_bot(slack, tmp_path):
        await slack.send_envelope("events_api", event)
        await slack.send_envelope("slash_commands", command, accepts_response_payload=True)
        await slack.wait_for_posts(1)
        await slack.wait_for_responses(1)
    async with running_bot(slack, tmp_path) as restarted:  # the same store file
        await slack.send_envelope("events_api", event, retry_attempt=3)
        await slack.send_envelope("slash_commands", command, accepts_response_payload=True)
        await settled(restarted)

    assert restarted.briefer.urls == []
    assert len(slack.posts) == 1
    assert len(slack.responses) == 2, "the first help, then the marker; not the copy"


async def test_deliveries_are_claimed_per_workspace(bot: Bot) -> None:
    """The same event id from another workspace (ids are scoped by Slack) is a different delivery."""
    slack = bot.slack
    event = slack.event_callback(slack.message_event("C0GENERAL", "U0ALICE", link(ARTICLE)))
    other_team = {**event, "team_id": "T0ELSEWHERE", "authorizations": [{"team_id": "T0ELSEWHERE"}]}
    await slack.send_envelope("events_api", event)
    await slack.send_envelope("events_api", other_team)
    await settled(bot)
    assert titles(slack.posts) == ["Title harbour-bridge"] * 2  # the second from the core's cache
