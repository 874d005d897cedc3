"""The core's one entry point for every front end (CLI, batch, chat adapters): a link or text → a Briefing.

Fetching stays on the event loop (it is I/O); extraction and NLP go to the workers.
"""

from __future__ import annotations

from datetime import date

from bot.fetch import Fetcher
from bot.models import Briefing, Source
from bot.workers import BriefingWorkers


class Briefer:
    def __init__(self, fetcher: Fetcher, workers: BriefingWorkers) -> None:
        self._fetcher = fetcher
        self._workers = workers

    async def brief_url(self, url: str, *, published: date | None = None) -> Briefing:
        page = await self._fetcher.fetch(url)
        if page.content_type == "text/plain":
            return await self._workers.brief(Source(text=page.text, url=page.url, published=published))
        return await self._workers.brief(Source(html=page.text, url=page.url, published=published))

    async def brief_html(
        self, html: str, *, url: str | None = None, published: date | None = None
    ) -> Briefing:
        return await self._workers.brief(Source(html=html, url=url, published=published))

    async def brief_text(self, text: str, *, published: date | None = None) -> Briefing:
        return await self._workers.brief(Source(text=text, published=published))
