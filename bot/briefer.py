"""The core's one entry point for every front end (CLI, batch, chat adapters): a link or text → a Briefing.

Fetching stays on the event loop (it is I/O); extraction and NLP go to the workers. Every string is scrubbed
here (lone surrogates → U+FFFD, `bot.sanitize`), so no front end can hand the pipeline text it can't encode.
"""

from __future__ import annotations

from datetime import date

from bot.fetch import Fetcher
from bot.models import Briefing, Source
from bot.sanitize import scrub, scrub_optional
from bot.workers import BriefingWorkers


class Briefer:
    def __init__(self, fetcher: Fetcher, workers: BriefingWorkers) -> None:
        self._fetcher = fetcher
        self._workers = workers

    async def brief_url(self, url: str, *, published: date | None = None) -> Briefing:
        page = await self._fetcher.fetch(scrub(url))
        if page.content_type == "text/plain":
            return await self._workers.brief(Source(text=page.text, url=page.url, published=published))
        return await self._workers.brief(Source(html=page.text, url=page.url, published=published))

    async def brief_html(
        self, html: str, *, url: str | None = None, published: date | None = None
    ) -> Briefing:
        source = Source(html=scrub(html), url=scrub_optional(url), published=published)
        return await self._workers.brief(source)

    async def brief_text(self, text: str, *, published: date | None = None) -> Briefing:
        return await self._workers.brief(Source(text=scrub(text), published=published))
