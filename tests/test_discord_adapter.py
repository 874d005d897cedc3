"""The Discord adapter: real discord.py against the local emulator, a fake briefer inside a real ChatCore."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

import discord
import pytest
import pytest_asyncio
from emulators.discord import (  # noqa: F401 (discord_emulator_fixture registers the fixture)
    MANAGER_PERMISSIONS,
    DiscordEmulator,
    discord_emulator_fixture,
)
from fakes import FakeBriefer, FakeClock, text_briefing
from pageserver import PageServer

from adapters.discordbot.adapter import DiscordAdapter
from adapters.discordbot.listeners import COULD_NOT_POST, HELP, NO_PERMISSION, TOPIC_ACTIONS, text_to_brief
from bot.alerts.commands import AlertCommands
from bot.chat.commands import (
    AddSource,
    AlertCommand,
    BriefText,
    BriefUrl,
    ListSources,
    ListSubscriptions,
    RemoveSource,
    Subscribe,
    Unsubscribe,
)
from bot.chat.core import ChatCore
from bot.chat.model import Notice
from bot.chat.outbox import Outbox
from bot.config import ChatSettings, DiscordSettings, Settings
from bot.errors import NotFoundError, TooShortError
from bot.models import Briefing
from bot.store import Store

HARBOUR = "https://news.example.org/2024/harbour-reopens"
BRIDGE = "https://news.example.org/2024/bridge-vote"
MISSING = "https://news.example.org/2024/missing-page"
MESSAGES = "POST /channels/{}/messages"


def harbour_briefer() -> FakeBriefer:
    """Briefings named after their link; a link with "missing" in it is a 404."""

    def answer(url: str) -> Briefing:
        return Briefing(title=f"Title of {url}", url=url, published=None, summary=["The harbour reopened."])

    return FakeBriefer(answer, answer_text=text_briefing(40), errors={"missing": NotFoundError()})


class Bot:
    """A running adapter and what it talks to."""

    def __init__(
        self, adapter: DiscordAdapter, briefer: FakeBriefer, store: Store, emulator: DiscordEmulator
    ):
        self.adapter, self.briefer, self.store, self.emulator = adapter, briefer, store, emulator

    async def idle(self) -> None:
        """Wait until every event the bot has received so far is fully handled."""
        await self.emulator.wait_for(lambda: self.adapter.in_flight == 0)


def settings_for(emulator: DiscordEmulator, *, intent: bool) -> Settings:
    discord_settings = DiscordSettings(
        message_content_intent=intent, api_base_url=emulator.api_base, gateway_url=emulator.gateway_url
    )
    return Settings(chat=ChatSettings(max_links_per_message=3), discord=discord_settings)


@pytest_asyncio.fixture
async def start_bot(discord_emulator: DiscordEmulator, store: Store) -> AsyncIterator[Any]:
    """Start the adapter (intent on or off) through its real `run`; stopped through its stop event."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(*, intent: bool = True, outbox: Outbox | None = None) -> Bot:
        settings = settings_for(discord_emulator, intent=intent)
        adapter = DiscordAdapter(
            settings, token=discord_emulator.token, outbox=outbox, guild_ready_timeout=0.01
        )
        briefer = harbour_briefer()
        core = ChatCore(briefer, store, settings.chat, alerts=AlertCommands(store, settings.alerts))
        stop = asyncio.Event()
        task = asyncio.create_task(adapter.run(core, stop))
        running.append((stop, task))
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise AssertionError(f"adapter never became ready: {task.exception() if task.done() else 'hung'}")
        return Bot(adapter, briefer, store, discord_emulator)

    yield start
    for stop, task in running:
        stop.set()
        await asyncio.wait_for(task, 10)


def replies(emulator: DiscordEmulator, channel: int | None = None) -> list[dict[str, Any]]:
    return [m for m in emulator.messages if channel is None or m["channel_id"] == str(channel)]


def embed_titles(messages: list[dict[str, Any]]) -> list[str]:
    return [embed["title"] for message in messages for embed in message["embeds"]]


