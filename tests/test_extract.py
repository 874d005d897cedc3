from datetime import date
from pathlib import Path

import pytest

from bot.briefing.extract import extract_article
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
