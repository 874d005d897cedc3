"""The core's one entry point for every front end (CLI, batch, chat adapters): a link or text → a Briefing.

Fetching stays on the event loop (it is I/O); extraction and NLP go to the workers. Every string is scrubbed
here (lone surrogates → U+FFFD, `bot.sanitize`), so no front end can hand the pipeline text it can't encode.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from datetime import date
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec

from bot.errors import BriefError
from bot.metrics import BRIEFING_SECONDS, BRIEFINGS, BRIEFINGS_IN_FLIGHT
from bot.models import Briefing, Source
from bot.sanitize import scrub, scrub_optional
from bot.workers import BriefingWorkers

if TYPE_CHECKING:  # briefing a local file needs no HTTP client (aiohttp and TLS set-up: ~0.3 s of start-up)
    from bot.fetch import Fetcher

P = ParamSpec("P")


def _measured(
    brief: Callable[P, Coroutine[Any, Any, Briefing]],
) -> Callable[P, Coroutine[Any, Any, Briefing]]:
    """Count the briefing by outcome and time it (bot.metrics)."""

    @wraps(brief)
    async def measured(*args: P.args, **kwargs: P.kwargs) -> Briefing:
        started = time.perf_counter()
        outcome = "internal_error"  # anything not a BriefError; a cancellation is not counted
        BRIEFINGS_IN_FLIGHT.inc()
        try:
            briefing = await brief(*args, **kwargs)
            outcome = "ok"
            return briefing
        except BriefError as error:
            outcome = error.code
            raise
        finally:
            BRIEFINGS_IN_FLIGHT.dec()
            BRIEFINGS.labels(outcome).inc()
            BRIEFING_SECONDS.observe(time.perf_counter() - started)

    return measured


class Briefer:
    def __init__(self, fetcher: Fetcher | None, workers: BriefingWorkers) -> None:
        self._fetcher = fetcher
        self._workers = workers

    @_measured
    async def brief_url(self, url: str, *, published: date | None = None) -> Briefing:
        if self._fetcher is None:
            raise RuntimeError("this Briefer was made for local files only (no fetcher)")
        page = await self._fetcher.fetch(scrub(url))
        if page.content_type == "text/plain":
            return await self._workers.brief(Source(text=page.text, url=page.url, published=published))
        return await self._workers.brief(Source(html=page.text, url=page.url, published=published))

    @_measured
    async def brief_html(
        self, html: str, *, url: str | None = None, published: date | None = None
    ) -> Briefing:
        source = Source(html=scrub(html), url=scrub_optional(url), published=published)
        return await self._workers.brief(source)

    @_measured
    async def brief_text(self, text: str, *, published: date | None = None) -> Briefing:
        return await self._workers.brief(Source(text=scrub(text), published=published))
