"""Topic alerts as a user sees them (issue 13): the real `briefbot run` with the Slack emulator, a page server
and three RSS feeds on 127.0.0.1. Two channels follow "North Korea" on their own feeds; the same story breaks
on all three. Each channel gets it once, briefed from its own outlet, and only its own "also reported by"
line grows; every feed was empty when added, and the story only says "North Korean" in its summary."""

import asyncio
import signal
from pathlib import Path

from botprocess import alert_posts, start_slack_bot
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer

from bot.store import Store

WAIT = 120  # generous waits, not timing assertions: the worker loads the NLP model first
ARTICLE = """<html><head><title>Missile flies over Hokkaido{outlet}</title></head><body><article>
<h1>Missile flies over Hokkaido</h1>
<p>A North Korean ballistic missile flew over the northern Japanese island of Hokkaido on Tuesday morning,
setting off sirens and text alerts that told residents to take shelter, the Japanese government said.</p>
<p>It was the first North Korean launch over Japan in five years. Prime Minister Fumio Kishida called it
reckless and said Tokyo would respond together with its allies after an emergency meeting of ministers.</p>
<p>The missile travelled about 4,600 kilometres before falling into the Pacific Ocean, officials in Tokyo
said, the longest distance ever flown by a North Korean test missile. No damage was reported.</p>
<p>In Seoul, South Korea's military said it had tracked the launch from a site near the border with China
and that its forces and those of the United States had raised their readiness.</p>
</article></body></html>"""


def story(link: str) -> Entry:
    return Entry(
        "North Korea fires missile over Japan",
        link,
        summary="The launch set off sirens in Hokkaido early on Tuesday.",
    )


async def test_each_channel_gets_the_story_once_from_its_own_feeds(
    slack_emulator: SlackEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    slack = slack_emulator
    slack.add_channel("C0NEWS", "news")
    pages = {
        name: page_server.page(f"/{name}.html", ARTICLE.format(outlet=f" | {name.title()}"))
        for name in ("wire", "courier", "daily")
    }
    serving: dict[str, list[Entry]] = {name: [] for name in pages}  # every feed is empty when added
    feeds = FeedServer(page_server)
    urls = {name: feeds.feed(f"/{name}.xml", lambda _n, n=name: rss20(n, serving[n])) for name in pages}
    db = tmp_path / "bot.sqlite3"
    async with await Store.open(db) as store:
        for channel, names in (("C0GENERAL", ["wire"]), ("C0NEWS", ["courier", "daily"])):
            await store.add_subscription(
                "slack", channel, '"North Korea"', created_by="U0ADMIN", created_at=0.0, digest=None
            )
            for name in names:
                await store.add_channel_feed("slack", channel, urls[name], added_by="U0ADMIN", at=0.0)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "sqlite:///{db}"\n'
        "[alerts]\ndefault_feeds = []\npoll_interval_seconds = 0.5\nretry_seconds = 0.5\n"
        "[briefing]\nworkers = 1\n"
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
    )
    log = tmp_path / "bot.log"

    def polled(name: str) -> int:
        return sum(request.path == f"/{name}.xml" for request in page_server.requests)

    bot = await start_slack_bot(config, slack, log)
    try:
        async with asyncio.timeout(WAIT):
            await slack.wait_for_socket(timeout=WAIT)
            while not all(polled(name) for name in pages):  # noqa: ASYNC110 - the (empty) baselines
                await asyncio.sleep(0.05)
            serving["wire"] = [story(pages["wire"])]
            serving["courier"] = [story(pages["courier"])]
            await slack.wait_for_calls("chat.postMessage", 2, timeout=WAIT)
            # A third outlet, read by #news only: its alert gains the link; #general's does not.
            serving["daily"] = [story(pages["daily"])]
            await slack.wait_for_calls("chat.update", 1, timeout=WAIT)
            later = polled("daily") + 3
            while polled("daily") < later:  # noqa: ASYNC110 - a few more polls: nothing more is posted
                await asyncio.sleep(0.05)
    finally:
        bot.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(bot.wait(), 30)
    logs = log.read_text(errors="replace")

    posts = {post["channel"]: post for post in alert_posts(slack)}
    assert len(alert_posts(slack)) == 2 and set(posts) == {"C0GENERAL", "C0NEWS"}, logs[-3000:]
    assert pages["wire"] in str(posts["C0GENERAL"]["blocks"]), "briefed from the channel's own feed"
    assert pages["courier"] in str(posts["C0NEWS"]["blocks"])
    assert "North Korea" in posts["C0NEWS"]["text"]
    [update] = [call.args for call in slack.calls_to("chat.update")]
    assert update["channel"] == "C0NEWS"
    assert pages["daily"] in str(update["blocks"]) and pages["wire"] not in str(update["blocks"])
    assert exit_code == 0, logs[-3000:]
    assert "Traceback" not in logs
