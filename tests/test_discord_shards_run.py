"""Two real `briefbot run` replicas share one Discord bot: same token, `shard_count = 2`, `shard_ids = [0]`
and `[1]`, against one emulator with a guild on each shard. A `/brief url:<link>` in each guild is answered
exactly once, by the replica that runs that guild's shard.

Which replica did the work shows three ways: the emulator gave the interaction to one gateway session (of
the guild's shard), the page was fetched with that replica's user agent, and its log names its shard."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from botprocess import start_bot
from emulators.discord import DiscordEmulator, SentInteraction
from pageserver import PageServer
from test_discord_adapter import ARTICLE_PAGE

WAIT = 120  # generous waits, not timing assertions: each replica's worker loads the NLP model first
GUILDS = {"Harbour": ("general", "news"), "Bridge": ("general", "news")}  # on shards 0 and 1 of 2
TITLE = "Westhaven ferry terminal reopens after storm repairs"


def user_agent(shard: int) -> str:
    return f"briefbot-test-replica-{shard}"


def replica_config(tmp_path: Path, shard: int, discord: DiscordEmulator, page_server: PageServer) -> Path:
    config = tmp_path / f"replica-{shard}.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\nuser_agent = "{user_agent(shard)}"\n'
        f'[store]\nurl = "sqlite:///{tmp_path / f"replica-{shard}.sqlite3"}"\n'
        "[briefing]\nworkers = 1\n"
        f'[discord]\napi_base_url = "{discord.api_base}"\ngateway_url = "{discord.gateway_url}"\n'
        f"shard_count = 2\nshard_ids = [{shard}]\n",
        encoding="utf-8",
    )
    return config


def sessions_given(discord: DiscordEmulator, sent: SentInteraction) -> list[tuple[int, int]]:
    """The shards of the gateway sessions the interaction was dispatched on."""
    return [
        session.shard
        for session in discord.sessions
        if any(data["token"] == sent.token for data in session.received("INTERACTION_CREATE"))
    ]


def answers(discord: DiscordEmulator, sent: SentInteraction) -> list[str]:
    """Every REST answer to the interaction (its acknowledgement, follow-ups and edits), with statuses."""
    return [f"{entry.route} {entry.status}" for entry in discord.log if sent.token in entry.path]


async def test_two_replicas_each_answer_the_guilds_on_their_shard(
    page_server: PageServer, tmp_path: Path
) -> None:
    async with DiscordEmulator(guilds=GUILDS, shard_count=2) as discord:
        links = {
            g.name: page_server.page(f"/{g.name.lower()}/ferry.html", ARTICLE_PAGE) for g in discord.guilds
        }
        logs = [tmp_path / f"replica-{shard}.log" for shard in (0, 1)]
        replicas = [
            await start_bot(
                replica_config(tmp_path, shard, discord, page_server), logs[shard], discord=discord
            )
            for shard in (0, 1)
        ]
        try:
            async with asyncio.timeout(WAIT):
                await discord.wait_until_ready(WAIT)  # each guild's shard has a session
                sent = {
                    guild.name: await discord.send_slash_command(
                        "brief", {"url": links[guild.name]}, channel_id=guild.channel_ids["general"]
                    )
                    for guild in discord.guilds
                }
                await discord.wait_for(lambda: all(s.edits for s in sent.values()), WAIT)  # "Posted: ..."
                # Commands are answered before discord.py calls the client ready (after its guild wait):
                # each replica says it is ready, on its shard, before it is stopped.
                while not all("ready as" in log.read_text(errors="replace") for log in logs):  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        finally:
            for replica in replicas:
                replica.send_signal(signal.SIGTERM)  # a clean stop finishes whatever is still in flight
            codes = [await asyncio.wait_for(replica.wait(), 60) for replica in replicas]
        texts = [log.read_text(encoding="utf-8", errors="replace") for log in logs]

    assert sorted(session.shard for session in discord.sessions) == [(0, 2), (1, 2)], (
        "one session per replica"
    )
    for guild in discord.guilds:
        shard = discord.shard_of(guild.id)
        asked = sent[guild.name]
        assert sessions_given(discord, asked) == [(shard, 2)], "only the session of the guild's shard"
        assert sorted(answers(discord, asked)) == [
            "PATCH /webhooks/{}/{}/messages/{} 200",
            "POST /interactions/{}/{}/callback 200",
        ], "acknowledged once, told once where the briefing went"
        [briefing] = [m for m in discord.messages if m["channel_id"] == str(guild.channel_ids["general"])]
        assert briefing["embeds"][0]["title"] == TITLE and briefing["embeds"][0]["url"] == links[guild.name]
        path = f"/{guild.name.lower()}/ferry.html"
        fetched_by = {
            {k.lower(): v for k, v in seen.headers.items()}["user-agent"]
            for seen in page_server.requests
            if seen.path == path
        }
        assert fetched_by == {user_agent(shard)}, f"{guild.name} is briefed by the replica of shard {shard}"
        assert f"discord: this replica runs shard(s) {shard} of 2" in texts[shard]
        assert f"in 1 guild(s) on shard(s) {shard} of 2" in texts[shard]
    assert len(discord.messages) == 2, "nothing answered twice"
    assert codes == [0, 0], texts
    assert not any("Traceback" in text for text in texts), texts