async def test_commands_are_synced_at_start_up(discord_emulator: DiscordEmulator, start_bot: Any) -> None:
    await start_bot()
    assert [
        entry.status for entry in discord_emulator.log if entry.route == "PUT /applications/{}/commands"
    ] == [200]
    commands = {(c["name"], c["type"]): c for c in discord_emulator.commands[None]}
    assert set(commands) == {("brief", 1), ("brief-auto", 1), ("brief-topics", 1), ("Brief this", 3)}
    topics = commands["brief-topics", 1]
    assert int(topics["default_member_permissions"]) == discord.Permissions(manage_channels=True).value
    options = {o["name"]: o for o in commands["brief", 1]["options"]}
    assert set(options) == {"url", "text"}
    assert not any(option.get("required") for option in options.values())
    auto = commands["brief-auto", 1]
    assert int(auto["default_member_permissions"]) == discord.Permissions(manage_channels=True).value
    assert [choice["value"] for choice in auto["options"][0]["choices"]] == ["on", "off"]


async def test_a_pasted_link_gets_a_reply_with_an_embed(
    discord_emulator: DiscordEmulator, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await start_bot(intent=True)
    general = discord_emulator.channel_ids["general"]
    asked = await discord_emulator.send_message(general, f"Big news today: {HARBOUR} !")
    reply = (await discord_emulator.wait_for(lambda: replies(discord_emulator)))[0]
    assert reply["channel_id"] == str(general)
    assert reply["message_reference"]["message_id"] == asked["id"]
    assert reply["embeds"][0]["title"] == f"Title of {HARBOUR}"
    assert reply["embeds"][0]["url"] == HARBOUR
    posted = next(entry.body for entry in discord_emulator.log if entry.route == MESSAGES)
    assert posted["allowed_mentions"]["parse"] == [] and not posted["allowed_mentions"]["replied_user"]
    assert bot.briefer.urls == [HARBOUR]
    assert discord_emulator.token not in caplog.text


async def test_own_and_other_bots_messages_are_ignored(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    bot = await start_bot(intent=True)
    general = discord_emulator.channel_ids["general"]
    own = discord_emulator.bot_user_id
    await discord_emulator.send_message(general, BRIDGE, author_id=own, bot=True, username="briefbot")
    await discord_emulator.send_message(general, BRIDGE, author_id=777, bot=True, username="feedbot")
    await discord_emulator.send_message(general, HARBOUR)  # a person: the control
    await discord_emulator.wait_for(lambda: replies(discord_emulator))
    await bot.idle()
    assert bot.briefer.urls == [HARBOUR]
    assert embed_titles(replies(discord_emulator)) == [f"Title of {HARBOUR}"]


async def test_without_the_intent_pasted_links_are_ignored_but_brief_url_works(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    bot = await start_bot(intent=False)
    general = discord_emulator.channel_ids["general"]
    await discord_emulator.send_message(general, BRIDGE)
    assert discord_emulator.identifies[0]["intents"] & discord.Intents(message_content=True).value == 0
    sent = await discord_emulator.send_slash_command("brief", {"url": HARBOUR}, channel_id=general)
    await discord_emulator.wait_for(lambda: sent.edits)
    await bot.idle()
    assert bot.briefer.urls == [HARBOUR]
    assert embed_titles(replies(discord_emulator)) == [f"Title of {HARBOUR}"]


async def test_brief_url_is_deferred_privately_then_posted_publicly(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    await start_bot(intent=True)
    news = discord_emulator.channel_ids["news"]
    sent = await discord_emulator.send_slash_command("brief", {"url": HARBOUR}, channel_id=news, user_id=5151)
    edit = (await discord_emulator.wait_for(lambda: sent.edits))[0]
    assert sent.callbacks == [{"type": 5, "data": {"flags": 64}}]
    public = replies(discord_emulator, news)
    assert embed_titles(public) == [f"Title of {HARBOUR}"]
    assert public[0]["content"] == "Briefing requested by <@5151>"
    assert (
        edit["content"]
        == f"Posted: https://discord.com/channels/{discord_emulator.guild_id}/{news}/{public[0]['id']}"
    )


async def test_a_404_link_gets_a_private_error_and_nothing_public(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    bot = await start_bot(intent=True)
    sent = await discord_emulator.send_slash_command("brief", {"url": MISSING})
    edit = (await discord_emulator.wait_for(lambda: sent.edits))[0]
    await bot.idle()
    assert sent.callbacks[0]["data"]["flags"] & 64  # the deferred response is ephemeral
    assert edit["content"] == NotFoundError().message
    assert replies(discord_emulator) == []
    assert sent.followups == []


async def test_brief_text_and_help_and_text_that_reads_as_a_command(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    bot = await start_bot(intent=True)
    article = "The harbour reopened on Tuesday after six weeks of repairs to its outer wall. " * 3
    sent = await discord_emulator.send_slash_command("brief", {"text": article})
    await discord_emulator.wait_for(lambda: sent.edits)
    assert bot.briefer.texts == [article]
    assert replies(discord_emulator)[0]["embeds"][0]["description"].startswith("• The harbour reopened")
    helped = await discord_emulator.send_slash_command("brief")
    callback = (await discord_emulator.wait_for(lambda: helped.callbacks))[0]
    assert (callback["type"], callback["data"]["content"], callback["data"]["flags"]) == (4, HELP, 64)
    sneaky = await discord_emulator.send_slash_command("brief", {"text": "auto off"})
    edit = (await discord_emulator.wait_for(lambda: sneaky.edits))[0]
    assert edit["content"] == TooShortError().message
    assert await bot.store.auto_brief("discord", str(sneaky.channel_id)) is None  # the setting is untouched


async def test_brief_this_context_menu_replies_to_the_message(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    bot = await start_bot(intent=False)  # the menu works without the message-content intent
    general = discord_emulator.channel_ids["general"]
    target = await discord_emulator.send_message(general, f"Worth a read: {BRIDGE}")
    sent = await discord_emulator.send_message_command("Brief this", int(target["id"]))
    edit = (await discord_emulator.wait_for(lambda: sent.edits))[0]
    public = replies(discord_emulator, general)
    assert embed_titles(public) == [f"Title of {BRIDGE}"]
    assert public[0]["message_reference"]["message_id"] == target["id"]
    assert edit["content"].startswith("Posted: ")
    assert bot.briefer.urls == [BRIDGE]


@pytest.mark.parametrize(("times", "outbox_waited"), [(4, False), (11, True)])
async def test_a_burst_of_429s_loses_no_reply_and_keeps_order_per_channel(
    discord_emulator: DiscordEmulator, start_bot: Any, times: int, outbox_waited: bool
) -> None:
    """discord.py retries a 429 up to 5 tries itself; beyond that the outbox waits and delivers again.

    No post succeeds while 429s remain, so 11 of them over two channels' concurrent posts give one post
    at least 6: discord.py gives up on it and the outbox must take over.
    """
    clock = FakeClock()  # the outbox's waits are recorded, not slept
    await start_bot(intent=True, outbox=Outbox(sleep=clock.sleep))
    discord_emulator.rate_limit("POST /channels/{id}/messages", times=times, retry_after=0.01)
    general, news = discord_emulator.channel_ids["general"], discord_emulator.channel_ids["news"]
    links = [f"https://news.example.org/2024/story-{n}" for n in range(5)]
    # Two people: the core allows a burst of 3 briefings per person.
    await discord_emulator.send_message(general, " ".join(links[:3]), author_id=4242)
    await discord_emulator.send_message(news, " then ".join(links[3:]), author_id=4343)
    await discord_emulator.wait_for(lambda: len(replies(discord_emulator)) == 5)
    assert embed_titles(replies(discord_emulator, general)) == [f"Title of {link}" for link in links[:3]]
    assert embed_titles(replies(discord_emulator, news)) == [f"Title of {link}" for link in links[3:]]
    assert [entry.status for entry in discord_emulator.log if entry.route == MESSAGES].count(429) == times
    assert bool(clock.sleeps) == outbox_waited
    assert all(wait == 1.0 for wait in clock.sleeps)  # the emulator's Retry-After header


async def test_auto_off_makes_pasted_links_ignored(discord_emulator: DiscordEmulator, start_bot: Any) -> None:
    bot = await start_bot(intent=True)
    general = discord_emulator.channel_ids["general"]
    switched = await discord_emulator.send_slash_command(
        "brief-auto", {"state": "off"}, channel_id=general, permissions=MANAGER_PERMISSIONS
    )
    await discord_emulator.wait_for(lambda: switched.edits)
    notice = replies(discord_emulator, general)[0]
    assert notice["content"].startswith("OK: I will no longer brief links pasted in this channel.")
    assert await bot.store.auto_brief("discord", str(general)) is False
    await discord_emulator.send_message(general, HARBOUR)
    asked = await discord_emulator.send_slash_command("brief-auto", channel_id=general)  # the control
    status = (await discord_emulator.wait_for(lambda: asked.edits))[0]
    await bot.idle()
    assert status["content"] == "Automatic briefings of pasted links are off in this channel."
    assert bot.briefer.urls == []
    assert len(replies(discord_emulator)) == 1


async def test_mentions_work_without_the_intent_and_settings_need_channel_managers(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    bot = await start_bot(intent=False)
    news = discord_emulator.channel_ids["news"]
    mention = f"<@{discord_emulator.bot_user_id}>"
    asked = await discord_emulator.send_message(news, f"{mention} {HARBOUR}")
    reply = (await discord_emulator.wait_for(lambda: replies(discord_emulator)))[0]
    assert reply["message_reference"]["message_id"] == asked["id"]
    assert reply["embeds"][0]["title"] == f"Title of {HARBOUR}"
    await discord_emulator.send_message(news, f"{mention} auto off")  # a member without Manage Channels
    refusal = (await discord_emulator.wait_for(lambda: replies(discord_emulator)[1:]))[0]
    assert refusal["content"] == NO_PERMISSION
    assert await bot.store.auto_brief("discord", str(news)) is None


async def test_a_mention_with_a_link_in_a_sentence_briefs_the_link(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    """People write "@briefbot can you brief <link> please?": the link is the request, as on Slack."""
    bot = await start_bot(intent=False)
    mention = f"<@{discord_emulator.bot_user_id}>"
    for name in ("news", "general"):
        asked = await discord_emulator.send_message(
            discord_emulator.channel_ids[name], f"{mention} can you brief {HARBOUR} please? thanks a lot"
        )
        reply = (await discord_emulator.wait_for(lambda a=asked: [r for r in replies(discord_emulator)
                 if r["message_reference"]["message_id"] == a["id"]]))[0]  # fmt: skip
        assert reply["embeds"][0]["title"] == f"Title of {HARBOUR}"
    await bot.idle()
    assert bot.briefer.texts == [], "never briefed as pasted text"


async def test_a_refused_post_is_reported_privately(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    """The channel vanished between the command and the post: Discord answers 404, the asker is told."""
    bot = await start_bot(intent=True)
    news = discord_emulator.channel_ids["news"]
    sent = await discord_emulator.send_slash_command("brief", {"url": HARBOUR}, channel_id=news)
    del discord_emulator.channels[news]
    edit = (await discord_emulator.wait_for(lambda: sent.edits))[0]
    await bot.idle()
    assert edit["content"] == COULD_NOT_POST
    assert replies(discord_emulator) == []


async def test_check_logs_in_over_rest_without_the_gateway(discord_emulator: DiscordEmulator) -> None:
    settings = settings_for(discord_emulator, intent=True)
    line = await DiscordAdapter(settings, token=discord_emulator.token).check()
    assert line.startswith(
        f"discord: connected as briefbot (application id {discord_emulator.application_id})"
    )
    assert discord_emulator.token not in line
    assert {entry.route for entry in discord_emulator.log} == {
        "GET /users/@me",
        "GET /oauth2/applications/@me",
    }
    assert discord_emulator.identifies == []
    with pytest.raises(discord.LoginFailure):
        await DiscordAdapter(settings, token="wrong-token").check()


def test_text_to_brief_never_turns_into_help_or_a_setting() -> None:
    too_short = Notice(TooShortError().message, code=TooShortError.code)
    assert text_to_brief("auto off") == text_to_brief("help") == text_to_brief("  ") == too_short
    doors = "Automatic doors failed at the harbour on Tuesday"
    assert text_to_brief(doors) == BriefText(doors)
    # Only "help" alone is help: an article that starts with the word is briefed, as /brief does.
    help_arrives = "Help arrives for the flooded villages"
    assert text_to_brief(help_arrives) == BriefText(help_arrives)
    assert text_to_brief(f"{HARBOUR} please") == BriefUrl(HARBOUR)


def test_topic_actions_build_commands_from_their_options() -> None:
    assert TOPIC_ACTIONS["subscribe"]("floods --digest daily@08:00") == Subscribe("floods", "daily@08:00")
    assert TOPIC_ACTIONS["unsubscribe"]("#2") == Unsubscribe("#2")
    assert TOPIC_ACTIONS["subscriptions"]("") == ListSubscriptions()
    assert TOPIC_ACTIONS["sources"]("") == ListSources()
    assert TOPIC_ACTIONS["source-add"](f"<{HARBOUR}>") == AddSource(HARBOUR)
    assert TOPIC_ACTIONS["source-remove"]("") == RemoveSource(None)
    # Every alert command has its choice: one added to the grammar without one fails here.
    assert {type(make("x")) for make in TOPIC_ACTIONS.values()} == set(get_args(AlertCommand))


# --- the real `briefbot run` process -------------------------------------------------------------------

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Westhaven ferry terminal reopens after storm repairs | Harbour Herald</title>
<meta property="article:published_time" content="2024-05-14T09:30:00Z">
</head><body><nav><a href="/">Home</a> <a href="/local">Local</a></nav>
<article><h1>Westhaven ferry terminal reopens after storm repairs</h1>
<p>The north ferry terminal in Westhaven reopened on Tuesday, six weeks after a winter storm tore away part of
its outer wall and flooded the ticket hall.</p>
<p>Maria Lindqvist, who chairs the Westhaven Port Authority, told reporters that the repairs had cost
4.2 million euros and were finished ten days ahead of schedule. "Crews worked through the nights so that
islanders could get to work and school again," she said.</p>
<p>Crossings to Skarholm Island will run every two hours until the end of May and hourly from June 1, the
authority said. Commuters had relied on a temporary landing stage at the fishing harbour since early April,
where crossings were cancelled on nine days because of high winds.</p>
<p>The Harbour Workers Union welcomed the reopening but warned that the breakwater protecting the terminal
still needs a full rebuild. A study commissioned by the regional council in March found that the breakwater
could fail in a storm of similar strength.</p>
<p>The regional council is expected to vote on funding for the breakwater in September. Councillor Tomas
Berg said the vote would decide whether work could start before next winter.</p>
</article><footer>Copyright Harbour Herald</footer></body></html>
"""

STARTUP_WAIT = 60.0  # worker processes load spaCy: a generous wait, not a claim about speed


def run_config(emulator: DiscordEmulator, page_server: PageServer, tmp_path: Path) -> Path:
    config = tmp_path / "briefbot.toml"
    config.write_text(
        f"""
[fetch]
allow_private_networks = ["{page_server.network}"]
[briefing]
workers = 1
[store]
url = "sqlite:///{tmp_path / "bot.sqlite3"}"
[discord]
message_content_intent = true
api_base_url = "{emulator.api_base}"
gateway_url = "{emulator.gateway_url}"
""",
        encoding="utf-8",
    )
    return config


async def test_briefbot_run_replies_to_a_pasted_link_end_to_end(
    discord_emulator: DiscordEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    link = page_server.page("/local/ferry-terminal-reopens", ARTICLE_PAGE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env["DISCORD_TOKEN"] = discord_emulator.token
    briefbot = Path(sys.executable).with_name("briefbot")
    config = run_config(discord_emulator, page_server, tmp_path)
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            briefbot, "run", "--config", str(config), "-v",
            cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=stderr, stderr=stderr,
        )  # fmt: skip
        try:
            await discord_emulator.wait_until_ready(STARTUP_WAIT)
            general = discord_emulator.channel_ids["general"]
            asked = await discord_emulator.send_message(general, f"Good news for commuters: {link}")
            reply = (await discord_emulator.wait_for(lambda: discord_emulator.messages, STARTUP_WAIT))[0]
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), STARTUP_WAIT)
    logs = (tmp_path / "stderr.log").read_text(encoding="utf-8", errors="replace")
    assert reply["message_reference"]["message_id"] == asked["id"], logs
    embed = reply["embeds"][0]
    assert embed["title"] == "Westhaven ferry terminal reopens after storm repairs"
    assert embed["url"] == link
    assert "ferry terminal" in embed["description"]
    assert {field["name"] for field in embed["fields"]} >= {"Key actors", "Key dates"}
    assert code == 0, logs
    assert discord_emulator.token not in logs


async def test_topics_command_subscribes_the_channel(
    discord_emulator: DiscordEmulator, start_bot: Any
) -> None:
    bot = await start_bot()
    general = discord_emulator.channel_ids["general"]
    done = await discord_emulator.send_slash_command(
        "brief-topics", {"action": "subscribe", "value": "floods -sports"}, channel_id=general,
        permissions=MANAGER_PERMISSIONS,
    )  # fmt: skip
    await discord_emulator.wait_for(lambda: done.edits)
    await bot.idle()
    [subscription] = await bot.store.subscriptions("discord", str(general))
    assert subscription.query == "floods -sports"
    assert replies(discord_emulator, general)[0]["content"].startswith("Subscribed (#1)")
    refused = await discord_emulator.send_slash_command(
        "brief-topics", {"action": "unsubscribe", "value": "1"}, channel_id=general
    )  # a member without Manage Channels: Discord hides the command, and the bot checks too
    await discord_emulator.wait_for(lambda: refused.edits)
    assert "Only people who manage this channel" in refused.edits[-1]["content"]
    assert len(await bot.store.subscriptions()) == 1
