"""HTML page → Article: the body text (trafilatura, no comments), title and publication date.

Runs in a worker (lxml parsing is blocking work). The text keeps one paragraph per block, separated by blank
lines, so the summarizer can see paragraph structure.
"""

from __future__ import annotations

from datetime import date

import trafilatura
from trafilatura.settings import Document

from bot.errors import NotAnArticleError
from bot.models import Article

MIN_ARTICLE_CHARS = 200  # below this trafilatura found a teaser or page furniture, not an article


def parse_iso_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def extract_article(html: str, *, url: str | None = None, today: date | None = None) -> Article:
    today = today or date.today()
    document = trafilatura.bare_extraction(
        html,
        url=url,
        include_comments=False,
        include_tables=False,
        include_images=False,
        with_metadata=True,
        # Metadata and <time> only: htmldate's extensive search guesses from body text ("January 2021").
        date_extraction_params={
            "original_date": True,
            "extensive_search": False,
            "max_date": today.isoformat(),
        },
    )
    if not isinstance(document, Document) or not document.text:  # a dict only with as_dict=True
        raise NotAnArticleError()
    title = (document.title or "").strip() or None
    paragraphs = [p.strip() for p in document.text.split("\n") if p.strip()]
    if title and paragraphs and paragraphs[0].casefold() == title.casefold():
        paragraphs = paragraphs[1:]  # the <h1> repeats the title
    text = "\n\n".join(paragraphs)
    if len(text) < MIN_ARTICLE_CHARS:
        raise NotAnArticleError()
    return Article(text=text, title=title, published=parse_iso_date(document.date), url=url)
