"""The console adapter, in-process and through the real `briefbot run` with no tokens configured."""

import asyncio
import io
import os
import sys
from pathlib import Path

from fakes import FakeBriefer, text_briefing
from pageserver import PageServer

from adapters.console import ConsoleAdapter
from bot.chat.core import ChatCore
from bot.config import ChatSettings
from bot.models import Briefing
from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))
EXAMPLE_HTML = (ROOT / "examples" / "harbour_tunnel.html").read_text(encoding="utf-8")


def echo(url: str) -> Briefing:
    return Briefing(title="Echo", url=url, published=None, summary=["It happened."])


async def test_console_translates_lines(tmp_path: Path) -> None:
    lines = iter(["/brief help\n", "look https://news.example/a\n", "/subscribe x\n", "\n", ""])
    out = io.StringIO()

    async def read_line() -> str:
        return next(lines)

    async with await Store.open(tmp_path / "db.sqlite3") as store:
        core = ChatCore(FakeBriefer(echo, answer_text=text_briefing()), store, ChatSettings())
        await ConsoleAdapter(read_line=read_line, out=out).run(core, asyncio.Event())
    text = out.getvalue()
    assert "[only you can see this] *briefbot* turns news articles" in text
    assert "Echo\nhttps://news.example/a\n\n• It happened." in text
    assert "Unknown command /subscribe" in text


async def test_briefbot_run_without_tokens_is_the_console(page_server: PageServer, tmp_path: Path) -> None:
    url = page_server.page("/tunnel.html", EXAMPLE_HTML)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    process = await asyncio.create_subprocess_exec(
        BRIEFBOT, "run", "--config", str(config), env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    script = f"/brief help\nHave you seen {url} ?\n/brief auto off\n{url}\n/brief auto\n"
    stdout, stderr = await asyncio.wait_for(process.communicate(script.encode()), timeout=300)
    assert process.returncode == 0, stderr.decode()
    out = stdout.decode()
    assert out.startswith("Paste a link, or type /brief help.")
    assert out.count("Helsinki and Tallinn sign deal to study undersea rail tunnel") == 1
    assert "Key actors:" in out
    assert "will no longer brief links" in out
    assert "Automatic briefings of pasted links are off in this channel." in out
    assert "Traceback" not in stderr.decode()


async def test_topic_alert_through_the_real_bot(page_server: PageServer, tmp_path: Path) -> None:
    from feedserver import Entry, FeedServer, rss20  # noqa: PLC0415 - only this test serves feeds

    article = page_server.page("/tunnel.html", EXAMPLE_HTML)
    old = Entry("Ferry timetable for the winter", "https://ferries.example/winter", summary="Fewer sailings.")
    news = Entry(
        "Helsinki and Tallinn agree to study a rail tunnel", article, summary="A tunnel study is agreed."
    )
    serving = [old]
    feed = FeedServer(page_server).feed("/feed.xml", lambda _n: rss20("Baltic news", serving))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
        "[alerts]\ndefault_feeds = []\npoll_interval_seconds = 0.5\n"
        f'[alerts.sources]\nbaltic-news = "{feed}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    process = await asyncio.create_subprocess_exec(
        BRIEFBOT, "run", "--config", str(config), env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin and process.stdout
    # A source by the name the config gives it, as people add catalogue sources: no feed URL to type.
    process.stdin.write(b"/brief source add baltic-news\n/brief subscribe tunnel OR ferry\n")
    await process.stdin.drain()
    out = ""
    async with asyncio.timeout(120):  # a wait for the worker to load the models, not a timing assertion
        while "Subscribed (#1)" not in out:
            out += (await process.stdout.readline()).decode()
        while len(page_server.requests) < 2:  # noqa: ASYNC110 - polls of the feed: the baseline is taken
            await asyncio.sleep(0.05)
        serving.insert(0, news)
        while "Also reported by" not in out and "Key actors" not in out:
            out += (await process.stdout.readline()).decode()
    process.stdin.close()
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert "New story for `ferry OR tunnel` (#1)" in out or "New story for `tunnel OR ferry` (#1)" in out
    assert "Helsinki and Tallinn sign deal to study undersea rail tunnel" in out
    assert "Ferry timetable" not in out, "items already in the feed when it was added never alert"
