"""`briefbot run`: one asyncio process with every adapter the config and environment enable.

With no platform tokens in the environment it runs the console adapter, so the bot works on a fresh machine
with no accounts. This is the composition root: the only place that knows both the core and the adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Mapping
from typing import Any

from bot.alerts.commands import AlertCommands
from bot.alerts.feeds import fetch_feed
from bot.alerts.watcher import AlertWatcher, PlatformSink
from bot.briefer import Briefer
from bot.chat.adapter import ChatAdapter
from bot.chat.core import ChatCore
from bot.config import ConfigError, Settings
from bot.fetch import Fetcher
from bot.ops import serving
from bot.replica import ALIVE_SECONDS, heartbeat, new_replica_id
from bot.store import Store
from bot.workers import BriefingWorkers

log = logging.getLogger(__name__)


def _secret(env: Mapping[str, str], name: str, key: str, why: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{key}: environment variable {name} is not set ({why})")
    return value


def enabled_adapters(settings: Settings, env: Mapping[str, str]) -> list[ChatAdapter]:
    """The adapters whose tokens are present; the console alone when there are none."""
    adapters: list[ChatAdapter] = []
    if env.get(settings.slack.bot_token_env, "").strip():
        from adapters.slackbot.adapter import SlackAdapter  # noqa: PLC0415 - the SDK loads only when Slack is used

        slack = settings.slack
        bot_token = _secret(env, slack.bot_token_env, "slack.bot_token_env", "the bot token")
        if slack.mode == "socket":
            other = _secret(env, slack.app_token_env, "slack.app_token_env", "Socket Mode needs an app token")
        else:
            other = _secret(env, slack.signing_secret_env, "slack.signing_secret_env", "HTTP mode verifies")
        adapters.append(SlackAdapter(settings, bot_token=bot_token, app_token_or_secret=other))
    if env.get(settings.discord.token_env, "").strip():
        from adapters.discordbot.adapter import DiscordAdapter  # noqa: PLC0415

        token = _secret(env, settings.discord.token_env, "discord.token_env", "the bot token")
        adapters.append(DiscordAdapter(settings, token=token))
    if not adapters:
        from adapters.console import ConsoleAdapter  # noqa: PLC0415

        shown = settings.briefing
        adapters.append(ConsoleAdapter(max_actors=shown.max_actors_shown, max_dates=shown.max_dates_shown))
    return adapters


async def run_bot(settings: Settings, env: Mapping[str, str]) -> int:
    adapters = enabled_adapters(settings, env)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("starting adapters: %s", ", ".join(a.name for a in adapters))
    async with (
        await Store.open(settings.store.url) as store,  # first: a store it can't run on stops it at once
        Fetcher(settings.fetch) as fetcher,
        BriefingWorkers.in_processes(settings) as workers,
    ):
        briefer = Briefer(fetcher, workers)
        sink = PlatformSink({adapter.name: adapter for adapter in adapters})
        replica = new_replica_id()  # this process among those sharing the store: its leases, claims
        log.info("replica %s on store %s", replica, store.where)
        beating = asyncio.create_task(heartbeat(store, replica), name="replica-heartbeat")
        watcher = AlertWatcher(
            store, fetcher, briefer, sink, settings.alerts, replica=replica,
            platforms=[adapter.name for adapter in adapters],
        )  # fmt: skip

        async def check_feed(url: str) -> str:
            """A channel's new source must be a feed we can read (through the safe fetcher)."""
            fetched = await fetch_feed(fetcher, url)
            return (fetched.parsed.title if fetched.parsed else None) or url

        alerts = AlertCommands(store, settings.alerts, on_change=watcher.refresh, check_feed=check_feed)
        core = ChatCore(briefer, store, settings.chat, alerts=alerts, process=replica)
        await watcher.start()
        warming = asyncio.create_task(workers.warm_up())
        runs = [asyncio.create_task(adapter.run(core, stop), name=adapter.name) for adapter in adapters]

        def healthy() -> dict[str, bool]:  # an adapter whose run ended (an error, a lost login) is down
            return {adapter.name: not run.done() for adapter, run in zip(adapters, runs, strict=True)}

        async with contextlib.AsyncExitStack() as ops:
            if (address := settings.ops.address) is not None:
                await ops.enter_async_context(serving(address, healthy, store))
            # The bot stops when asked to, or when every adapter has ended (the console at end of input).
            stopper = asyncio.create_task(stop.wait())
            ended: asyncio.Future[Any] = asyncio.gather(*runs, return_exceptions=True)
            await asyncio.wait([stopper, ended], return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            results = await asyncio.gather(*runs, return_exceptions=True)
        stopper.cancel()
        warming.cancel()
        await watcher.stop()
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        failed = [(a.name, r) for a, r in zip(adapters, results, strict=True) if isinstance(r, BaseException)]
        for name, error in failed:
            log.error("adapter %s stopped with an error", name, exc_info=error)
    return 1 if failed else 0


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(max(seconds, 0)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


async def check_bot(settings: Settings, env: Mapping[str, str]) -> int:
    """`briefbot run --check`: the config is valid (it was loaded), secrets are present, endpoints answer."""
    failures = 0
    for adapter in enabled_adapters(settings, env):
        try:
            print(await adapter.check())
        except Exception as error:  # a check reports every failure as one line, whatever it is
            failures += 1
            print(f"{adapter.name}: FAILED: {error}")
    async with await Store.open(settings.store.url) as store:
        print(f"store: {store.where} at schema version {store.schema_version}")
        now = time.time()
        alive = await store.replicas_seen_since(now - ALIVE_SECONDS)
        print(f"replicas seen in the last {ALIVE_SECONDS:.0f} s: {len(alive)}")
        for replica in alive:
            up = _duration(now - replica.started_at)
            print(f"  {replica.id}: up {up}, last seen {max(now - replica.seen_at, 0):.0f} s ago")
    return 1 if failures else 0
