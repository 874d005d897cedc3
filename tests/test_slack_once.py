"""Slack deliveries act exactly once, end to end: the real `briefbot run` process against the Slack emulator.

Copies (Slack's retries after a late ack, byte-identical replays of signed requests, the same envelope
again in Socket Mode) are acked and not acted on, in several channels, and still not after a restart on
the same store file. A malformed request timestamp gets a 401, never a 500 with a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulators.slack import SignedRequest, SlackEmulator, slack_emulator_fixture  # noqa: F401
from pageserver import PageServer

ROOT = Path(__file__).resolve().parents[1]
BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))
ARTICLE_HTML = (ROOT / "examples" / "harbour_tunnel.html").read_text(encoding="utf-8")
WAIT = 120  # generous waits, not timing assertions: the worker process loads the NLP model first
DUPLICATE = "already handled; acknowledged, not acted on again"


@dataclass
class RunningBot:
    process: asyncio.subprocess.Process
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def entries(self) -> list[dict[str, Any]]:
        lines = self.text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def messages(self) -> list[str]:
        return [entry["message"] for entry in self.entries()]

    async def wait_for_log(self, found: Callable[[list[str]], bool], what: str) -> list[str]:
        try:
            async with asyncio.timeout(WAIT):
                while not found(messages := self.messages()):
                    if self.process.returncode is not None:
                        raise AssertionError(f"the bot exited while waiting for {what}:\n{self.text()}")
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"no {what} in the log:\n{self.text()}") from None
        return messages

    async def wait_for_duplicates(self, n: int) -> None:
        await self.wait_for_log(lambda messages: sum(DUPLICATE in m for m in messages) >= n, f"{n} copies")

    async def listening(self) -> str:
        """Once the bot says it listens: its events URL in HTTP mode (the port it says it bound)."""
        pattern = re.compile(r"slack: listening \((\w+) mode(?: on port (\d+))?\)")
        messages = await self.wait_for_log(lambda ms: any(pattern.search(m) for m in ms), "listening line")
        match = next(match for m in messages if (match := pattern.search(m)))
        return f"http://127.0.0.1:{match[2]}/slack/events" if match[1] == "http" else ""


@asynccontextmanager
async def briefbot_run(
    slack: SlackEmulator, config: Path, log: Path, *, mode: str
) -> AsyncIterator[RunningBot]:
    """The real bot process; stopped with SIGTERM afterwards, and it must exit cleanly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env["SLACK_BOT_TOKEN"] = slack.bot_token
    if mode == "socket":
        env["SLACK_APP_TOKEN"] = slack.app_token
    else:
        env["SLACK_SIGNING_SECRET"] = slack.signing_secret
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            BRIEFBOT, "run", "-v", "--config", str(config), env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    bot = RunningBot(process, log)
    try:
        yield bot
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(process.wait(), 30)
    assert exit_code == 0, bot.text()


