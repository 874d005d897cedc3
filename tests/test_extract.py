import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from bot.briefing.extract import extract_article, json_ld_body
from bot.errors import NotAnArticleError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "harbour_tunnel.html"


def test_example_page_gives_title_date_and_clean_paragraphs() -> None:
    article = extract_article(EXAMPLE.read_text(encoding="utf-8"), url="https://example.org/tunnel")
    assert article.title == "Helsinki and Tallinn sign deal to study undersea rail tunnel"
    assert article.published == date(2026, 3, 12)
    assert article.url == "https://example.org/tunnel"
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith("HELSINKI — Finland and Estonia signed an agreement")
    for furniture in (
        "Share this",
        "Leave a Comment",
        "All rights reserved",
        "Great news, finally",
        "Subscribe",
    ):
        assert furniture not in article.text
    assert not article.text.startswith(article.title)


def test_date_comes_from_metadata_not_from_body_text() -> None:
    body = (
        "<p>" + "The council met in January 2021 and again in March 2021 to discuss the budget. " * 6 + "</p>"
    )
    article = extract_article(
        f"<html><head><title>Budget talks</title></head><body><article>{body}</article></body></html>"
    )
    assert article.published is None


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></body></html>",
        "<html><body><p>Short teaser.</p></body></html>",
        "",
    ],
)
def test_pages_without_an_article_are_refused(html: str) -> None:
    with pytest.raises(NotAnArticleError):
        extract_article(html)


BODY = (
    "The harbour authority reopened the outer quay on Tuesday after six weeks of repairs to its sea wall, "
    "the port's director said. Ferries to the islands will run on the summer timetable from next week."
)
REAL_PAGES = Path(__file__).resolve().parents[2] / "shared" / "bench" / "data" / "pages_real_dev.jsonl.gz"


def json_ld(value: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(value)}</script>'


def test_the_json_ld_article_body_is_found_wherever_it_sits() -> None:
    graph = {"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, {"articleBody": BODY}]}
    assert json_ld_body(f"<html><head>{json_ld(graph)}</head></html>") == BODY
    listed = [{"@type": "Organization"}, {"@type": "NewsArticle", "articleBody": f"<p>{BODY}</p>"}]
    assert json_ld_body(json_ld(listed)) == BODY, "HTML inside the JSON string is read as text"
    teaser = {"@type": "NewsArticle", "articleBody": "Short."}
    assert json_ld_body(json_ld(teaser) + json_ld({"articleBody": BODY})) == BODY, "the longest one"
    broken = '<script type="application/ld+json">{"articleBody": </script>'
    assert json_ld_body(broken + "<p>no JSON-LD body</p>") is None


def test_a_page_whose_markup_holds_only_a_caption_is_read_from_its_json_ld() -> None:
    """scmp.com renders opinion pieces with scripts: the markup has a photo caption, JSON-LD the article."""
    with gzip.open(REAL_PAGES, "rt", encoding="utf-8") as rows:
        [page] = [row for line in rows if "scmp.com" in (row := json.loads(line))["url"]]
    article = extract_article(page["html"], url=page["url"])
    assert all(snippet in article.text for snippet in page["with"])
    assert len(article.text) > 3000


@pytest.mark.parametrize(
    ("host", "body"),
    [
        ("www.axios.com", "A new breed of intelligent video surveillance is being installed"),
        ("www.popsugar.co.uk", "With a bowler hat, a set of false lashes"),
    ],
)
def test_a_page_where_the_fast_extractor_finds_only_furniture_gets_the_full_cascade(
    host: str, body: str
) -> None:
    """trafilatura's fast mode finds a newsletter's sign-off (axios) or a two-line intro (popsugar) on these
    pages, a few hundred characters; its full cascade finds the article (bot.briefing.extract._body)."""
    with gzip.open(REAL_PAGES, "rt", encoding="utf-8") as rows:
        [page] = [row for line in rows if f"//{host}/" in (row := json.loads(line))["url"]]
    article = extract_article(page["html"], url=page["url"])
    assert body in article.text
    assert len(article.text) > 3000
