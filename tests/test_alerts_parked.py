"""A channel that disappears, through the real `briefbot run` (Slack emulator, local feed and page server):
its alerts are refused for good, parked after a few tries and logged once, while another channel gets the
same story; when the channel is back, the parked alert is posted there, nothing lost."""

import asyncio
import signal
from pathlib import Path

from botprocess import alert_posts, start_slack_bot
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer

from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_HTML = (ROOT / "examples" / "harbour_tunnel.html").read_text(encoding="utf-8")
WAIT = 120  # generous waits, not timing assertions: the worker loads the NLP model first


def alert_channels(slack: SlackEmulator) -> list[str]:
    return [post["channel"] for post in alert_posts(slack)]


async def test_a_deleted_channel_is_parked_then_served_when_it_is_back(
    slack_emulator: SlackEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    slack = slack_emulator
    article = page_server.page("/tunnel.html", EXAMPLE_HTML)
    serving: list[Entry] = []
    feed = FeedServer(page_server).feed("/feed.xml", lambda _n: rss20("Baltic news", serving))
    db = tmp_path / "bot.sqlite3"
    async with await Store.open(db) as store:
        for channel in ("C0GENERAL", "C0GONE"):  # C0GONE was deleted in Slack after it subscribed
            await store.add_subscription(
                "slack", channel, "tunnel", created_by="U0ADMIN", created_at=0.0, digest=None
            )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "sqlite:///{db}"\n'
        f'[alerts]\ndefault_feeds = ["{feed}"]\npoll_interval_seconds = 0.5\nretry_seconds = 0.2\n'
        "parked_retry_seconds = 1.0\n"
        "[briefing]\nworkers = 1\n"
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
    )
    log = tmp_path / "bot.log"
    bot = await start_slack_bot(config, slack, log)
    try:
        async with asyncio.timeout(WAIT):
            await slack.wait_for_socket(timeout=WAIT)
            while not page_server.requests:  # noqa: ASYNC110 - the (empty) baseline
                await asyncio.sleep(0.05)
            serving.append(Entry("Helsinki and Tallinn to study a rail tunnel", article, summary="A study."))
            while "parked" not in log.read_text(errors="replace"):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            assert alert_channels(slack) == ["C0GENERAL"], "the other channel is not held up"
            tries = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "C0GONE"]
            assert len(tries) == 3, "a few tries, then parked: not retried every round forever"
            async with await Store.open(db) as store:
                assert await store.paused_channels() == {("slack", "C0GONE"): "channel_not_found"}
            slack.add_channel("C0GONE", "gone")  # restored (or the bot invited back)
            # The parked alert is retried, posted, and the channel resumed (logged once the store says so).
            while "resumed" not in log.read_text(errors="replace"):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        bot.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(bot.wait(), 30)
    logs = log.read_text(errors="replace")
    assert alert_channels(slack) == ["C0GENERAL", "C0GONE"], "each once"
    assert logs.count("parked after") == 1, "logged once"
    assert "resumed" in logs
    assert exit_code == 0, logs[-3000:]
    async with await Store.open(db) as store:
        assert await store.pending_deliveries() == [] and await store.paused_channels() == {}
