"""Issue 15's full cluster: three real `briefbot run` replicas on one PostgreSQL. Each has its own Socket Mode
connection to the Slack emulator, which hands each envelope to one connection (in turn); replicas A and B
also run the Discord bot, shard 0 and shard 1 of 2 (a guild on each), replica C Slack only. Five channels
(three on Slack, one in each guild) follow three feeds; 60 stories arrive over time, a few at a time, three
of them reported again by another outlet on another feed. People paste links in Slack and ask `/brief` on
both platforms, also while a replica is dead: the replica posting a Discord alert is killed (SIGKILL) while
Discord holds its answer back, and started again later.

Every (channel, story) alert is posted exactly once on both platforms, and shows the other outlets the
channel follows (its message edited, by a replica that runs its platform), every pasted link answered exactly
once, no feed fetched twice within half a poll interval, a Discord alert only claimed by a replica that runs
Discord, and the replicas running at the end stop cleanly."""

import asyncio
import itertools
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botprocess import start_bot
from emulators.discord import DiscordEmulator, SentInteraction
from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer
from test_cluster import article, check_output, entry

from adapters.discordbot.alerts import alert_nonce
from bot.store import Store

WAIT = 180  # generous waits per phase, not timing assertions: each replica loads the NLP model first
INTERVAL = 3.0  # seconds between polls of a feed
FEEDS = ("wire", "courier", "daily")
# The k-th guild is on shard k % 2.
GUILDS: dict[str, tuple[str, ...]] = {"Harbour": ("alerts",), "Bridge": ("alerts",)}
SLACK_FOLLOWS = {  # Slack channel -> the feeds it follows
    "C0GENERAL": ("wire",),
    "C0HARBOUR": ("courier", "daily"),
    "C0DOCKS": FEEDS,
}
DISCORD_FOLLOWS = {"Harbour": ("wire", "courier"), "Bridge": ("daily", "wire")}  # each guild's #alerts
STORIES = 60  # story n is on feed FEEDS[n % 3]
BATCH = 6  # stories that turn up together (two per feed)
PASTED = 100  # pasted page k shows article(PASTED + k): words of its own, in no feed
# Story n -> the feed where another outlet reports it, a batch later: it joins the alerts of the channels that
# follow both feeds ("also reported by", the posted message edited) and is a new alert for the others.
ECHOES = {3: "courier", 28: "daily", 47: "wire"}
MESSAGES = "POST /channels/{id}/messages"
SLACK_TITLE_LINK = re.compile(r"\*<([^|>]+)\|")  # an alert's second block: *<link|title>*


@dataclass
class Replica:
    name: str
    config: Path
    log: Path
    shard: int | None  # its Discord shard; None: Slack only
    process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def write_config(
        self, store_url: str, network: object, slack: SlackEmulator, discord: DiscordEmulator
    ) -> None:
        """One store for all; Discord's shard `shard` of 2 unless Slack only."""
        text = (
            f'[fetch]\nallow_private_networks = ["{network}"]\n'
            f'[store]\nurl = "{store_url}"\n'
            f"[alerts]\ndefault_feeds = []\npoll_interval_seconds = {INTERVAL}\nretry_seconds = 0.5\n"
            "claim_seconds = 15.0\n"
            "[chat]\nuser_burst = 20\nchannel_burst = 50\n"
            "[briefing]\nworkers = 1\n"
            f'[slack]\napi_base_url = "{slack.base_url}"\n'
        )
        if self.shard is not None:
            text += (
                f'[discord]\napi_base_url = "{discord.api_base}"\ngateway_url = "{discord.gateway_url}"\n'
                f"shard_count = 2\nshard_ids = [{self.shard}]\n"
            )
        self.config.write_text(text, encoding="utf-8")

    async def start(self, slack: SlackEmulator, discord: DiscordEmulator) -> None:
        self.process = await start_bot(
            self.config, self.log, slack=slack, discord=discord if self.shard is not None else None
        )

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.process = None

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 60)


