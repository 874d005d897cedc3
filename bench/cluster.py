"""Several replicas on one store (issue 15): alerts per second end to end, outbox claims, feed leases.

    .venv/bin/python bench/cluster.py alerts [--stories 96] [--rounds 2] [--interval 3] [--out FILE]
    .venv/bin/python bench/cluster.py claims [--alerts 5000] [--ticks 100] [--feeds 20] [--out FILE]

`alerts`: real `briefbot run` replicas (1, 2, 3 on PostgreSQL; 1 on SQLite as the reference; 1 replica with 2
briefing workers for comparison) against the Slack emulator, with feeds and CNN/DM news pages (bench/pages.py)
on a local page server. Channels follow the feeds with one topic every story matches; each round, a batch
of new stories appears on every feed at once. Timed from the first poll that serves them to the last alert
Slack takes, with the CPU seconds each replica (its main process, its briefing worker), PostgreSQL and
this process (emulator, page server) spent in that time: on 2 cores, who is the bottleneck.

`claims`: separate processes, each with its own `Store`, claiming and delivering the alert queue as the bot
does (`claim_deliveries`, then `mark_delivered` per alert), on PostgreSQL and on one SQLite file; then feed
leases (`lease_feed`) contested by the same numbers of processes, timed per call, taken and refused. Both
check that no alert was claimed twice and no lease held twice, and say so.

PostgreSQL is $BRIEFBOT_TEST_POSTGRES_URL, else a server started here with its default durability (fsync,
synchronous_commit on), on 127.0.0.1; SQLite runs in WAL with synchronous=NORMAL, as the bot runs both.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import asyncpg  # noqa: E402
from botprocess import alert_posts, start_slack_bot  # noqa: E402
from emulators.slack import SlackEmulator  # noqa: E402
from feedserver import Entry, FeedServer, rss20  # noqa: E402
from pages import dev_articles, news_page  # noqa: E402
from pageserver import PageServer, loopback_host  # noqa: E402
from store_ops import fresh_schema, postgres_server  # noqa: E402

from bot.alerts.model import Delivery  # noqa: E402
from bot.chat.model import Notice  # noqa: E402
from bot.store import Store  # noqa: E402

CLAIMERS = (1, 2, 4)
BATCH = 5  # alerts a replica queues between two delivery rounds in the stream: one story, five channels
NOTICE = Notice("A story about the harbour.")
TICK = os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], check=False, cwd=ROOT, capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"


def ms(samples: list[float]) -> str:
    if not samples:
        return "-"
    ordered = sorted(samples)
    return f"{statistics.median(ordered) * 1000:.2f} / {ordered[int(len(ordered) * 0.95)] * 1000:.2f}"


# --- processes' CPU time, from /proc ---------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on; the name may hold spaces


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system time of the process and of its children it has waited for."""
    fields = _stat(pid)
    return 0.0 if fields is None else sum(int(f) for f in fields[11:15]) / TICK


