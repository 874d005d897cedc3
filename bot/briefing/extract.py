"""HTML page → Article: the body text (trafilatura, no comments), title and publication date.

Runs in a worker (lxml parsing is blocking work). The text keeps one paragraph per block, separated by blank
lines, so the summarizer can see paragraph structure. Pages that render their body with scripts often carry
it as schema.org `articleBody` in JSON-LD: that is the fallback when the markup holds no article.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import lxml.html
import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura import metadata as metadata_rules
from trafilatura.settings import Document
from trafilatura.utils import load_html

from bot.errors import NotAnArticleError
from bot.models import Article

MIN_ARTICLE_CHARS = 200  # below this trafilatura found a teaser or page furniture, not an article
# trafilatura's fast mode is trusted from this much text up; below it (a teaser, a list page, a body it
# missed) its full cascade runs too. 200 (any article) changed 11 of the 171 real dev pages, 6 of them to a
# few hundred characters of furniture where the cascade had found the body; 2000 changes 5, none that way.
FAST_ENOUGH_CHARS = 2000


def parse_iso_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


_JSON_LD = re.compile(r"<script[^>]*application/ld\+json[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def _json_objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD value: lists, nested objects and "@graph" included."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _json_objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _json_objects(inner)


def json_ld_body(html: str) -> str | None:
    """The longest schema.org `articleBody` in the page's JSON-LD, as plain text."""
    bodies = []
    for script in _JSON_LD.finditer(html):
        try:
            data = json.loads(script.group(1), strict=False)
        except ValueError:
            continue
        bodies += [o["articleBody"] for o in _json_objects(data) if isinstance(o.get("articleBody"), str)]
    if not bodies:
        return None
    body = max(bodies, key=len)
    if "<" in body:  # some sites put the body's HTML in the JSON
        body = lxml.html.fromstring(f"<div>{body}</div>").text_content()
    return body.strip() or None


def _title_and_date(
    tree: HtmlElement, url: str | None, today: date
) -> tuple[str | None, str | None, str | None]:
    """Title, publication date (ISO) and canonical URL as trafilatura's extract_metadata finds them, without
    the author, site name, categories, tags and license it also looks for (a third of its cost per page,
    none of it used). The order and sources are its own: meta tags, then JSON-LD, then the title element;
    the date from htmldate on metadata and <time> only (its extensive search guesses from body text)."""
    metadata = metadata_rules.examine_meta(tree)
    with contextlib.suppress(Exception):  # trafilatura guards its JSON-LD reader the same way
        metadata = metadata_rules.extract_meta_json(tree, metadata)
    metadata.title = metadata.title or metadata_rules.extract_title(tree)
    metadata.url = metadata.url or metadata_rules.extract_url(tree, url)
    published = find_date(
        tree, url=metadata.url, original_date=True, extensive_search=False, max_date=today.isoformat()
    )
    metadata.clean_and_trim()  # entities, control characters and runs of spaces out of the title
    return metadata.title, published, metadata.url


def _body(tree: HtmlElement, url: str | None) -> Document | None:
    """trafilatura's fast mode (its own extractor alone) and, only where that finds less than
    FAST_ENOUGH_CHARS, its full cascade (readability and jusText compared with it, then rescues): those
    fallbacks were a third of extraction's CPU time. On the real dev pages: CPU per briefing -12%, the
    same pages briefed, summary furniture and body snippets found (bench/quality/notes.md)."""
    document = None
    for fast in (True, False):
        found = trafilatura.bare_extraction(
            tree, url=url, fast=fast, include_comments=False, include_tables=False, include_images=False
        )
        document = found if isinstance(found, Document) else None  # a dict only with as_dict=True
        if document is not None and len(document.text or "") >= FAST_ENOUGH_CHARS:
            break
    return document


def extract_article(html: str, *, url: str | None = None, today: date | None = None) -> Article:
    today = today or date.today()
    tree = load_html(html)  # parsed once, for the metadata and the body
    if tree is None:
        raise NotAnArticleError()
    title, published, page_url = _title_and_date(tree, url, today)
    document = _body(tree, url or page_url)
    if document is None:
        raise NotAnArticleError()
    found = document.text or ""
    if len(found) < MIN_ARTICLE_CHARS:
        found = json_ld_body(html) or found
    title = (title or "").strip() or None
    paragraphs = [p.strip() for p in found.split("\n") if p.strip()]
    if title and paragraphs and paragraphs[0].casefold() == title.casefold():
        paragraphs = paragraphs[1:]  # the <h1> repeats the title
    text = "\n\n".join(paragraphs)
    if len(text) < MIN_ARTICLE_CHARS:
        raise NotAnArticleError()
    return Article(text=text, title=title, published=parse_iso_date(published), url=url)
