"""Shared test doubles: a fake briefer, a recording adapter (an alert sink too) and a fake clock.

Each subclasses the Protocols it stands in for, so a type checker run over this file reports a fake that no
longer fits them (a renamed method, a changed signature) instead of the tests silently testing a stale shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from bot.alerts.model import Delivery
from bot.alerts.schedule import Clock
from bot.alerts.watcher import AlertSink, UrlBriefer
from bot.chat.adapter import ChatAdapter
from bot.chat.core import Briefs, ChatCore
from bot.models import Briefing

# --- the briefer -----------------------------------------------------------------------------------------


def title_of(url: str) -> Briefing:
    """The default answer for a link: titled after it, one sentence of summary."""
    return Briefing(title=f"Title of {url}", url=url, published=None, summary=["One."])


def text_briefing(length: int | None = None) -> Callable[[str], Briefing]:
    """An answer for pasted text: no title, the text (its first `length` characters) as the summary."""

    def brief(text: str) -> Briefing:
        return Briefing(title=None, url=None, published=None, summary=[text[:length]])

    return brief


class FakeBriefer(Briefs, UrlBriefer):
    """Records what it was asked and answers from `answer` (links) and `answer_text` (pasted text; by
    default its first 20 characters as the summary).

    `errors`: a link containing one of its keys raises that exception instead of being answered.
    `gate`: when given, every briefing waits for it, so a test can hold briefings in flight (`wait_for_calls`
    says when they are). `unused`: the briefer must never be asked; any request fails the test with that
    reason (an AssertionError, which the chat core reports as a fault, never as a briefing).
    """

    def __init__(
        self,
        answer: Callable[[str], Briefing] = title_of,
        *,
        answer_text: Callable[[str], Briefing] | None = None,
        errors: Mapping[str, Exception] | None = None,
        gate: asyncio.Event | None = None,
        unused: str | None = None,
    ) -> None:
        self.answer = answer
        self.answer_text = answer_text or text_briefing(20)
        self.errors = dict(errors or {})
        self.gate = gate
        self.unused = unused
        self.urls: list[str] = []
        self.texts: list[str] = []
        self._asked = asyncio.Condition()

    @property
    def calls(self) -> int:
        return len(self.urls) + len(self.texts)

    async def wait_for_calls(self, count: int = 1) -> None:
        """Until `count` briefings (links and texts) have been asked for, whether answered yet or not."""
        async with self._asked:
            await self._asked.wait_for(lambda: self.calls >= count)

    async def brief_url(self, url: str) -> Briefing:
        self.urls.append(url)
        await self._arrived()
        for part, error in self.errors.items():
            if part in url:
                raise error.with_traceback(None)
        return self.answer(url)

    async def brief_text(self, text: str) -> Briefing:
        self.texts.append(text)
        await self._arrived()
        return self.answer_text(text)

    async def _arrived(self) -> None:
        if self.unused is not None:
            raise AssertionError(self.unused)
        async with self._asked:
            self._asked.notify_all()
        if self.gate is not None:
            await self.gate.wait()


# --- the adapter, as the alert watcher's sink -------------------------------------------------------------


class RecordingAdapter(ChatAdapter, AlertSink):
    """Records every alert posted (`delivered`, each naming its platform and channel) and every edit
    (`updates`); answers each post with a reference `message-<n>`.

    `fail(times, error)`: the next `times` posts raise `error` instead (the platform is down), as a real
    adapter does when the platform refuses; nothing is recorded for them.
    """

    name = "recording"

    def __init__(self) -> None:
        self.delivered: list[Delivery] = []
        self.updates: list[tuple[Delivery, str]] = []
        self.failures = 0
        self.error: Exception = ConnectionError("platform down")

    def fail(self, times: int = 1, error: Exception | None = None) -> None:
        self.failures = times
        if error is not None:
            self.error = error

    async def run(self, core: ChatCore, stop: asyncio.Event) -> None:
        await stop.wait()

    async def check(self) -> str:
        return f"{self.name}: ready"

    async def deliver(self, delivery: Delivery) -> str:
        if self.failures:
            self.failures -= 1
            raise self.error.with_traceback(None)
        self.delivered.append(delivery)
        return f"message-{len(self.delivered)}"

    async def update(self, delivery: Delivery, ref: str) -> None:
        self.updates.append((delivery, ref))


# --- the clock -------------------------------------------------------------------------------------------

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class FakeClock(Clock):
    """Time that moves only when the test advances it or something sleeps on it; sleeps are recorded.

    One clock in three forms: `now()` (an aware datetime, the poller's Clock), `time()` (epoch seconds, for
    `now=` parameters) and `monotonic()` (seconds since `start`, for `monotonic=` parameters). It starts at
    `start` (a datetime, or epoch seconds).
    `sleep` (for `sleep=` parameters too) returns at once, time moved on, after letting other tasks run;
    past `stop_at` it blocks until cancelled instead, and sets `parked`.
    """

    def __init__(self, start: datetime | float = T0, stop_at: datetime | None = None) -> None:
        self.start = _datetime(start)
        self.current = self.start
        self.stop_at = stop_at
        self.sleeps: list[float] = []
        self.parked = asyncio.Event()

    def now(self) -> datetime:
        return self.current

    def time(self) -> float:
        return self.current.timestamp()

    def monotonic(self) -> float:
        return (self.current - self.start).total_seconds()

    def advance(self, delta: timedelta | float) -> None:
        """Move time on by `delta` (a timedelta, or seconds)."""
        self.current += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)

    def set(self, when: datetime | float) -> None:
        """Move time to `when` (a datetime, or epoch seconds)."""
        self.current = _datetime(when)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.stop_at is not None and self.current + timedelta(seconds=seconds) > self.stop_at:
            self.parked.set()
            await asyncio.Event().wait()
        self.advance(seconds)
        await asyncio.sleep(0)


def _datetime(when: datetime | float) -> datetime:
    return when if isinstance(when, datetime) else datetime.fromtimestamp(when, UTC)


# The JSON of a briefing (README "Command line").
BRIEFING_KEYS = {
    "title",
    "url",
    "published",
    "summary",
    "summary_spans",
    "actors",
    "dates",
    "truncated",
}
