"""A stranger pastes a page that would tie up a worker: the real `briefbot run` (Slack emulator, local page
server) answers it with a short `timeout` in every channel it was pasted in, keeps briefing ordinary links in
the others meanwhile and after, and logs a warning, never a traceback."""

import asyncio
import signal
from pathlib import Path

from botprocess import start_slack_bot
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from pageserver import PageServer

from bot.errors import BriefingTimeoutError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_HTML = (ROOT / "examples" / "harbour_tunnel.html").read_text(encoding="utf-8")
# 4 MB, under the download cap: half a million paragraphs, seconds of work even cut to the tag cap.
HUGE_HTML = "<html><body>" + "<p>a</p>" * 500_000 + "</body></html>"
WAIT = 120  # generous waits, not timing assertions: the worker loads the NLP model first


async def test_a_page_over_the_time_limit_is_answered_in_each_channel_and_the_bot_goes_on(
    slack_emulator: SlackEmulator, page_server: PageServer, tmp_path: Path
) -> None:
    slack = slack_emulator
    for channel, name in (("C0RANDOM", "random"), ("C0NEWS", "news")):
        slack.add_channel(channel, name)
    huge = page_server.page("/everything.html", HUGE_HTML)
    huge_copy = page_server.page("/everything-again.html", HUGE_HTML)
    article = page_server.page("/tunnel.html", EXAMPLE_HTML)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
        "[briefing]\nworkers = 2\ntime_limit_seconds = 1.0\n"
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
    )
    log = tmp_path / "bot.log"
    bot = await start_slack_bot(config, slack, log)
    try:
        async with asyncio.timeout(WAIT):
            await slack.wait_for_socket(timeout=WAIT)
            pasted = [
                slack.message_event("C0GENERAL", "U0ALICE", f"look <{huge}>"),
                slack.message_event("C0RANDOM", "U0BOB", f"same here <{huge_copy}>"),
                slack.message_event("C0NEWS", "U0CAROL", f"tunnel news <{article}>"),
            ]
            for event in pasted:
                await slack.send_event(event)
            await slack.wait_for_posts(1, timeout=WAIT)
            notices = await slack.wait_for_calls("chat.postEphemeral", 2, timeout=WAIT)
            # Afterwards the pool is whole again: the same article in another channel is briefed.
            later = slack.message_event("C0GENERAL", "U0ALICE", f"and this <{article}?again>")
            await slack.send_event(later)
            posts = await slack.wait_for_posts(2, timeout=WAIT)
    finally:
        bot.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(bot.wait(), 30)
    logs = log.read_text(errors="replace")

    # Each person who pasted the page is told, privately, in their own channel; nothing is posted for it.
    told = {(n.args["channel"], n.args["user"]): n.args["text"] for n in notices}
    assert told == {
        ("C0GENERAL", "U0ALICE"): BriefingTimeoutError.default_message,
        ("C0RANDOM", "U0BOB"): BriefingTimeoutError.default_message,
    }
    by_thread = {post.args.get("thread_ts"): post.args for post in posts}
    assert set(by_thread) == {pasted[2]["ts"], later["ts"]}
    for event in (pasted[2], later):
        assert "tunnel" in by_thread[event["ts"]]["text"].lower()
    assert exit_code == 0, logs[-3000:]
    assert logs.count("over its time limit") == 2, logs[-3000:]
    assert "Traceback" not in logs and '"level": "error"' not in logs, logs[-3000:]
