"""The operator's endpoint (`[ops] listen`): /healthz and Prometheus /metrics, in-process and on the real
`briefbot run` while it briefs pasted links and polls a feed."""

import asyncio
import signal
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from botprocess import start_slack_bot
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from feedserver import FeedServer, rss20
from pageserver import PageServer
from prometheus_client.parser import text_string_to_metric_families
from test_alerts_across_channels import ARTICLE

from bot.config import ConfigError, OpsSettings
from bot.ops import ops_app

WAIT = 120


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_listen_is_host_and_port_or_off() -> None:
    assert OpsSettings().address is None
    assert OpsSettings("127.0.0.1:9464").address == ("127.0.0.1", 9464)
    assert OpsSettings("[::1]:9464").address == ("::1", 9464)
    for bad in ("9464", "localhost", "127.0.0.1:99999", "127.0.0.1:http"):
        with pytest.raises(ConfigError, match=r"ops\.listen"):
            OpsSettings(bad)


async def test_healthz_is_503_while_a_part_is_down_and_metrics_are_prometheus_text() -> None:
    parts = {"slack": True, "discord": True}
    async with TestClient(TestServer(ops_app(lambda: dict(parts)))) as client:
        healthy = await client.get("/healthz")
        assert healthy.status == 200 and await healthy.json() == {"ok": True, "parts": parts}
        parts["discord"] = False
        down = await client.get("/healthz")
        assert down.status == 503 and (await down.json())["parts"]["discord"] is False
        metrics = await client.get("/metrics")
        assert metrics.headers["Content-Type"].startswith("text/plain; version=")
        names = {name for name, _ in samples(await metrics.text())}
        assert {"briefbot_alert_queue_depth", "briefbot_briefings_in_flight"} <= names
        assert (await client.get("/")).status == 404


async def test_the_running_bot_counts_what_it_does(
    slack_emulator: SlackEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    slack = slack_emulator
    slack.add_user("U0ADMIN", "ada", is_admin=True)
    article = page_server.page("/article.html", ARTICLE.format(outlet=""))
    gone = page_server.url("/gone.html")
    feed = FeedServer(page_server).feed("/feed.xml", rss20("Wire", []))
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
        f'[alerts]\ndefault_feeds = ["{feed}"]\npoll_interval_seconds = 0.5\n'
        "[briefing]\nworkers = 1\n"
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
        f'[ops]\nlisten = "127.0.0.1:{port}"\n'
    )
    log = tmp_path / "bot.log"
    bot = await start_slack_bot(config, slack, log)
    try:
        async with asyncio.timeout(WAIT), aiohttp.ClientSession(f"http://127.0.0.1:{port}") as ops:
            await slack.wait_for_socket(timeout=WAIT)
            await slack.send_slash_command("subscribe floods", "C0GENERAL", "U0ADMIN")  # polls the feed
            await slack.send_event(slack.message_event("C0GENERAL", "U0ALICE", f"look <{article}>"))
            await slack.send_event(slack.message_event("C0NEWS", "U0BOB", f"and <{gone}>"))
            await slack.wait_until(
                lambda: (
                    any("Missile flies over Hokkaido" in str(c.args) for c in slack.posts)
                    and bool(slack.calls_to("chat.postEphemeral"))
                ),  # the link that was not found
                timeout=WAIT,
            )
            while True:  # the feed polled at least twice, whatever order things happened in
                async with ops.get("/metrics") as response:
                    scraped = samples(await response.text())
                if scraped.get(("briefbot_feed_polls_total", (("result", "ok"),)), 0) >= 2:
                    break
                await asyncio.sleep(0.2)
            async with ops.get("/healthz") as response:
                health = (response.status, await response.json())
    finally:
        bot.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(bot.wait(), 30)
    logs = log.read_text(errors="replace")
    assert health == (200, {"ok": True, "parts": {"slack": True}}), logs[-2000:]
    assert scraped[("briefbot_briefings_total", (("outcome", "ok"),))] == 1
    assert scraped[("briefbot_briefings_total", (("outcome", "not_found"),))] == 1
    assert scraped[("briefbot_briefing_seconds_count", ())] == 2
    assert scraped[("briefbot_briefings_in_flight", ())] == 0
    assert scraped[("briefbot_alert_queue_depth", ())] == 0
    assert exit_code == 0, logs[-2000:]
