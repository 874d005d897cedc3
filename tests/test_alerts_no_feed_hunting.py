"""Topic alerts with no feed hunting, and mentions (issue 13), as users see them: one real `briefbot run`
serving Slack and Discord at once (both emulators), subscribed through the platforms' own commands. Every
channel watches a named source from the config's catalogue; every distinct query is also searched on a
local news search engine whose items link through its redirector. Two stories turn up in the search
results, one with its article gone; later the named source reports the first one too.

Each channel gets each matching story once, pinging only whom its subscription said, briefed from the
publisher's article (never the redirector), or from the search item itself when the article can't be had;
the named source's report joins the alert's "also reported by" line without pinging anyone again."""

import asyncio
import signal
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from botprocess import alert_posts, start_bot
from emulators.discord import (  # noqa: F401 (registers the fixture)
    MANAGER_PERMISSIONS,
    DiscordEmulator,
    discord_emulator_fixture,
)
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer
from test_alerts_across_channels import ARTICLE

WAIT = 120  # generous waits, not timing assertions: the worker loads the NLP model first
ROLE = "777000000000000001"
MISSILE = Entry(
    "North Korea fires missile over Japan",
    None,  # each outlet's own link
    summary="The launch set off sirens in Hokkaido early on Tuesday.",
)
TALKS = Entry(
    "North Korea calls off talks with Seoul",
    None,
    summary="Pyongyang said it would not attend the meeting planned for next week at the border.",
)


def slack_notices(slack: SlackEmulator) -> list[str]:
    """What the bot answered Slack's slash commands, in the channel or privately."""
    posted = [call.args.get("text", "") for call in slack.posts if "metadata" not in call.args]
    return [*posted, *(str(response.body.get("text", "")) for response in slack.responses)]


def discord_alerts(discord: DiscordEmulator) -> dict[str, list[dict[str, Any]]]:
    """The alert messages Discord accepted, by channel name."""
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in discord.channel_ids}
    for name, cid in discord.channel_ids.items():
        for entry in discord.log:
            posted = entry.route == "POST /channels/{}/messages" and entry.status == 200
            if (
                posted
                and f"/channels/{cid}/" in entry.path
                and "New story for" in (entry.body.get("content") or "")
            ):
                found[name].append(entry.body)
    return found


@dataclass
class Sources:
    """A named source and a search engine on the page server, both empty until the test publishes."""

    server: PageServer
    wire: list[Entry] = field(default_factory=list)
    results: list[Entry] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)  # the queries the engine was asked for

    def serve(self) -> tuple[str, str, FeedServer]:
        """The wire feed's URL, the search template, and the feed server counting polls."""

        async def search(request: web.Request) -> web.StreamResponse:
            self.searched.append(request.query.get("q", ""))
            return web.Response(body=rss20("Search", self.results), content_type="application/rss+xml")

        feeds = FeedServer(self.server)
        wire_feed = feeds.feed("/wire.xml", lambda _n: rss20("Wire", self.wire))
        return wire_feed, self.server.add("/search.xml", search) + "?q={query}&hl=en", feeds

    def redirector(self, article: str) -> str:  # how the search engine links its results
        return self.server.url(f"/out?url={quote(article, safe='')}&sig=1")


def write_config(tmp_path: Path, sources: Sources, slack: SlackEmulator, discord: DiscordEmulator) -> Path:
    wire_feed, search_template, _ = sources.serve()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{sources.server.network}"]\n'
        f'[store]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
        '[alerts]\ndefault_feeds = ["localwire"]\npoll_interval_seconds = 0.5\nretry_seconds = 0.5\n'
        f'search_feeds = ["{search_template}"]\n'
        f'[alerts.sources]\nlocalwire = "{wire_feed}"\n'
        "[briefing]\nworkers = 1\n"
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
        f'[discord]\napi_base_url = "{discord.api_base}"\ngateway_url = "{discord.gateway_url}"\n'
    )
    return config