def tree_cpu(pid: int) -> float:
    return cpu_seconds(pid) + sum(tree_cpu(child) for child in children_of(pid))


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy (every process, ours and the other users')."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = Path("/proc/stat").read_text().split()[1:9]
    return sum(int(f) for f in (user, nice, system, irq, softirq, steal)) / TICK


# --- outbox claims and feed leases from separate processes ------------------------------------------------


@dataclass
class ClaimerResult:
    holder: str
    claimed: list[str]  # every key claim_deliveries gave this holder, in order
    rounds: int
    started: float
    ended: float
    cpu: float
    claim_seconds: list[float] = field(default_factory=list)


def claimer(url: str, holder: str, own: int, start: Barrier, results: Any) -> None:
    """One process delivering as deliver_pending does: claim every free alert, mark each delivered. With
    `own`, it also queues that many alerts of its own first, BATCH at a time with a delivery round after
    each batch (a replica briefing stories); then, as without, it goes on until the queue stays empty."""

    async def run() -> ClaimerResult:
        async with await Store.open(url) as store:
            claimed: list[str] = []
            timings: list[float] = []
            rounds = 0

            async def deliver_round() -> int:
                nonlocal rounds
                before = time.perf_counter()
                batch = await store.claim_deliveries(holder, now=time.time(), seconds=60.0)
                timings.append(time.perf_counter() - before)
                rounds += 1
                for delivery in batch:
                    claimed.append(delivery.key)
                    await store.mark_delivered(delivery.key, at=time.time())
                return len(batch)

            start.wait()
            cpu, started = time.process_time(), time.time()
            for first in range(0, own, BATCH):
                for i in range(first, min(first + BATCH, own)):
                    await store.enqueue_delivery(
                        Delivery(f"{holder}:{i:05d}", "slack", f"C{i % 20}", NOTICE, time.time())
                    )
                await deliver_round()
            idle = 0
            while idle < 3:  # three empty rounds in a row: the others have taken the rest
                idle = 0 if await deliver_round() else idle + 1
            ended = time.time()
            return ClaimerResult(holder, claimed, rounds, started, ended, time.process_time() - cpu, timings)

    results.put(asyncio.run(run()))


@dataclass
class LeaserResult:
    holder: str
    taken: list[tuple[str, int]]  # (feed, tick) this holder took
    taken_seconds: list[float]
    refused_seconds: list[float]


@dataclass(frozen=True)
class LeasePlan:
    ticks: int
    feeds: int


def leaser(url: str, holder: str, plan: LeasePlan, start: Barrier, results: Any) -> None:
    """One process asking for every feed once per tick; a lease lasts half a tick, so each tick each feed is
    free again for whoever asks first (at most one holder per feed and tick)."""

    async def run() -> LeaserResult:
        result = LeaserResult(holder, [], [], [])
        async with await Store.open(url) as store:
            start.wait()
            for tick in range(plan.ticks):
                for n in range(plan.feeds):
                    feed = f"https://feed{n}.example/rss"
                    before = time.perf_counter()
                    won = await store.lease_feed(feed, holder, now=float(tick), seconds=0.5)
                    spent = time.perf_counter() - before
                    if won:
                        result.taken.append((feed, tick))
                        result.taken_seconds.append(spent)
                    else:
                        result.refused_seconds.append(spent)
        return result

    results.put(asyncio.run(run()))


def in_processes(target: Callable[..., None], n: int, url: str, *args: Any) -> list[Any]:
    """Run target(url, holder, *args, start, results) in n fresh processes that start work together."""
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(n), spawn.Queue()
    processes = [spawn.Process(target=target, args=(url, f"p{i}", *args, start, results)) for i in range(n)]
    for process in processes:
        process.start()
    found = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    return found


async def fill_queue(url: str, alerts: int) -> None:
    async with await Store.open(url) as store:

        async def enqueue(part: int) -> None:
            for i in range(part, alerts, 8):
                await store.enqueue_delivery(Delivery(f"a{i:05d}", "slack", f"C{i % 20}", NOTICE, float(i)))

        await asyncio.gather(*(enqueue(part) for part in range(8)))


async def scrape_cost(url: str, times: int = 200) -> list[float]:
    """`alert_queue()`, the store read behind each /metrics scrape, on the queue as it is."""
    async with await Store.open(url) as store:
        samples = []
        for _ in range(times):
            before = time.perf_counter()
            await store.alert_queue()
            samples.append(time.perf_counter() - before)
        return samples


async def migrated(url: str) -> None:
    async with await Store.open(url, migrate=True):
        pass


def claims_row(mode: str, engine: str, n: int, alerts: int, found: list[ClaimerResult]) -> str:
    keys = [key for result in found for key in result.claimed]
    twice = sum(count - 1 for count in Counter(keys).values() if count > 1)
    span = max(r.ended for r in found) - min(r.started for r in found)
    spread = " / ".join(str(len(r.claimed)) for r in sorted(found, key=lambda r: -len(r.claimed)))
    claim_times = [t for r in found for t in r.claim_seconds]
    return (
        f"| {mode} | {engine} | {n} | {len(set(keys)):,} of {alerts:,} | {twice} | {len(keys) / span:,.0f}/s "
        f"| {spread} | {sum(r.rounds for r in found)} | {max(claim_times) * 1000:.0f} | {ms(claim_times)} | "
        f"{sum(r.cpu for r in found):.2f} | {load()} |"
    )


def leases_row(engine: str, n: int, plan: LeasePlan, found: list[LeaserResult]) -> str:
    taken = [pair for r in found for pair in r.taken]
    twice = sum(count - 1 for count in Counter(taken).values() if count > 1)
    calls = sum(len(r.taken_seconds) + len(r.refused_seconds) for r in found)
    return (
        f"| {engine} | {n} | {calls:,} | {len(set(taken)):,} of {plan.ticks * plan.feeds:,} | {twice} | "
        f"{ms([t for r in found for t in r.taken_seconds])} | "
        f"{ms([t for r in found for t in r.refused_seconds])} | {load()} |"
    )


@asynccontextmanager
async def empty_store(engine: str, server: str, directory: Path) -> AsyncIterator[str]:
    """The URL of a new, migrated store on the engine: a fresh PostgreSQL schema or a new SQLite file."""
    if engine == "SQLite":
        url = f"sqlite:///{directory / f'{uuid.uuid4().hex}.sqlite3'}"
        await migrated(url)
        yield url
        return
    async with fresh_schema(server) as url:
        await migrated(url)
        yield url


async def claims_report(alerts: int, ticks: int, feeds: int) -> str:
    lines = [
        "| queue | engine | processes | alerts delivered | claimed twice | alerts/s | per process | "
        "claim rounds | slowest claim ms | claim median / p95 ms | CPU s, claimers | load |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---|---:|---|",
    ]
    leases = [
        "| engine | processes | lease_feed calls | taken | held twice | taken: median / p95 ms | "
        "refused: median / p95 ms | load |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    engines = ("PostgreSQL", "SQLite")
    scrapes = [
        "",
        f"The read behind a /metrics scrape (`Store.alert_queue()`: COUNT and MIN over the queued alerts), "
        f"on the queue of {alerts:,} before the claimers start, then on the emptied queue (those {alerts:,} "
        "delivered), 200 calls each:",
        "",
        "| engine | queued | median / p95 ms | load |",
        "|---|---:|---|---|",
    ]
    with tempfile.TemporaryDirectory() as directory, postgres_server() as server:
        for n in CLAIMERS:
            for engine in engines:
                async with empty_store(engine, server, Path(directory)) as url:
                    await fill_queue(url, alerts)
                    if n == 1:
                        scrapes.append(f"| {engine} | {alerts:,} | {ms(await scrape_cost(url))} | {load()} |")
                    lines.append(claims_row("backlog", engine, n, alerts, in_processes(claimer, n, url, 0)))
                    if n == 1:
                        scrapes.append(f"| {engine} | 0 | {ms(await scrape_cost(url))} | {load()} |")
                print(lines[-1], flush=True)
        for n in CLAIMERS:
            for engine in engines:
                async with empty_store(engine, server, Path(directory)) as url:
                    found = in_processes(claimer, n, url, alerts // n)
                    lines.append(claims_row("stream", engine, n, alerts // n * n, found))
                print(lines[-1], flush=True)
        for n in CLAIMERS:
            for engine in engines:
                async with empty_store(engine, server, Path(directory)) as url:
                    plan = LeasePlan(ticks, feeds)
                    leases.append(leases_row(engine, n, plan, in_processes(leaser, n, url, plan)))
                print(leases[-1], flush=True)
    return "\n".join(
        [
            f"## Alert queue claims and feed leases, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            "",
            f"`.venv/bin/python bench/cluster.py claims --alerts {alerts} --ticks {ticks} --feeds {feeds}` "
            f"at commit {commit()}. Each process has its own `Store` and delivers as `deliver_pending` "
            "does: `claim_deliveries` (every free alert, one UPDATE ... RETURNING), then `mark_delivered` "
            "per alert, "
            "until three rounds in a row find nothing. *backlog*: the queue holds all the alerts when the "
            f"processes start. *stream*: each process queues its share itself, {BATCH} at a time (one story "
            "for five channels) with a delivery round after each, as replicas briefing stories do.",
            "",
            *lines,
            "",
            f"Feed leases: each process asks for each of {feeds} feeds once per tick, {ticks} ticks "
            "(`lease_feed`, one upsert); a lease lasts half a tick, so per feed and tick one holder takes it "
            "and the others are refused.",
            "",
            *leases,
            *scrapes,
        ]
    )


# --- alerts end to end: real replicas, the Slack emulator, feeds and pages on a local server ---------------


@dataclass(frozen=True)
class Setup:
    engine: str
    replicas: int
    workers: int  # briefing worker processes per replica
    interval: float = 3.0  # seconds between polls of a feed (and a feed lease's length), as test_cluster's

    @property
    def name(self) -> str:
        workers = f", {self.workers} workers" if self.workers > 1 else ""
        return f"{self.engine}, {self.replicas} replica{'s' if self.replicas > 1 else ''}{workers}"


SETUPS = (
    Setup("SQLite", 1, 1),
    Setup("PostgreSQL", 1, 1),
    Setup("PostgreSQL", 2, 1),
    Setup("PostgreSQL", 3, 1),
    Setup("PostgreSQL", 1, 2),
)
FEEDS = 8
CHANNELS = ("C0HARBOUR", "C0PORT", "C0DOCKS")  # each follows every feed with the topic "harbour"
WAIT = 300.0  # per phase; a phase that takes longer fails the run rather than hangs


@dataclass(frozen=True)
class Story:
    url: str
    entry: Entry


def stories(page_server: PageServer, count: int) -> list[Story]:
    """CNN/DM articles as ~60 KB news pages titled with the harbour (the topic every channel follows). Past
    the 135 articles, an article comes again under a title and summary from a later part of its text, so
    that it is a story of its own (same-story detection compares titles and summaries)."""
    articles = dev_articles()
    found: list[Story] = []
    for n in range(count):
        row, again = articles[n % len(articles)], n // len(articles)
        # From the 50th word on: many Daily Mail articles open with the same byline and date line.
        words = row["text"].split()[50 + again * 40 :][:40] or row["text"].split()[:40]
        title = "Harbour: " + " ".join(words[:12]).replace('"', "")
        url = page_server.page(f"/story/{n:03d}.html", news_page(title, row["text"], "2026-12-07", seed=n))
        found.append(Story(url, Entry(title, url, summary=" ".join(words))))
    return found


class Newsroom:
    """One setup's feeds: what each serves now and when it was fetched (the page server's clock)."""

    def __init__(self, feed_server: FeedServer, tag: str) -> None:
        self.serving: list[list[Entry]] = [[] for _ in range(FEEDS)]
        self.fetched: list[list[float]] = [[] for _ in range(FEEDS)]
        self.urls = [
            feed_server.feed(f"/{tag}/feed{j}.xml", lambda _n, j=j: self._body(j)) for j in range(FEEDS)
        ]

    def _body(self, feed: int) -> str:
        self.fetched[feed].append(time.monotonic())
        return rss20(f"Feed {feed}", self.serving[feed])

    def publish(self, batch: list[Story]) -> None:
        """Every story of the batch at once, spread over the feeds."""
        for n, story in enumerate(batch):
            self.serving[n % FEEDS].insert(0, story.entry)

    def first_fetches_after(self, moment: float) -> list[float]:
        return [min((t for t in times if t > moment), default=math.inf) for times in self.fetched]

    async def fetched_at_least(self, times: int) -> None:
        while any(len(fetches) < times for fetches in self.fetched):  # noqa: ASYNC110 - counted
            await asyncio.sleep(0.05)


class PostClock:
    """When Slack took each topic alert (monotonic), by wrapping the emulator's chat.postMessage."""

    def __init__(self, slack: SlackEmulator) -> None:
        self.times: list[float] = []
        post = slack._post_message

        def timed(args: dict[str, Any]) -> dict[str, Any]:
            answer = post(args)
            if answer.get("ok") and args.get("metadata"):
                self.times.append(time.monotonic())
            return answer

        slack._post_message = timed  # type: ignore[method-assign]


async def postmaster_of(url: str) -> int | None:
    """The local PostgreSQL server's main process (the parent of a backend), for its CPU time."""
    conn = await asyncpg.connect(url)
    try:
        fields = _stat(int(await conn.fetchval("SELECT pg_backend_pid()")))  # while the backend lives
    finally:
        await conn.close()
    return None if fields is None else int(fields[1])


@dataclass
class CpuSnapshot:
    mains: list[float]
    workers: list[float]
    postgres: float
    here: float
    machine: float

    @classmethod
    def take(cls, bots: list[asyncio.subprocess.Process], postmaster: int | None) -> CpuSnapshot:
        return cls(
            [cpu_seconds(bot.pid) for bot in bots],
            [sum(tree_cpu(child) for child in children_of(bot.pid)) for bot in bots],
            tree_cpu(postmaster) if postmaster else 0.0,
            time.process_time(),
            machine_cpu(),
        )

    def since(self, before: CpuSnapshot) -> CpuSnapshot:
        return CpuSnapshot(
            [a - b for a, b in zip(self.mains, before.mains, strict=True)],
            [a - b for a, b in zip(self.workers, before.workers, strict=True)],
            self.postgres - before.postgres,
            self.here - before.here,
            self.machine - before.machine,
        )


def write_config(
    path: Path, store_url: str, page_server: PageServer, slack: SlackEmulator, setup: Setup
) -> Path:
    path.write_text(
        f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n'
        f'[store]\nurl = "{store_url}"\n'
        f"[alerts]\ndefault_feeds = []\npoll_interval_seconds = {setup.interval}\nretry_seconds = 0.5\n"
        f"[briefing]\nworkers = {setup.workers}\n"
        f'[slack]\napi_base_url = "{slack.base_url}"\n'
    )
    return path


async def subscribe(url: str, news: Newsroom) -> None:
    async with await Store.open(url, migrate=True) as store:
        for channel in CHANNELS:
            await store.add_subscription(
                "slack", channel, "harbour", created_by="U0ADMIN", created_at=0.0, digest=None
            )
            for feed in news.urls:
                await store.add_channel_feed("slack", channel, feed, added_by="U0ADMIN", at=0.0)


async def handled(url: str, stories: int, since: float) -> None:
    """Until the replicas are done with the stories: every one recorded as seen (after its alerts were
    queued and delivered) and the alert queue empty. Some stories are judged the same as another (another
    outlet of a story already alerted): they get no alert of their own, so alerts are not what is counted."""
    async with await Store.open(url) as store:
        while True:
            [(seen,)] = await store.database.fetchall(
                "SELECT COUNT(*) FROM seen_items WHERE first_seen_at >= ?", (since,)
            )
            if seen >= stories and (await store.alert_queue()).depth == 0:
                return
            await asyncio.sleep(0.1)


def alert_counts(slack: SlackEmulator, batch: list[Story]) -> Counter[tuple[str, str]]:
    """(channel, story) of each alert Slack took about a story of the batch."""
    found: Counter[tuple[str, str]] = Counter()
    for post in alert_posts(slack):
        shown = str(post.get("blocks")) + post.get("text", "")
        for story in batch:
            if story.url in shown:
                found[(post["channel"], story.url)] += 1
    return found


async def run_setup(
    setup: Setup, url: str, rounds: list[list[Story]], page_server: PageServer, directory: Path
) -> list[str]:
    """Start the replicas, then publish each round's batch at once and time it; a row per round."""
    rows = []
    async with SlackEmulator() as slack:
        for channel in CHANNELS:
            slack.add_channel(channel, channel.lower()[2:])
        clock = PostClock(slack)
        news = Newsroom(FeedServer(page_server), uuid.uuid4().hex[:8])
        await subscribe(url, news)
        config = write_config(directory / "config.toml", url, page_server, slack, setup)
        logs = [directory / f"replica-{n}.log" for n in range(setup.replicas)]
        postmaster = await postmaster_of(url) if setup.engine == "PostgreSQL" else None
        bots = [await start_slack_bot(config, slack, log) for log in logs]
        try:
            async with asyncio.timeout(WAIT):
                while slack.open_sockets < setup.replicas:  # noqa: ASYNC110 - counted
                    await asyncio.sleep(0.1)
                await news.fetched_at_least(2)  # the first poll, the (empty) baseline, is done
            for n, batch in enumerate(rounds, 1):
                before, published, wall = CpuSnapshot.take(bots, postmaster), time.monotonic(), time.time()
                first_post, first_request = len(clock.times), len(page_server.requests)
                news.publish(batch)
                try:
                    await asyncio.wait_for(handled(url, len(batch), wall), WAIT)
                except TimeoutError:
                    raise SystemExit(f"{setup.name}, round {n}: not handled after {WAIT:.0f} s") from None
                spent = CpuSnapshot.take(bots, postmaster).since(before)
                window = time.monotonic() - published
                seen = news.first_fetches_after(published)
                counts = alert_counts(slack, batch)
                posted = clock.times[first_post:]
                pages = {story.url.removeprefix(page_server.base_url) for story in batch}
                fetched = sum(1 for seen in page_server.requests[first_request:] if seen.path in pages)
                row = round_row(
                    setup,
                    n,
                    batch=batch,
                    seen=seen,
                    posted=posted,
                    spent=spent,
                    window=window,
                    counts=counts,
                    fetched=fetched,
                )
                rows.append(row)
                print(rows[-1], flush=True)
        finally:
            for bot in bots:
                bot.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(bot.wait(), 60) for bot in bots]
        if codes != [0] * len(bots):
            tails = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
            raise SystemExit(f"{setup.name}: a replica exited with {codes}:\n{tails}")
    return rows


def round_row(
    setup: Setup,
    n: int,
    *,
    batch: list[Story],
    seen: list[float],
    posted: list[float],
    spent: CpuSnapshot,
    window: float,
    counts: Counter[tuple[str, str]],
    fetched: int,
) -> str:
    start, last = min(seen), max(posted)
    seconds = last - start
    alerts = len(posted)
    twice = sum(count - 1 for count in counts.values() if count > 1)
    alerted = len({story for _, story in counts})
    replicas = " + ".join(f"{m:.1f}/{w:.1f}" for m, w in zip(spent.mains, spent.workers, strict=True))
    busy = sum(spent.mains) + sum(spent.workers) + spent.postgres + spent.here
    return (
        f"| {setup.name} | {n} | {len(batch)} | {alerted} | {fetched} | {alerts} | {twice} | {seconds:.1f} | "
        f"{alerts / seconds:.1f} | {len(batch) / seconds:.2f} | {min(posted) - start:.1f} | "
        f"{max(seen) - start:.1f} | {replicas} | {spent.postgres:.1f} | {spent.here:.1f} | "
        f"{busy / window:.2f} | {spent.machine / window:.2f} | {load()} |"
    )


async def alerts_report(count: int, rounds: int, interval: float) -> str:
    lines = [
        "| setup | round | stories | alerted | pages fetched | alerts | (channel, story) twice | seconds | "
        "alerts/s | stories/s | first alert s | polls spread s | CPU s per replica, main/worker | "
        "PostgreSQL CPU s | emulators CPU s | cores busy | machine's cores busy | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    page_server = PageServer(loopback_host())
    await page_server.start()
    try:
        every = stories(page_server, count * rounds)
        batches = [every[r * count : (r + 1) * count] for r in range(rounds)]
        with tempfile.TemporaryDirectory() as directory, postgres_server() as server:
            for setup in (replace(setup, interval=interval) for setup in SETUPS):
                where = Path(directory) / setup.name.replace(" ", "").replace(",", "-")
                where.mkdir()
                if setup.engine == "SQLite":
                    lines += await run_setup(
                        setup, f"sqlite:///{where / 'bot.sqlite3'}", batches, page_server, where
                    )
                    continue
                async with fresh_schema(server) as url:
                    lines += await run_setup(setup, url, batches, page_server, where)
    finally:
        await page_server.stop()
    return "\n".join(
        [
            f"## Alerts end to end, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            "",
            f"`.venv/bin/python bench/cluster.py alerts --stories {count} --rounds {rounds} --interval "
            f"{interval:g}` at commit {commit()}, {os.cpu_count()} cores. Real `briefbot run` replicas "
            f"({interval:g} s poll interval, so feed leases of {interval:g} s) and the Slack emulator; "
            f"{len(CHANNELS)} channels each follow the same {FEEDS} feeds with the topic `harbour`; each "
            f"round, {count} new stories (CNN/DM articles as ~60 KB "
            "pages, titled 'Harbour: ...') appear on the feeds at once; a story gets an alert in each "
            "channel unless judged the same as one alerted before (*alerted*: the stories that did; "
            "*pages fetched*: GETs of the stories' pages, one per briefing made). "
            "*seconds*: from the first poll that serves the new "
            "stories to the last alert Slack takes; *polls spread*: until the last feed's first poll saw "
            "them. CPU seconds from the publication to the end: each replica's main process / its "
            "briefing worker(s), PostgreSQL's processes, and this process (Slack emulator, page server); "
            "*cores busy*: their sum over that time; *machine's*: every process's, other users' included.",
            "",
            *lines,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    alerts = commands.add_parser("alerts", help="alerts/s end to end with 1, 2, 3 replicas")
    alerts.add_argument("--stories", type=int, default=96, help="new stories per round")
    alerts.add_argument("--rounds", type=int, default=2)
    alerts.add_argument("--interval", type=float, default=3.0, help="seconds between polls of a feed")
    claims = commands.add_parser("claims", help="outbox claims and feed leases from 1, 2, 4 processes")
    claims.add_argument("--alerts", type=int, default=5000)
    claims.add_argument("--ticks", type=int, default=100)
    claims.add_argument("--feeds", type=int, default=20)
    for command in (alerts, claims):
        command.add_argument("--out", type=Path, help="append the report to this file")
    args = parser.parse_args()
    started = time.time()
    if args.command == "alerts":
        report = asyncio.run(alerts_report(args.stories, args.rounds, args.interval))
    else:
        report = asyncio.run(claims_report(args.alerts, args.ticks, args.feeds))
    report += f"\n\nLoad average at the end: {load()}; {time.time() - started:.0f} s in all."
    print(report)
    if args.out is not None:
        with args.out.open("a", encoding="utf-8") as out:
            out.write("\n" + report + "\n")


if __name__ == "__main__":
    main()
