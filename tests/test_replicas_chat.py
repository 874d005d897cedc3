"""Several `briefbot run` replicas on one PostgreSQL (issue 15), as Slack sees them in HTTP mode behind a
load balancer: each event goes to one replica. A link pasted in five channels at once is fetched and briefed
once; one person's rate limit holds across the replicas."""

import asyncio
from pathlib import Path

import pytest
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from pageserver import PageServer
from test_alerts_across_channels import ARTICLE
from test_slack_once import briefbot_run, free_port

from bot.store import Store

WAIT = 120
CHANNELS = [f"C0ROOM{n}" for n in range(5)]


def replica_config(tmp_path: Path, name: str, slack: SlackEmulator, network: str) -> Path:
    """One replica's config: its own port; the store comes from BRIEFBOT_DATABASE_URL, shared by all."""
    config = tmp_path / f"{name}.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{network}"]\n'
        "[chat]\nuser_burst = 2\nuser_briefings_per_minute = 0.5\n"
        "[alerts]\ndefault_feeds = []\n"
        "[briefing]\nworkers = 1\n"
        f'[slack]\nmode = "http"\napi_base_url = "{slack.base_url}"\n'
        f'http_host = "127.0.0.1"\nhttp_port = {free_port()}\n',
        encoding="utf-8",
    )
    return config


def briefed(slack: SlackEmulator, page: str) -> list[str]:
    """The channels a briefing of `page` was posted in."""
    return [
        c.args["channel"]
        for c in slack.posts
        if c.args.get("thread_ts") and page in str(c.args.get("blocks"))
    ]


async def test_replicas_share_the_briefing_of_a_link_and_the_rate_limits(
    slack_emulator: SlackEmulator,
    page_server: PageServer,
    postgres_store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack = slack_emulator
    for channel in CHANNELS:
        slack.add_channel(channel, channel.lower())
    pages = {name: page_server.page(f"/{name}.html", ARTICLE.format(outlet=f" | {name}")) for name in "abcd"}
    async with await Store.open(postgres_store_url, migrate=True):
        pass  # what `briefbot migrate` does before replicas start on PostgreSQL
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", postgres_store_url)
    network = str(page_server.network)
    configs = [replica_config(tmp_path, name, slack, network) for name in ("first", "second")]
    async with (
        briefbot_run(slack, configs[0], tmp_path / "first.log", mode="http") as first,
        briefbot_run(slack, configs[1], tmp_path / "second.log", mode="http") as second,
    ):
        urls = [await first.listening(), await second.listening()]

        async def paste(n: int, user: str, channel: str, page: str) -> None:  # the load balancer's pick: n
            event = slack.message_event(channel, user, f"look <{page}>")
            response = await slack.signed_request(urls[n % 2], slack.event_callback(event))
            assert response.status == 200

        async with asyncio.timeout(WAIT):
            # Five people paste the same link in five channels at once, to both replicas.
            await asyncio.gather(
                *(paste(n, f"U0P{n}", channel, pages["a"]) for n, channel in enumerate(CHANNELS))
            )
            await slack.wait_until(lambda: len(briefed(slack, pages["a"])) >= 5, timeout=WAIT)
            # One person pastes three links, to the replicas in turn: two at once is their limit, everywhere.
            for n, name in enumerate("bcd"):
                await paste(n, "U0ALICE", CHANNELS[n], pages[name])
                if n < 2:
                    await slack.wait_until(lambda name=name: bool(briefed(slack, pages[name])), timeout=WAIT)
            await first.wait_for_log(lambda ms: any("rate limit: dropping" in m for m in ms), "the drop")

    fetched = [r.path for r in page_server.requests]
    assert sorted(briefed(slack, pages["a"])) == sorted(CHANNELS), "each channel answered once"
    assert fetched.count("/a.html") == 1, "the link was fetched and briefed once for all five"
    assert briefed(slack, pages["d"]) == [], "the third link within the burst was dropped"
    assert fetched.count("/d.html") == 0