def free_port() -> int:
    """A loopback port free now (the config wants a real one; the bot binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(tmp_path: Path, slack: SlackEmulator, *, mode: str, network: str = "127.0.0.1/32") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{network}"]\n'
        f'[store]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
        "[briefing]\nworkers = 1\n"
        f'[slack]\nmode = "{mode}"\napi_base_url = "{slack.base_url}"\n'
        f'http_host = "127.0.0.1"\nhttp_port = {free_port()}\n',
        encoding="utf-8",
    )
    return config


def assert_clean(bot: RunningBot, slack: SlackEmulator, *, allowed_warnings: tuple[str, ...] = ()) -> None:
    """No traceback, no error, only the expected warnings, no secret in the logs."""
    text = bot.text()
    for secret in (slack.bot_token, slack.app_token, slack.signing_secret):
        assert secret not in text
    entries = bot.entries()
    assert not [e for e in entries if "traceback" in e or e["level"] in ("error", "critical")], text
    warnings = [e["message"] for e in entries if e["level"] == "warning"]
    assert all(any(allowed in w for allowed in allowed_warnings) for w in warnings), warnings


def response_key(payload: dict[str, Any]) -> str:
    """The emulator's key for a payload's response_url (its last path segment)."""
    return str(payload["response_url"]).rsplit("/", 1)[1]


def ephemerals(slack: SlackEmulator) -> list[tuple[str, str]]:
    return [(call.args["channel"], call.args["user"]) for call in slack.calls_to("chat.postEphemeral")]


async def test_http_mode_copies_act_once_across_a_restart(
    slack_emulator: SlackEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    slack = slack_emulator
    slack.add_channel("C0RANDOM", "random")
    slack.add_channel("C0NEWS", "news")
    article = page_server.page("/tunnel.html", ARTICLE_HTML)
    config = write_config(tmp_path, slack, mode="http", network=page_server.network)
    # Signed once, sent again byte for byte: Slack's retries (with X-Slack-Retry-Num) and replays alike.
    help_form = slack.slash_command("help", channel="C0GENERAL")
    help_command = slack.sign(help_form)
    mention = slack.sign(slack.event_callback(slack.app_mention_event("C0RANDOM", "U0ALICE", "help")))
    pasted = slack.sign(slack.event_callback(slack.message_event("C0NEWS", "U0ALICE", f"read <{article}>")))
    copies: list[tuple[SignedRequest, int | None]] = [(help_command, None), (mention, 1), (pasted, 2)]

    async with briefbot_run(slack, config, tmp_path / "first.log", mode="http") as first:
        url = await first.listening()
        answers = [await slack.send(url, signed) for signed, _ in copies]
        answers += [await slack.send(url, signed, retry_num=retry) for signed, retry in copies]
        bad_stamp = {**help_command.headers, "X-Slack-Request-Timestamp": "abc"}
        malformed = await slack.post(url, help_command.data, bad_stamp)
        await first.wait_for_duplicates(3)
        await slack.wait_for_posts(1, timeout=WAIT)  # the briefing
        await slack.wait_for_responses(1, timeout=WAIT)
        await slack.wait_for_calls("chat.postEphemeral", 1, timeout=WAIT)
        await slack.signed_request(url, slack.slash_command("help", channel="C0NEWS"))  # a marker, last
        await slack.wait_for_responses(2, timeout=WAIT)

    assert [answer.status for answer in answers] == [200] * 6
    assert (malformed.status, json.loads(malformed.text)) == (401, {"error": "bad_timestamp"})
    assert_clean(first, slack, allowed_warnings=("refused a request from 127.0.0.1: bad_timestamp (401)",))

    async with briefbot_run(slack, config, tmp_path / "second.log", mode="http") as second:
        url = await second.listening()
        # Slack signs each retry afresh (same body, new timestamp): however long the first run took.
        resigned = [slack.sign(signed.data.decode()) for signed, _ in copies]
        answers = [await slack.send(url, signed, retry_num=3) for signed in resigned]
        await second.wait_for_duplicates(3)
        await slack.signed_request(url, slack.slash_command("help", channel="C0GENERAL"))
        await slack.wait_for_responses(3, timeout=WAIT)
    assert_clean(second, slack)

    assert [answer.status for answer in answers] == [200] * 3
    [post] = slack.posts
    assert post.args["channel"] == "C0NEWS"
    assert post.args["thread_ts"] == json.loads(pasted.data)["event"]["ts"]
    assert "tunnel" in post.args["text"].lower()
    assert ephemerals(slack) == [("C0RANDOM", "U0ALICE")]
    keys = [response.key for response in slack.responses]
    assert keys.count(response_key(help_form)) == 1, "the first help answered once"
    assert len(slack.responses) == 3  # that help and the two markers


async def test_socket_mode_copies_act_once_across_a_restart(
    slack_emulator: SlackEmulator, tmp_path: Path
) -> None:
    slack = slack_emulator
    slack.add_channel("C0RANDOM", "random")
    slack.add_channel("C0NEWS", "news")
    config = write_config(tmp_path, slack, mode="socket")
    help_command = slack.slash_command("help", channel="C0GENERAL")
    mention = slack.event_callback(slack.app_mention_event("C0RANDOM", "U0ALICE", "help"))
    short_note = slack.message_event("C0NEWS", None, "no links here", bot_id="B0RSSFEED")
    shortcut = slack.message_shortcut(short_note, channel="C0NEWS")  # answered privately: too short

    async def send_all(retry_attempt: int) -> None:
        await slack.send_envelope("slash_commands", help_command, accepts_response_payload=True)
        await slack.send_envelope("events_api", mention, retry_attempt=retry_attempt)
        await slack.send_envelope("interactive", shortcut)

    async with briefbot_run(slack, config, tmp_path / "first.log", mode="socket") as first:
        await slack.wait_for_socket(timeout=WAIT)
        await send_all(retry_attempt=0)
        await send_all(retry_attempt=1)  # the same envelopes' payloads again, as Slack's retries
        await first.wait_for_duplicates(3)
        await slack.wait_for_responses(2, timeout=WAIT)  # the help and the shortcut's answer
        await slack.wait_for_calls("chat.postEphemeral", 1, timeout=WAIT)
        await slack.send_slash_command("help", channel="C0NEWS")  # a marker, last
        await slack.wait_for_responses(3, timeout=WAIT)
    assert_clean(first, slack)

    async with briefbot_run(slack, config, tmp_path / "second.log", mode="socket") as second:
        await slack.wait_until(lambda: slack.connections == 2 and slack.open_sockets == 1, timeout=WAIT)
        await send_all(retry_attempt=2)
        await second.wait_for_duplicates(3)
        await slack.send_slash_command("help", channel="C0GENERAL")
        await slack.wait_for_responses(4, timeout=WAIT)
    assert_clean(second, slack)

    answered = {r.key: r.body.get("text", "") for r in slack.responses}
    assert len(slack.responses) == len(answered) == 4, "the help, the shortcut's answer and two markers"
    assert "/brief auto on" in answered[response_key(help_command)]
    assert "too short to summarize" in answered[response_key(shortcut)]
    assert ephemerals(slack) == [("C0RANDOM", "U0ALICE")]
    assert slack.posts == []
    assert len([a for a in slack.acks if a.payload is None]) == len(slack.acks) == 11