@dataclass
class Newsroom:
    """The feeds and pages on the page server: what each feed serves now and when it was fetched, and the
    pages people paste."""

    page_server: PageServer
    pages: dict[int, str] = field(default_factory=dict)
    serving: dict[str, list[Entry]] = field(default_factory=lambda: {name: [] for name in FEEDS})
    fetched: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in FEEDS})
    urls: dict[str, str] = field(default_factory=dict)
    pasted: list[str] = field(default_factory=list)

    echoes: dict[int, str] = field(default_factory=dict)  # story n -> its other outlet's page

    def __post_init__(self) -> None:
        self.pages = {n: self.page_server.page(f"/story-{n:02d}.html", article(n)) for n in range(STORIES)}
        self.echoes = {n: self.page_server.page(f"/echo-{n:02d}.html", article(n)) for n in ECHOES}
        feeds = FeedServer(self.page_server)
        self.urls = {name: feeds.feed(f"/{name}.xml", lambda _n, n=name: self._body(n)) for name in FEEDS}

    def _body(self, name: str) -> str:
        self.fetched[name].append(time.monotonic())
        return rss20(name, self.serving[name])

    def page_to_paste(self) -> str:
        k = len(self.pasted)
        self.pasted.append(self.page_server.page(f"/pasted-{k:02d}.html", article(PASTED + k)))
        return self.pasted[-1]

    async def arrive(self, stories: range) -> None:
        """The stories turn up on their feeds BATCH at a time; each batch once its feeds were fetched since
        the previous one (counted, not timed)."""
        for start in range(stories.start, stories.stop, BATCH):
            batch = range(start, min(start + BATCH, stories.stop))
            names = {FEEDS[n % 3] for n in batch}
            before = {name: len(self.fetched[name]) for name in names}
            for n in batch:
                self.serving[FEEDS[n % 3]].insert(0, entry(n, self.pages[n]))
                if (echoed := n - BATCH) in ECHOES:  # reported elsewhere a batch later
                    names.add(ECHOES[echoed])
                    before.setdefault(ECHOES[echoed], len(self.fetched[ECHOES[echoed]]))
                    self.serving[ECHOES[echoed]].insert(0, entry(echoed, self.echoes[echoed]))
            while any(len(self.fetched[name]) <= before[name] for name in names):  # noqa: ASYNC110
                await asyncio.sleep(0.05)

    async def fetches(self, more: int) -> None:
        """Until each feed has been fetched `more` times again (counted, not timed)."""
        later = {name: len(self.fetched[name]) + more for name in FEEDS}
        while any(len(self.fetched[name]) < later[name] for name in FEEDS):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@dataclass
class Channels:
    """The five channels, as (platform, channel id) with the feeds each follows."""

    discord: DiscordEmulator
    follows: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.follows = {("slack", channel): names for channel, names in SLACK_FOLLOWS.items()}
        for guild in self.discord.guilds:
            self.follows["discord", str(guild.channel_ids["alerts"])] = DISCORD_FOLLOWS[guild.name]

    def expected(self, news: Newsroom) -> Counter[tuple[str, str, str]]:
        """(platform, channel, the alert's link) of every alert, once each."""
        firsts = Counter(
            (platform, channel, news.pages[n])
            for n in range(STORIES)
            for (platform, channel), names in self.follows.items()
            if FEEDS[n % 3] in names
        )
        return firsts + Counter(
            (platform, channel, news.echoes[n])
            for n, echo in ECHOES.items()
            for (platform, channel), names in self.follows.items()
            if echo in names and FEEDS[n % 3] not in names
        )

    def also_reported(self, news: Newsroom) -> set[tuple[str, str, str, str]]:
        """(platform, channel, story page, other outlet's page): alerts that must show the other outlet."""
        return {
            (platform, channel, news.pages[n], news.echoes[n])
            for n, echo in ECHOES.items()
            for (platform, channel), names in self.follows.items()
            if echo in names and FEEDS[n % 3] in names
        }


async def discord_claimer(url: str, nonce: str) -> str:
    """The replica that claimed the Discord alert posted with `nonce`."""
    async with await Store.open(url) as store:
        rows = await store.database.fetchall(
            "SELECT delivery_key, claimed_by FROM outbox WHERE platform = ?", ("discord",)
        )
    [holder] = [str(holder) for key, holder in rows if alert_nonce(str(key)) == nonce]
    return holder


def is_alert(message: dict[str, Any]) -> bool:
    """A Discord alert says which topic it is for first (every message carries a nonce, not only alerts)."""
    return str(message.get("content", "")).startswith("New story for")


