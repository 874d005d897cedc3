"""The operator's endpoint (`[ops] listen`): /healthz and Prometheus /metrics, in-process and on the real
`briefbot run` while it briefs pasted links and polls a feed, and on a replica whose store holds alerts that
another replica has claimed: the queue metrics are the whole cluster's, read from the store."""

import asyncio
import math
import signal
import socket
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from botprocess import alert_posts, start_slack_bot
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from feedserver import FeedServer, rss20
from pageserver import PageServer
from prometheus_client.parser import text_string_to_metric_families
from test_alerts_across_channels import ARTICLE

from bot.alerts.model import Delivery
from bot.chat.model import Notice
from bot.config import ConfigError, OpsSettings
from bot.ops import ops_app
from bot.store import Store

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


QUEUE_DEPTH = ("briefbot_alert_queue_depth", ())
QUEUE_AGE = ("briefbot_alert_queue_oldest_seconds", ())


def alert(key: str, channel: str, created_at: float) -> Delivery:
    return Delivery(key, "slack", channel, Notice(f"Alert {key}."), created_at)


async def test_healthz_is_503_while_a_part_is_down_and_metrics_are_prometheus_text(tmp_path: Path) -> None:
    parts = {"slack": True, "discord": True}
    store = await Store.open(tmp_path / "bot.sqlite3")
    async with store, TestClient(TestServer(ops_app(lambda: dict(parts), store))) as client:
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


async def test_the_queue_metrics_count_every_replicas_alerts_from_the_store(store: Store) -> None:
    """Queued alerts another replica holds count, parked and delivered ones do not; the age is the oldest
    queued alert's, whoever queued it."""
    now = time.time()
    for key, channel, age in [("a", "C1", 100.0), ("b", "C1", 40.0), ("c", "C1", 500.0), ("d", "C2", 900.0)]:
        await store.enqueue_delivery(alert(key, channel, now - age))
    await store.mark_delivered("c", at=now)
    await store.park_channel("slack", "C2", "channel_not_found", at=now)
    assert len(await store.claim_deliveries("elsewhere", now=now, seconds=3600)) == 2
    async with TestClient(TestServer(ops_app(dict, store))) as client:
        before = time.time()
        queued = samples(await (await client.get("/metrics")).text())
        after = time.time()
        for key in ("a", "b"):
            await store.mark_delivered(key, at=after)
        emptied = samples(await (await client.get("/metrics")).text())
    assert queued[QUEUE_DEPTH] == 2
    assert before - (now - 100.0) <= queued[QUEUE_AGE] <= after - (now - 100.0)
    assert (emptied[QUEUE_DEPTH], emptied[QUEUE_AGE]) == (0, 0)


async def test_a_scrape_says_the_queue_is_unknown_when_the_store_does_not_answer(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "bot.sqlite3")
    await store.enqueue_delivery(alert("a", "C1", time.time()))
    async with TestClient(TestServer(ops_app(dict, store))) as client:
        before = samples(await (await client.get("/metrics")).text())
        await store.close()  # as if the database went away
        response = await client.get("/metrics")
        after = samples(await response.text())
    assert before[QUEUE_DEPTH] == 1
    assert response.status == 200, "the rest of the scrape is still served"
    assert math.isnan(after[QUEUE_DEPTH]) and math.isnan(after[QUEUE_AGE]), "not the last value read"


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


async def test_a_replica_shows_the_alerts_another_replica_holds_until_it_posts_them_itself(
    slack_emulator: SlackEmulator, postgres_store_url: str, tmp_path: Path
) -> None:
    """Three alerts queued 10 minutes ago are claimed by a replica that then goes quiet: the running bot
    cannot take them, yet its /metrics shows all three and their age; once the claims are given up it posts
    them and its /metrics says the queue is empty."""
    slack = slack_emulator
    queued_at = time.time() - 600.0
    async with await Store.open(postgres_store_url, migrate=True) as store:
        for n in range(3):
            await store.enqueue_delivery(alert(f"held{n}", "C0GENERAL", queued_at + n))
        held = await store.claim_deliveries("elsewhere", now=time.time(), seconds=3600)
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "{postgres_store_url}"\n'
        "[alerts]\ndefault_feeds = []\nretry_seconds = 0.5\n"
        "[briefing]\nworkers = 1\n"
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
        f'[ops]\nlisten = "127.0.0.1:{port}"\n'
    )
    log = tmp_path / "bot.log"
    bot = await start_slack_bot(config, slack, log)
    try:
        async with asyncio.timeout(WAIT), aiohttp.ClientSession(f"http://127.0.0.1:{port}") as ops:
            await slack.wait_for_socket(timeout=WAIT)
            async with ops.get("/metrics") as response:
                while_held = samples(await response.text())
            posts_while_held = len(alert_posts(slack))
            async with await Store.open(postgres_store_url) as store:
                await store.release_deliveries([d.key for d in held], "elsewhere")
            await slack.wait_until(lambda: len(alert_posts(slack)) >= 3, timeout=WAIT, what="three alerts")
            while True:  # delivered rows are marked right after Slack's answer: scrape until they are
                async with ops.get("/metrics") as response:
                    drained = samples(await response.text())
                if drained[QUEUE_DEPTH] == 0:
                    break
                await asyncio.sleep(0.2)
    finally:
        bot.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(bot.wait(), 30)
    logs = log.read_text(errors="replace")
    assert (len(held), posts_while_held) == (3, 0), logs[-2000:]
    assert while_held[QUEUE_DEPTH] == 3, "the other replica's claims are in the cluster's queue"
    assert while_held[QUEUE_AGE] >= 600.0
    assert drained[QUEUE_AGE] == 0
    assert sorted(post["metadata"]["event_payload"]["key"] for post in alert_posts(slack)) == [
        "held0", "held1", "held2"
    ]  # fmt: skip
    assert exit_code == 0, logs[-2000:]
