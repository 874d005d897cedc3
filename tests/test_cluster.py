"""Many replicas, one cluster (issue 15): three real `briefbot run` processes on one PostgreSQL, each with its
own Socket Mode connection to the Slack emulator; five channels follow three feeds on a local page server;
two dozen stories arrive over time. One replica is killed with SIGKILL while Slack holds its post, and is
started again later. Every (channel, story) alert is posted exactly once, and no feed is fetched twice
within one poll interval."""

import asyncio
import itertools
import os
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from botprocess import alert_posts, start_slack_bot
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer
from postgres import execute, run_sync, with_search_path

from bot.store import Store

WAIT = 180  # generous waits per phase, not timing assertions: each replica loads the NLP model first
INTERVAL = 3.0  # seconds between polls of a feed
FEEDS = ("wire", "courier", "daily")
FOLLOWS = {  # channel -> the feeds it follows
    "C0GENERAL": ("wire",),
    "C0HARBOUR": ("courier",),
    "C0PORT": ("daily",),
    "C0SHIPS": ("wire", "courier"),
    "C0DOCKS": FEEDS,
}
STORIES = 24  # story n is on feed FEEDS[n % 3]
CONSONANTS, VOWELS = "bdfgklmnprstvz", "aeiou"


def word(n: int) -> str:
    """A made-up word of its own for each n: stories share no content words, none is another's duplicate."""
    syllables = []
    for _ in range(3):
        n, rest = divmod(n, len(CONSONANTS) * len(VOWELS))
        syllables.append(CONSONANTS[rest // len(VOWELS)] + VOWELS[rest % len(VOWELS)])
    return "".join(syllables)


def story_words(n: int) -> list[str]:
    return [word(n * 12 + k) for k in range(12)]


def article(n: int) -> str:
    words = story_words(n)
    title = f"Harbour {' '.join(w.title() for w in words[:4])}"
    sentences = " ".join(f"The harbour council met {w} officials on Monday about {w}s." for w in words[4:])
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{sentences}</p>"


def entry(n: int, link: str) -> Entry:
    words = story_words(n)
    return Entry(f"Harbour {' '.join(w.title() for w in words[:4])}", link, summary=" ".join(words[4:8]))


@pytest.fixture
def cluster_store(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema for the cluster's one store, migrated (`briefbot migrate`'s job)."""
    schema = f"cluster_{uuid.uuid4().hex[:12]}"
    run_sync(execute(postgres_url, f"CREATE SCHEMA {schema}"))
    url = with_search_path(postgres_url, schema)
    try:
        run_sync(_migrate(url))
        yield url
    finally:
        run_sync(execute(postgres_url, f"DROP SCHEMA {schema} CASCADE"))


async def _migrate(url: str) -> None:
    async with await Store.open(url, migrate=True):
        pass


async def claimer_of(url: str, key: str) -> str:
    async with await Store.open(url) as store:
        [(holder,)] = await store.database.fetchall(
            "SELECT claimed_by FROM outbox WHERE delivery_key = ?", (key,)
        )
        return str(holder)


async def check_output(config: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    check = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("briefbot")), "run", "--check", "--config", str(config),
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await check.communicate()
    return out.decode()


class Newsroom:
    """The feeds and story pages on the page server, what each feed serves now and when it was fetched."""

    def __init__(self, page_server: PageServer, slack: SlackEmulator) -> None:
        self.slack = slack
        self.pages = {n: page_server.page(f"/story-{n:02d}.html", article(n)) for n in range(STORIES)}
        self.serving: dict[str, list[Entry]] = {name: [] for name in FEEDS}
        self.fetched: dict[str, list[float]] = {name: [] for name in FEEDS}
        feeds = FeedServer(page_server)
        self.urls = {name: feeds.feed(f"/{name}.xml", lambda _n, n=name: self._body(n)) for name in FEEDS}

    def _body(self, name: str) -> str:
        self.fetched[name].append(time.monotonic())
        return rss20(name, self.serving[name])

    def expected(self) -> Counter[tuple[str, str]]:
        return Counter(
            (channel, self.pages[n])
            for n in range(STORIES)
            for channel, names in FOLLOWS.items()
            if FEEDS[n % 3] in names
        )

    def posted(self) -> Counter[tuple[str, str]]:
        """(channel, story page) of each alert Slack took."""
        found: Counter[tuple[str, str]] = Counter()
        for post in alert_posts(self.slack):
            shown = str(post.get("blocks")) + post.get("text", "")
            links = [link for link in self.pages.values() if link in shown]
            found[(post["channel"], links[0] if len(links) == 1 else f"unclear: {links}")] += 1
        return found

    async def arrive(self, stories: range) -> None:
        """Each story appears on its feed once the feed has been fetched since the previous one arrived."""
        for n in stories:
            name = FEEDS[n % 3]
            before = len(self.fetched[name])
            self.serving[name].insert(0, entry(n, self.pages[n]))
            while len(self.fetched[name]) <= before:  # noqa: ASYNC110 - counted, not timed
                await asyncio.sleep(0.05)

    async def fetches(self, more: int) -> None:
        """Until each feed has been fetched `more` times again (counted, not timed)."""
        later = {name: len(self.fetched[name]) + more for name in FEEDS}
        while any(len(self.fetched[name]) < later[name] for name in FEEDS):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def write_config(path: Path, store_url: str, page_server: PageServer, slack: SlackEmulator) -> Path:
    path.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "{store_url}"\n'
        f"[alerts]\ndefault_feeds = []\npoll_interval_seconds = {INTERVAL}\nretry_seconds = 0.5\n"
        "claim_seconds = 15.0\n"
        "[briefing]\nworkers = 1\n"
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
    )
    return path


async def test_three_replicas_post_each_alert_once_and_fetch_each_feed_once_per_interval(
    slack_emulator: SlackEmulator, page_server: PageServer, cluster_store: str, tmp_path: Path
) -> None:
    slack = slack_emulator
    for channel in FOLLOWS:
        if channel != "C0GENERAL":
            slack.add_channel(channel, channel.lower()[2:])
    news = Newsroom(page_server, slack)
    async with await Store.open(cluster_store) as store:
        for channel, names in FOLLOWS.items():
            await store.add_subscription(
                "slack", channel, "harbour", created_by="U0ADMIN", created_at=0.0, digest=None
            )
            for name in names:
                await store.add_channel_feed("slack", channel, news.urls[name], added_by="U0ADMIN", at=0.0)
    config = write_config(tmp_path / "config.toml", cluster_store, page_server, slack)
    logs = [tmp_path / f"replica-{n}.log" for n in range(4)]
    bots = [await start_slack_bot(config, slack, logs[n]) for n in range(3)]
    try:
        async with asyncio.timeout(WAIT):
            await slack.wait_until(lambda: slack.open_sockets >= 3, timeout=WAIT, what="three connections")
            while not all(news.fetched.values()):  # noqa: ASYNC110 - the (empty) baselines
                await asyncio.sleep(0.05)
            await news.arrive(range(0, 9))
            await slack.wait_until(lambda: sum(news.posted().values()) >= 10, timeout=WAIT, what="alerts")
        check = await check_output(config)
        assert "replicas seen in the last 60 s: 3" in check, check

        # Slack takes the next alert but its answer never reaches the replica that posted it: kill that one.
        async with asyncio.timeout(WAIT):
            calls = len(slack.calls_to("chat.postMessage"))
            slack.hold("chat.postMessage")
            await news.arrive(range(9, 12))
            [held, *_] = (await slack.wait_for_calls("chat.postMessage", calls + 1, timeout=WAIT))[calls:]
            holder = await claimer_of(cluster_store, held.args["metadata"]["event_payload"]["key"])
            [victim] = [bot for bot in bots if holder.split(":")[1] == str(bot.pid)]
            victim.send_signal(signal.SIGKILL)
            await victim.wait()
            bots.remove(victim)
            slack.release("chat.postMessage")
            await news.arrive(range(12, 20))
            bots.append(await start_slack_bot(config, slack, logs[3]))  # the killed replica, started again
            await news.arrive(range(20, STORIES))
            await slack.wait_until(
                lambda: set(news.posted()) >= set(news.expected()), timeout=WAIT, what="every alert"
            )
            await news.fetches(3)  # nothing more may be posted
    finally:
        for bot in bots:
            bot.send_signal(signal.SIGTERM)
        exit_codes = [await asyncio.wait_for(bot.wait(), 30) for bot in bots]
    output = "\n".join(
        f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}" for log in logs if log.exists()
    )

    assert news.posted() == news.expected(), "every (channel, story) alert exactly once"
    for name, times in news.fetched.items():
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) > INTERVAL / 2, f"{name} fetched twice within one interval: {gaps}"
    assert exit_codes == [0, 0, 0], output