@dataclass
class Cluster:
    """The replicas, the two platforms they serve, the newsroom, and the `/brief` asked on Discord."""

    slack: SlackEmulator
    discord: DiscordEmulator
    news: Newsroom
    replicas: list[Replica]
    sent: list[SentInteraction] = field(default_factory=list)

    def shown(self) -> list[tuple[str, str, str, str]]:
        """(platform, channel, its link, what it shows now) of each alert the platforms took."""
        found = []
        for call in self.slack.calls_to("chat.postMessage"):
            if call.response.get("ok") and isinstance(call.args.get("metadata"), dict):
                link = SLACK_TITLE_LINK.search(call.args["blocks"][1]["text"]["text"])
                now = self.slack.message(call.args["channel"], call.response["ts"])  # after chat.update
                found.append(("slack", call.args["channel"], link[1] if link else "?", str(now)))
        for message in self.discord.messages:  # edited in place
            if is_alert(message):
                found.append(("discord", message["channel_id"], message["embeds"][0]["url"], str(message)))
        return found

    def alerts(self) -> Counter[tuple[str, str, str]]:
        """(platform, channel, its link) of each alert the platforms took."""
        return Counter((platform, channel, link) for platform, channel, link, _ in self.shown())

    def also_shown(self) -> set[tuple[str, str, str, str]]:
        """(platform, channel, story page, other outlet's page) of the alerts that show another outlet."""
        return {
            (platform, channel, link, echo)
            for platform, channel, link, now in self.shown()
            for echo in self.news.echoes.values()
            if echo != link and echo in now
        }

    def answers(self) -> Counter[str]:
        """How many briefings of each pasted page were posted, on either platform (no alert is one)."""
        slack = self.slack
        shown = [str(call.args) for call in slack.posts if not isinstance(call.args.get("metadata"), dict)]
        shown += [str(response.body) for response in slack.responses]
        shown += [str(m.get("embeds")) for m in self.discord.messages if not is_alert(m)]
        return Counter(page for page in self.news.pasted for text in shown if page in text)

    async def start(self) -> None:
        for replica in self.replicas:
            await replica.start(self.slack, self.discord)
        await self.connected()

    async def connected(self) -> None:
        """Until each replica has its Slack connection and each guild's shard a session (after a restart)."""
        await self.slack.wait_until(lambda: self.slack.open_sockets >= 3, timeout=WAIT, what="connections")
        await self.discord.wait_until_ready(WAIT)

    async def paste_everywhere(self, live: list[Replica]) -> None:
        """A link pasted in Slack, a Slack `/brief <link>`, and `/brief url:<link>` in each Discord guild
        whose shard a live replica runs; each waited for until answered."""
        slack, discord, news = self.slack, self.discord, self.news
        page = news.page_to_paste()
        event = slack.message_event("C0GENERAL", f"U0P{len(news.pasted)}", f"look <{page}>")
        await slack.send_envelope("events_api", slack.event_callback(event), timeout=WAIT)
        command = slack.slash_command(news.page_to_paste(), "C0HARBOUR", "U0ALICE")
        await slack.send_envelope("slash_commands", command, accepts_response_payload=True, timeout=WAIT)
        shards = {replica.shard for replica in live}
        for guild in discord.guilds:
            if discord.shard_of(guild.id) in shards:
                where = guild.channel_ids["alerts"]
                asked = await discord.send_slash_command(
                    "brief", {"url": news.page_to_paste()}, channel_id=where
                )
                self.sent.append(asked)
        # discord.wait_for polls too: Slack's own waits wake only for what Slack records.
        await discord.wait_for(lambda: set(self.answers()) >= set(news.pasted), WAIT)
        await discord.wait_for(lambda: all(s.edits for s in self.sent), WAIT)

    async def kill_while_discord_holds_an_alert(self, store_url: str, stories: range) -> tuple[Replica, str]:
        """Discord takes the next alert but its answer never reaches the replica that posted it: that one is
        killed (SIGKILL). Returns it and the nonce of the alert it posted."""
        posts = len(self.discord.messages)
        self.discord.hold(MESSAGES)
        await self.news.arrive(stories)
        [held, *_] = await self.discord.wait_for(
            lambda: [m for m in self.discord.messages[posts:] if is_alert(m)], WAIT
        )
        holder = await discord_claimer(store_url, held["nonce"])
        [victim] = [replica for replica in self.replicas if holder.split(":")[1] == str(replica.pid)]
        await victim.kill()
        self.discord.release(MESSAGES)
        await self.slack.wait_until(
            lambda: self.slack.open_sockets == 2, timeout=WAIT, what="its socket gone"
        )
        await self.discord.wait_for(
            lambda: not any(s.ws for s in self.discord.sessions if s.shard == (victim.shard, 2)), WAIT
        )
        return victim, str(held["nonce"])

    def sent_with_nonce(self, nonce: str) -> int:
        """How often an alert was sent to Discord with `nonce` (posted once however often it is sent)."""
        return sum(
            1
            for entry in self.discord.log
            if isinstance(entry.body, dict) and entry.body.get("nonce") == nonce
        )


