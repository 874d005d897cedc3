"""Real-page scoring: what a briefing does with a real news page and its furniture (pages_real_dev.jsonl.gz).

Each page comes with snippets its article body contains (`with`) and snippets of page furniture the body
must not contain (`without`; ../shared/bench/data/SOURCES.md). A summary sentence carries furniture when a
furniture snippet occurs in it (or it in one), whitespace and case normalised, at word boundaries so "Reply"
does not match "replying". A top-5 actor comes from furniture when one of its names occurs in a furniture
snippet and in no body snippet. The headline check is ours, not the product's rule (that would hide its
own misses): a sentence repeats the headline when it holds the headline's words in order, or 80% of its
words are the headline's, and it is no longer than the headline plus a few words.

newspaper4k is the peer: its parse and its `nlp.summarize` (3 sentences, as ours) on the same pages. Its
sentence splitter needs NLTK data it would download at run time, so it gets our splitter instead; its
scoring (title words, keyword frequency, position, length) is its own.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.briefing.sentences import split_sentences
from quality.datasets import DATA
from quality.stats import Estimate, pooled_ci, ratio

FILE = "pages_real_dev.jsonl.gz"
PREFIX = "pages:"
TITLE = "Real pages (pages_real_dev, HTML)"
TOP_ACTORS = 5
SENTENCES = 3
MIN_HEADLINE_WORDS = 3
HEADLINE_SHARE = 0.8
HEADLINE_SLACK_WORDS = 3  # "Watch: <headline>" or "<headline>, officials say" is still the headline
_TITLE_SEPARATOR = re.compile(r"\s+[|–—-]+\s+|\s*[|·]\s*")
_WORD = re.compile(r"[^\W_]+")

Row = dict[str, Any]


def load_pages(limit: int | None = None) -> list[Row]:
    with gzip.open(DATA / FILE, "rt", encoding="utf-8") as rows:
        pages = [json.loads(line) for line in rows]
    return pages[:limit]


def batch_rows(pages: list[Row]) -> list[Row]:
    return [{"id": PREFIX + page["id"], "html": page["html"], "url": page["url"]} for page in pages]


def normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _occurs(part: str, whole: str) -> bool:
    """`part` in `whole` (both normalised) where it starts and ends at word boundaries."""
    if not part:
        return False
    return re.search(rf"(?<!\w){re.escape(part)}(?!\w)", whole) is not None


def carries_furniture(sentence: str, furniture: Iterable[str]) -> bool:
    text = normalise(sentence)
    return any(_occurs(s, text) or _occurs(text, s) for s in map(normalise, furniture))


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def repeats_headline(sentence: str, titles: Iterable[str | None]) -> bool:
    words = _words(sentence)
    if len(words) < MIN_HEADLINE_WORDS:
        return False
    for title in titles:
        for part in {title, *_TITLE_SEPARATOR.split(title)} if title else ():
            head = _words(part)
            if len(head) < MIN_HEADLINE_WORDS or len(words) > len(head) + HEADLINE_SLACK_WORDS:
                continue
            in_order = any(words[i : i + len(head)] == head for i in range(len(words) - len(head) + 1))
            if in_order or sum(w in set(head) for w in words) >= HEADLINE_SHARE * len(words):
                return True
    return False


def actor_from_furniture(names: Iterable[str], page: Row) -> bool:
    keys = [normalise(n) for n in names]
    body = [normalise(s) for s in page["with"]]
    furniture = [normalise(s) for s in page["without"]]
    in_furniture = any(_occurs(k, s) for k in keys for s in furniture)
    return in_furniture and not any(_occurs(k, s) for k in keys for s in body)


def html_title(html: str) -> str | None:
    """The page's <title>, so a headline repeat is caught even when the briefing found no title."""
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else None


COLUMNS = ("sentences", "furniture", "headline", "actors", "actors_from_furniture")


@dataclass
class PageScores:
    """One system's counts over the pages; `counts` has a row per briefed page (COLUMNS), for bootstrap CIs
    over pages, and `examples` keeps what was counted, for reading."""

    pages: int = 0
    titled: int = 0
    dated: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    counts: list[list[int]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    @property
    def briefed(self) -> int:
        return len(self.counts)

    def total(self, column: str) -> int:
        return sum(row[COLUMNS.index(column)] for row in self.counts)

    def rate(self, column: str, of: str) -> Estimate:
        counts = np.array(self.counts, dtype=float).reshape(-1, len(COLUMNS))
        pair = counts[:, [COLUMNS.index(column), COLUMNS.index(of)]]
        return pooled_ci(pair, lambda c: ratio(c[..., 0], c[..., 1]))

    def add(self, page: Row, summary: list[str], title: str | None, actors: list[list[str]]) -> None:
        """A briefed page: its summary sentences and the names of its top actors."""
        titles = (title, html_title(page["html"]))
        row = [len(summary), 0, 0, len(actors), 0]
        for sentence in summary:
            if carries_furniture(sentence, page["without"]):
                row[1] += 1
                self.examples.append(f"furniture {page['id']}: {sentence[:120]}")
            if repeats_headline(sentence, titles):
                row[2] += 1
                self.examples.append(f"headline {page['id']}: {sentence[:120]}")
        for names in actors:
            if actor_from_furniture(names, page):
                row[4] += 1
                self.examples.append(f"actor {page['id']}: {names[0]}")
        self.counts.append(row)


def score_ours(pages: list[Row], outputs: dict[str, Row]) -> PageScores:
    scores = PageScores()
    for page in pages:
        out = outputs[PREFIX + page["id"]]
        scores.pages += 1
        if "error" in out:
            scores.refusals[out["error"]["code"]] += 1
            continue
        scores.titled += bool(out.get("title"))
        scores.dated += bool(out.get("published"))
        actors = [[a["name"], *(a.get("aliases") or [])] for a in (out.get("actors") or [])[:TOP_ACTORS]]
        scores.add(page, out.get("summary") or [], out.get("title"), actors)
    return scores


class _OurSplitter:
    """Stands in for NLTK's punkt in newspaper4k (its own would download data at run time)."""

    def tokenize(self, text: str) -> list[str]:
        return [s.text for s in split_sentences(text)]


def score_newspaper(pages: list[Row]) -> PageScores:
    """newspaper4k's parse and summary on the same pages (bench venv only: it is not a product dependency)."""
    from newspaper import Article, nlp  # noqa: PLC0415
    from newspaper.text import StopWords  # noqa: PLC0415

    nlp.split_sentences._tokenizer = _OurSplitter()  # type: ignore[attr-defined]
    stopwords = StopWords("en")
    scores = PageScores()
    for page in pages:
        scores.pages += 1
        article = Article(page["url"], language="en", fetch_images=False)  # it would fetch them
        article.download(input_html=page["html"])
        try:
            article.parse()
        except Exception as exc:  # a peer's failure is a refusal, whatever it raises
            scores.refusals[type(exc).__name__] += 1
            continue
        if len(article.text.split()) < SENTENCES:
            scores.refusals["no text"] += 1
            continue
        scores.titled += bool(article.title)
        scores.dated += article.publish_date is not None
        summary = nlp.summarize(article.title or "", article.text, stopwords, max_sents=SENTENCES)
        scores.add(page, summary, article.title, [])
    return scores