async def subscribe_everywhere(slack: SlackEmulator, discord: DiscordEmulator) -> None:
    """Subscriptions as people make them, with the platforms' own mention markup; returns once confirmed."""
    await slack.send_slash_command(
        'subscribe "North Korea" --mention <!subteam^S0ONCALL|@oncall>', "C0GENERAL", "U0ADMIN"
    )
    await slack.send_slash_command('subscribe "North Korea" missile --mention <!here>', "C0NEWS", "U0ADMIN")
    for channel, value in (("news", f'"North Korea" --mention <@&{ROLE}>'), ("general", '"north korea"')):
        await discord.send_slash_command(
            "brief-topics", {"action": "subscribe", "value": value},
            channel_id=discord.channel_ids[channel], permissions=MANAGER_PERMISSIONS,
        )  # fmt: skip
    await discord.wait_for(
        lambda: sum("Subscribed (#" in str(m.get("content")) for m in discord.messages) == 2, WAIT
    )
    await slack.wait_until(lambda: len(slack_notices(slack)) >= 2, timeout=WAIT)


async def ask_both_to_brief(slack: SlackEmulator, discord: DiscordEmulator, link: str) -> None:
    """ "@briefbot can you brief <link> please?" on both platforms: the link is briefed, not the sentence."""
    posts_before, messages_before = len(slack.posts), len(discord.messages)
    await slack.send_event(slack.app_mention_event("C0NEWS", "U0ALICE", f"can you brief <{link}> please?"))
    await discord.send_message(
        discord.channel_ids["general"], f"<@{discord.bot_user_id}> can you brief {link} please?"
    )
    await slack.wait_until(lambda: len(slack.posts) > posts_before, timeout=WAIT)
    await discord.wait_for(lambda: len(discord.messages) > messages_before, WAIT)
    [answer] = [call.args for call in slack.posts[posts_before:]]
    assert answer.get("thread_ts") and "Missile flies over Hokkaido" in str(answer["blocks"])
    [reply] = discord.messages[messages_before:]
    assert reply["embeds"][0]["title"] == "Missile flies over Hokkaido", reply


def discord_edits(discord: DiscordEmulator) -> list[dict[str, Any]]:
    return [e.body for e in discord.log if e.route.startswith("PATCH /channels/") and e.status == 200]


def check_slack_alerts(slack: SlackEmulator, wire_page: str) -> dict[str, list[dict[str, Any]]]:
    """Each Slack channel's alerts ping its mention; the named source's report edited them in place."""
    slack_posts: dict[str, list[dict[str, Any]]] = {"C0GENERAL": [], "C0NEWS": []}
    for post in alert_posts(slack):
        slack_posts[post["channel"]].append(post)
    assert [len(posts) for posts in slack_posts.values()] == [2, 1], slack.calls
    for post in slack_posts["C0GENERAL"]:
        assert post["text"].startswith("<!subteam^S0ONCALL> New story for")
        assert "<!here>" not in post["text"] and "<!channel>" not in post["text"]
    [news] = slack_posts["C0NEWS"]
    assert news["text"].startswith("<!here> New story")
    assert "Missile flies over Hokkaido" in str(news["blocks"])
    updates = [call.args for call in slack.calls_to("chat.update")]
    assert sorted(u["channel"] for u in updates) == ["C0GENERAL", "C0NEWS"]
    assert all(wire_page in str(u["blocks"]) for u in updates)
    return slack_posts


