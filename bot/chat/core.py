"""The chat bot's behaviour, platform-neutral: pasted links, /brief commands, mentions.

Adapters call `on_message`, and `handle` with a command (`on_command` parses one from text), with neutral
values and render the Outcomes they get back; this module never sees a platform SDK. Briefing work goes
through the Briefer (fetch on the loop, NLP in the worker pool), behind a cache, per-user and per-channel rate
limits, and a cap on pending work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from bot.chat.cache import SingleFlightCache
from bot.chat.commands import HELP, AlertCommand, Auto, BriefText, BriefUrl, Command, Help, parse
from bot.chat.links import canonical_url, find_links
from bot.chat.model import Notice, Outcome, Person, Place
from bot.chat.shared import SharedBriefings, SharedLimits, SharedStore
from bot.config import ChatSettings
from bot.errors import BriefError, InternalError
from bot.models import Briefing
from bot.replica import new_replica_id

log = logging.getLogger(__name__)


ALERTS_OFF = "Topic alerts are not available here."


class Briefs(Protocol):
    async def brief_url(self, url: str) -> Briefing: ...
    async def brief_text(self, text: str) -> Briefing: ...


class ChatStore(SharedStore, Protocol):
    async def auto_brief(self, platform: str, channel: str) -> bool | None: ...
    async def set_auto_brief(self, platform: str, channel: str, enabled: bool) -> None: ...


class BusyError(BriefError):
    code = "busy"
    default_message = "I'm busy with other briefings right now; please try again in a minute."


class SlowDownError(BriefError):
    code = "rate_limited"
    default_message = "You're asking for briefings faster than I can write them; please try again shortly."


class AlertCommandHandler(Protocol):
    async def handle(self, where: Place, person: Person, command: AlertCommand) -> Outcome: ...


class ChatCore:
    def __init__(
        self,
        briefer: Briefs,
        prefs: ChatStore,
        settings: ChatSettings,
        *,
        alerts: AlertCommandHandler | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        process: str | None = None,  # this process among those sharing the store
        now: Callable[[], float] = time.time,  # epoch seconds: shared with other processes
    ) -> None:
        self._briefer = briefer
        self._alerts = alerts
        self._prefs = prefs
        self._settings = settings
        self._cache: SingleFlightCache[Briefing] = SingleFlightCache(
            settings.cache_ttl_seconds, settings.cache_max_entries, monotonic
        )
        # In this process, one job per link (memory); across processes, one maker per link (the store).
        self._shared = SharedBriefings(
            prefs, settings.cache_ttl_seconds, process or new_replica_id(), now=now
        )
        self._per_user = SharedLimits(prefs, settings.user_briefings_per_minute, settings.user_burst, now=now)
        self._per_channel = SharedLimits(
            prefs, settings.channel_briefings_per_minute, settings.channel_burst, now=now
        )
        self._pending = 0

    # --- events -------------------------------------------------------------------------------------

    async def on_message(self, where: Place, person: Person, text: str) -> AsyncIterator[Outcome]:
        """A channel message: one briefing per article link, in order, when the channel wants them."""
        if person.is_bot:
            return  # never answer bots, ourselves included: no loops
        links = find_links(text, self._settings.max_links_per_message)
        if not links or not await self.auto_brief_enabled(where):
            return
        jobs = [asyncio.ensure_future(self._guarded(where, person, self._url_job(url))) for url in links]
        try:
            for job in jobs:
                outcome = await job
                if outcome is not None:
                    yield outcome
        finally:
            for job in jobs:
                job.cancel()

    async def on_command(self, where: Place, person: Person, text: str) -> Outcome:
        """`/brief <text>` (or a mention): the command it spells, handled."""
        return await self.handle(where, person, parse(text))

    async def handle(self, where: Place, person: Person, command: Command) -> Outcome:
        """A command: help, a channel setting, topic alerts, or a briefing of a link or pasted text."""
        match command:
            case Help():
                return Outcome(Notice(HELP), private=True)
            case Auto(value):
                return await self._auto_command(where, value)
            case BriefUrl(url):
                job = self._url_job(url)
            case BriefText(text):
                job = self._text_job(text)
            case _ if self._alerts is None:
                return Outcome(Notice(ALERTS_OFF, code="bad_input"), private=True)
            case _:
                return await self._alerts.handle(where, person, command)
        outcome = await self._guarded(where, person, job, quiet_limits=False)
        assert outcome is not None
        return outcome

    # --- settings -----------------------------------------------------------------------------------

    async def auto_brief_enabled(self, where: Place) -> bool:
        chosen = await self._prefs.auto_brief(where.platform, where.channel)
        return self._settings.auto_brief if chosen is None else chosen

    async def _auto_command(self, where: Place, value: str | None) -> Outcome:
        if value is None:
            state = "on" if await self.auto_brief_enabled(where) else "off"
            return Outcome(Notice(f"Automatic briefings of pasted links are {state} in this channel."), True)
        if value not in ("on", "off"):
            return Outcome(
                Notice("Use `/brief auto on` or `/brief auto off`.", code="bad_input"), private=True
            )
        await self._prefs.set_auto_brief(where.platform, where.channel, value == "on")
        log.info("auto_brief %s in %s", value, where.channel_key)
        verb = "will now brief" if value == "on" else "will no longer brief"
        return Outcome(Notice(f"OK: I {verb} links pasted in this channel."))

    # --- briefing work ------------------------------------------------------------------------------

    def _url_job(self, url: str) -> Callable[[], Awaitable[Briefing]]:
        async def brief() -> Briefing:
            briefing = await self._briefer.brief_url(url)
            return replace(briefing, text=None)  # cached briefings stay small; chat never shows the text

        key = canonical_url(url)
        return lambda: self._cache.get(key, lambda: self._shared.get(key, brief))

    def _text_job(self, text: str) -> Callable[[], Awaitable[Briefing]]:
        return lambda: self._briefer.brief_text(text)

    async def _guarded(
        self,
        where: Place,
        person: Person,
        job: Callable[[], Awaitable[Briefing]],
        *,
        quiet_limits: bool = True,
    ) -> Outcome | None:
        """Run one briefing under the limits; user-caused failures become a private Notice, faults an apology.

        For pasted links (quiet_limits) a rate limit drops the briefing with a log line instead of a reply,
        so a flood of links cannot make the bot flood the channel with complaints either.
        """
        try:
            if not await self._per_user.allow(
                person.key(where.platform)
            ) or not await self._per_channel.allow(where.channel_key):
                if quiet_limits:
                    log.info("rate limit: dropping a pasted link in %s", where.channel_key)
                    return None
                raise SlowDownError()
            if self._pending >= self._settings.max_pending_briefings:
                raise BusyError()
            self._pending += 1
            try:
                return Outcome(await job())
            finally:
                self._pending -= 1
        except BriefError as error:
            log.info("briefing refused in %s: %s", where.channel_key, error.code)
            return Outcome(Notice(error.message, code=error.code), private=True)
        except Exception:
            log.exception("briefing failed in %s", where.channel_key)
            return Outcome(Notice(InternalError().message, code=InternalError.code), private=True)
