"""The console adapter: stdin lines from one person in one channel, replies printed as the bot would post.

The embedded default when no platform tokens are configured, and the way to try briefbot without accounts.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.alerts.model import Delivery, StoryAlert, story_header
from bot.chat.commands import parse
from bot.chat.core import ChatCore
from bot.chat.model import Notice, Outcome, Person, Place
from bot.models import Briefing
from bot.render import format_text

PROMPT = "Paste a link, or type /brief help. Ctrl-D quits."


class ConsoleAdapter:
    name = "console"

    def __init__(
        self,
        *,
        read_line: Callable[[], Awaitable[str]] | None = None,
        out: TextIO | None = None,
        max_actors: int = 6,
        max_dates: int = 5,
    ) -> None:
        self._read_line = read_line or (lambda: asyncio.to_thread(sys.stdin.readline))
        self._out = out or sys.stdout
        self._max_actors = max_actors
        self._max_dates = max_dates
        self._where = Place("console", "console")
        self._person = Person("you", can_manage=True)  # the console is your own channel

    def _text(self, reply: Briefing | Notice | StoryAlert) -> str:
        if isinstance(reply, Notice):
            return reply.text
        if isinstance(reply, Briefing):
            return format_text(reply, max_actors=self._max_actors, max_dates=self._max_dates)
        also = f"\nAlso reported by: {', '.join(reply.also)}" if reply.also else ""
        return f"{story_header(reply.query, reply.subscription_id)}\n{self._text(reply.briefing)}{also}"

    def _print(self, outcome: Outcome) -> None:
        self._show(outcome.reply, private=outcome.private)

    def _show(self, reply: Briefing | Notice | StoryAlert, *, private: bool = False) -> None:
        prefix = "[only you can see this] " if private else ""
        self._out.write(f"\nbriefbot: {prefix}{self._text(reply)}\n\n")
        self._out.flush()

    async def handle_line(self, core: ChatCore, line: str) -> None:
        line = line.strip()
        if not line:
            return
        command, _, rest = line.partition(" ")
        if command.lower() == "/brief":
            self._print(await core.handle(self._where, self._person, parse(rest)))
            return
        if line.startswith("/"):
            self._print(Outcome(Notice(f"Unknown command {command}. Try /brief help."), private=True))
            return
        async for outcome in core.on_message(self._where, self._person, line):
            self._print(outcome)

    async def deliver(self, delivery: Delivery) -> str | None:
        """A topic alert: printed like a briefing under a header naming the subscription."""
        if delivery.mention is not None:
            self._show(Notice(delivery.mention.label))  # the console's one person is "here"
        self._show(delivery.content)
        if isinstance(delivery.content, Notice):
            return None
        return delivery.key  # printed lines cannot be edited: an update prints what changed

    async def update(self, delivery: Delivery, ref: str) -> None:
        alert = delivery.content
        if isinstance(alert, Notice):
            self._show(alert)
            return
        self._show(
            Notice(f"Update to the story for `{alert.query}`: also reported by {', '.join(alert.also)}")
        )

    async def check(self) -> str:
        return "console: ready (no platform tokens configured)"

    async def run(self, core: ChatCore, stop: asyncio.Event) -> None:
        self._out.write(PROMPT + "\n")
        self._out.flush()
        while not stop.is_set():
            reading = asyncio.ensure_future(self._read_line())
            stopping = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if reading not in done:
                reading.cancel()
                return
            line = reading.result()
            if not line:  # end of input
                return
            await self.handle_line(core, line)
