"""Never lose, never double: kill -9 the real bot while an alert is being posted, restart it, and check the
alert was posted exactly once (Slack emulator, local feed and page server, the real `briefbot run`)."""

import asyncio
import signal
from pathlib import Path

from botprocess import alert_posts, start_slack_bot
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer
from processes import descendants, still_running

from bot.alerts.model import Delivery, StoryAlert
from bot.models import Briefing
from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_HTML = (ROOT / "examples" / "harbour_tunnel.html").read_text(encoding="utf-8")
WAIT = 120  # generous waits, not timing assertions: worker processes load the NLP model first


async def pending(db: Path) -> int:
    async with await Store.open(db) as store:
        return len(await store.pending_deliveries())


def feed_polls(page_server: PageServer) -> int:
    return sum(request.path == "/feed.xml" for request in page_server.requests)


def alert_keys(slack: SlackEmulator) -> list[str]:
    return [post["metadata"]["event_payload"]["key"] for post in alert_posts(slack)]


async def test_kill_9_mid_delivery_loses_nothing_and_posts_once(
    slack_emulator: SlackEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    slack = slack_emulator
    article = page_server.page("/tunnel.html", EXAMPLE_HTML)
    serving = [
        Entry("Ferry timetable for the winter", "https://ferries.example/winter", summary="Fewer sailings.")
    ]
    feed = FeedServer(page_server).feed("/feed.xml", lambda _n: rss20("Baltic news", serving))
    db = tmp_path / "bot.sqlite3"
    async with await Store.open(db) as store:
        await store.add_subscription(
            "slack", "C0GENERAL", "tunnel", created_by="U0ADMIN", created_at=0.0, digest=None
        )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "sqlite:///{db}"\n'
        f'[alerts]\ndefault_feeds = ["{feed}"]\npoll_interval_seconds = 0.5\nretry_seconds = 0.5\n'
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
    )
    log = tmp_path / "bot.log"

    bot = await start_slack_bot(config, slack, log)
    async with asyncio.timeout(WAIT):
        await slack.wait_for_socket(timeout=WAIT)
        while len(page_server.requests) < 2:  # noqa: ASYNC110 - the feed's baseline poll is behind us
            await asyncio.sleep(0.05)
        slack.hold("chat.postMessage")  # Slack records the post; its answer never reaches the bot
        serving.insert(
            0, Entry("Helsinki and Tallinn to study a rail tunnel", article, summary="Tunnel study.")
        )
        await slack.wait_for_calls("chat.postMessage", 1, timeout=WAIT)
    helpers = descendants(bot.pid)  # briefing workers, their forkserver, the resource tracker
    assert len(helpers) >= 3, helpers
    bot.send_signal(signal.SIGKILL)
    await bot.wait()
    orphans = await still_running(helpers, wait=30)
    assert not orphans, f"processes of the killed bot are still running: {orphans}"
    slack.release("chat.postMessage")
    assert await pending(db) == 1, "the alert was queued before posting and is not marked delivered"
    [key] = alert_keys(slack)

    restarted = await start_slack_bot(config, slack, log)
    try:
        async with asyncio.timeout(WAIT):
            while await pending(db):  # noqa: ASYNC110 - the restarted bot replays its outbox
                await asyncio.sleep(0.2)
            # Three more polls of the feed after the replay (counted, not timed): nothing more may be posted.
            later = feed_polls(page_server) + 3
            while feed_polls(page_server) < later:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        restarted.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(restarted.wait(), 30)
    assert alert_keys(slack) == [key], "posted once, before the crash; the replay found it in the history"
    assert exit_code == 0, log.read_text(errors="replace")[-3000:]
    assert "Ferry timetable" not in str([c.args.get("text") for c in slack.calls_to("chat.postMessage")])


async def test_kill_9_before_posting_still_delivers(
    slack_emulator: SlackEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    slack = slack_emulator
    db = tmp_path / "bot.sqlite3"
    async with await Store.open(db) as store:  # what a killed bot left: an alert queued, never posted
        briefing = {"title": "Queued before the crash", "url": "https://news.example/a", "published": None,
                    "summary": ["It happened."], "actors": [], "dates": []}  # fmt: skip
        alert = StoryAlert(1, "floods", Briefing.from_dict(briefing))
        await store.enqueue_delivery(Delivery("1:story-a", "slack", "C0GENERAL", alert, 1.0))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n[alerts]\nretry_seconds = 0.5\n'
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
    )
    bot = await start_slack_bot(config, slack, tmp_path / "bot.log")
    try:
        async with asyncio.timeout(WAIT):
            while await pending(db):  # noqa: ASYNC110 - replayed once the adapter is connected
                await asyncio.sleep(0.2)
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), 30)
    assert alert_keys(slack) == ["1:story-a"]
    [post] = [c for c in slack.posts if isinstance(c.args.get("metadata"), dict)]
    assert "Queued before the crash" in post.args["text"]