async def subscribe(store_url: str, channels: Channels, news: Newsroom) -> None:
    async with await Store.open(store_url, migrate=True) as store:  # `briefbot migrate`'s job, and commands'
        for (platform, channel), names in channels.follows.items():
            await store.add_subscription(
                platform, channel, "harbour", created_by="U0ADMIN", created_at=0.0, digest=None
            )
            for name in names:
                await store.add_channel_feed(platform, channel, news.urls[name], added_by="U0ADMIN", at=0.0)


async def test_three_replicas_on_two_platforms_post_each_alert_and_answer_each_link_once(
    slack_emulator: SlackEmulator, page_server: PageServer, postgres_store_url: str, tmp_path: Path
) -> None:
    slack = slack_emulator
    slack.spread = True  # each replica has its connection; Slack hands each envelope to one of them
    for channel in SLACK_FOLLOWS:
        if channel != "C0GENERAL":
            slack.add_channel(channel, channel.lower()[2:])
    news = Newsroom(page_server)
    async with DiscordEmulator(guilds=GUILDS, shard_count=2) as discord:
        channels = Channels(discord)
        await subscribe(postgres_store_url, channels, news)
        replicas = [
            Replica(name, tmp_path / f"{name}.toml", tmp_path / f"{name}.log", shard)
            for name, shard in (("a", 0), ("b", 1), ("c", None))
        ]
        for replica in replicas:
            replica.write_config(postgres_store_url, page_server.network, slack, discord)
        cluster = Cluster(slack, discord, news, replicas)
        try:
            async with asyncio.timeout(WAIT):
                await cluster.start()
                while not all(news.fetched.values()):  # noqa: ASYNC110 - the (empty) baselines
                    await asyncio.sleep(0.05)
                await news.arrive(range(0, 18))
                await cluster.paste_everywhere(replicas)
            check = await check_output(replicas[0].config)
            assert "replicas seen in the last 60 s: 3" in check, check

            async with asyncio.timeout(2 * WAIT):
                victim, nonce = await cluster.kill_while_discord_holds_an_alert(
                    postgres_store_url, range(18, 24)
                )
                await news.arrive(range(24, 36))
                await cluster.paste_everywhere([r for r in replicas if r is not victim])  # while it is dead
                await news.arrive(range(36, 42))
                await victim.start(slack, discord)  # the killed replica, started again
                await cluster.connected()
                await news.arrive(range(42, STORIES))
                await cluster.paste_everywhere(replicas)
                await discord.wait_for(lambda: set(cluster.alerts()) >= set(channels.expected(news)), WAIT)
                await discord.wait_for(lambda: cluster.also_shown() >= channels.also_reported(news), WAIT)
                await news.fetches(3)  # nothing more may be posted
        finally:
            exit_codes = [await replica.stop() for replica in replicas]
    logs = {replica.name: replica.log.read_text(errors="replace") for replica in replicas}
    output = "\n".join(f"--- {name}\n{text[-3000:]}" for name, text in logs.items())

    assert cluster.alerts() == channels.expected(news), "every (channel, story) alert exactly once"
    assert cluster.also_shown() == channels.also_reported(news), "another outlet joins the alerts it should"
    assert victim.shard is not None, "a Discord alert was claimed by a replica that runs Discord"
    assert cluster.sent_with_nonce(nonce) >= 2, "the killed replica's alert was sent again by another"
    assert not any("no discord adapter is running" in text for text in logs.values()), (
        "no replica claims (and fails) an alert of a platform it does not run"
    )
    assert cluster.answers() == Counter(news.pasted), "every pasted link answered exactly once"
    assert [(len(s.callbacks), len(s.edits)) for s in cluster.sent] == [(1, 1)] * len(cluster.sent), (
        "each Discord /brief acknowledged once, told once where its briefing went"
    )
    for name, times in news.fetched.items():
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) > INTERVAL / 2, f"{name} fetched twice within half an interval: {gaps}"
    assert exit_codes == [0, 0, 0], output
