"""Typical news pages for benchmarks, built in memory from the dev articles (never stored in the repo).

Each page wraps one article (~550-650 words) in the furniture of a real news site: head with meta tags,
inline CSS and JSON-LD, a large navigation, a caption, share buttons, related stories, comments and a
footer, for ~60 KB of HTML like the pages the issue's speed targets speak of.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench" / "data"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_FILLER = [
    "markets",
    "council",
    "weather",
    "sport",
    "culture",
    "travel",
    "science",
    "health",
    "opinion",
    "video",
    "podcast",
    "climate",
    "energy",
    "housing",
    "schools",
    "transport",
    "election",
    "football",
    "tennis",
    "cinema",
    "music",
    "books",
    "food",
    "technology",
]


def dev_articles(name: str = "summ_cnndm_dev.jsonl") -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as rows:
        return [json.loads(row) for row in rows]


def _paragraphs(text: str) -> list[str]:
    sentences = _SENTENCE_END.split(text.strip())
    return [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]


def _filler_words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_FILLER) for _ in range(n))


def news_page(title: str, text: str, published: str, seed: int) -> str:
    rng = random.Random(seed)
    nav = "".join(f'<li><a href="/section/{w}-{i}">{w.title()}</a></li>' for i, w in enumerate(_FILLER * 4))
    css = "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i:06x}}}\n" for i in range(700))
    ld = json.dumps(
        {
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": published,
            "keywords": [_filler_words(rng, 3) for _ in range(40)],
        }
    )
    body = "".join(f"<p>{p}</p>\n" for p in _paragraphs(text))
    related = "".join(
        f'<li><a href="/story/{seed}-{i}"><img src="/t/{i}.jpg">{_filler_words(rng, 9).capitalize()}</a></li>'
        for i in range(40)
    )
    comments = "".join(
        f"<div class='comment'><b>reader{i}</b><p>{_filler_words(rng, 25)}</p></div>" for i in range(12)
    )
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Daily Example</title><meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}T08:00:00Z">
<style>{css}</style><script type="application/ld+json">{ld}</script>
<script>window.dataLayer=[];function track(e){{window.dataLayer.push(e)}}</script></head>
<body><header><ul class="nav">{nav}</ul></header><main><article><h1>{title}</h1>
<p class="byline">By Staff Reporter</p><figure><img src="/lead.jpg">
<figcaption>{_filler_words(rng, 8)} - Photo: Example/Agency</figcaption></figure>
{body}<div class="share">Share this article: Facebook Twitter Email</div></article>
<aside><h2>Related stories</h2><ul>{related}</ul></aside>
<section class="comments"><h2>Leave a Comment</h2>{comments}</section></main>
<footer><p>© Daily Example. All rights reserved.</p>{nav}</footer></body></html>"""


def typical_pages(limit: int | None = None) -> Iterator[tuple[str, str, str]]:
    """(id, html, published) for the CNN/DM dev articles, as ~60 KB news pages."""
    for i, row in enumerate(dev_articles()[:limit]):
        first = _SENTENCE_END.split(row["text"])[0]
        title = " ".join(first.split()[:12]).replace('"', "")
        yield row["id"], news_page(title, row["text"], "2024-05-02", seed=i), "2024-05-02"