def check_discord_alerts(discord: DiscordEmulator) -> dict[str, list[dict[str, Any]]]:
    """Each Discord channel's alerts ping only its role (or nobody); edits ping nobody."""
    on_discord = discord_alerts(discord)
    assert [len(on_discord["news"]), len(on_discord["general"])] == [2, 2], on_discord
    for body in on_discord["news"]:
        assert body["content"].startswith(f"<@&{ROLE}> New story")
        assert body["allowed_mentions"]["parse"] == [] and body["allowed_mentions"]["roles"] == [int(ROLE)]
    for body in on_discord["general"]:
        assert "<@&" not in body["content"] and body["allowed_mentions"]["parse"] == []
    edits = discord_edits(discord)
    assert len(edits) == 2 and all("Also reported by" in e["content"] for e in edits)
    assert all(e["allowed_mentions"]["parse"] == [] and not e["allowed_mentions"].get("roles") for e in edits)
    return on_discord


async def test_alerts_from_a_named_source_and_search_feeds_ping_only_whom_they_should(
    slack_emulator: SlackEmulator, discord_emulator: DiscordEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    slack, discord = slack_emulator, discord_emulator
    slack.add_user("U0ADMIN", "ada", is_admin=True)
    slack.add_channel("C0NEWS", "news")
    wire_page = page_server.page("/wire/missile.html", ARTICLE.format(outlet=" | Wire"))
    courier_page = page_server.page("/courier/missile.html", ARTICLE.format(outlet=" | Courier"))
    gone_page = page_server.url("/courier/talks.html")  # 404: the search item is all there is
    sources = Sources(page_server)
    config = write_config(tmp_path, sources, slack, discord)
    log = tmp_path / "bot.log"
    bot = await start_bot(config, log, slack=slack, discord=discord)
    try:
        async with asyncio.timeout(WAIT):
            await slack.wait_for_socket(timeout=WAIT)
            await discord.wait_until_ready(WAIT)
            await discord.wait_for(lambda: discord.commands, WAIT)  # synced at start-up
            await subscribe_everywhere(slack, discord)
            # Two distinct queries, each searched; every source empty on its first poll.
            while len(set(sources.searched)) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            sources.results.append(replace(MISSILE, link=sources.redirector(courier_page)))
            sources.results.append(replace(TALKS, link=sources.redirector(gone_page)))
            # #general, Discord's news and general: both stories; Slack's #news (missile): one.
            await slack.wait_until(lambda: len(alert_posts(slack)) >= 3, timeout=WAIT)
            await discord.wait_for(lambda: sum(map(len, discord_alerts(discord).values())) >= 4, WAIT)
            sources.wire.append(replace(MISSILE, link=wire_page))  # the same story on the named source
            await slack.wait_for_calls("chat.update", 2, timeout=WAIT)
            await discord.wait_for(lambda: len(discord_edits(discord)) >= 2, WAIT)
            await ask_both_to_brief(slack, discord, courier_page)
            later = len(sources.searched) + 6
            while len(sources.searched) < later:  # noqa: ASYNC110 - a few more polls: nothing more is posted
                await asyncio.sleep(0.05)
    finally:
        bot.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(bot.wait(), 30)
    logs = log.read_text(errors="replace")

    confirmations = " ".join(slack_notices(slack))
    assert "mentioning @oncall" in confirmations and "mentioning @here" in confirmations, confirmations
    assert "localwire" in confirmations, "the confirmation names the source it watches"
    assert set(sources.searched) == {'"north korea"', '"north korea" missile'}, "each distinct query"

    slack_posts = check_slack_alerts(slack, wire_page)
    on_discord = check_discord_alerts(discord)
    posted = [str(p["blocks"]) for posts in slack_posts.values() for p in posts]
    posted += [str(body) for bodies in on_discord.values() for body in bodies]
    missile = [alert for alert in posted if "Missile flies over Hokkaido" in alert]
    assert len(missile) == 4 and all(courier_page in alert for alert in missile), "the publisher's article"
    talks = [alert for alert in posted if "calls off talks" in alert]
    assert len(talks) == 3 and all("would not attend the meeting" in alert for alert in talks)
    assert not any(request.path == "/out" for request in page_server.requests), "never fetched the redirector"
    assert exit_code == 0, logs[-3000:]
    assert "Traceback" not in logs
