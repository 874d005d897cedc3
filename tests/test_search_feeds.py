"""Search feeds (`[alerts] search_feeds`): one news-search RSS URL per subscription query, polled as one more
source of that query's subscriptions; redirector links are unwrapped to the publisher's article, and an
article that can't be had still alerts with the feed item's own title and description."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from fakes import FakeBriefer, FakeClock, RecordingAdapter
from feedserver import Entry, FeedServer, rss20
from pageserver import PageServer

from bot.alerts.model import StoryAlert
from bot.alerts.search import publisher_link, search_feed_url
from bot.alerts.watcher import AlertWatcher
from bot.config import AlertSettings, ConfigError, FetchSettings
from bot.errors import NotFoundError
from bot.fetch import Fetcher
from bot.store import Store

ARTICLE = "https://publisher.example/2026/03/harbour-strike"
GONE = "https://paywalled.example/2026/03/union-rejects-offer"
BING = "https://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=1&url="


def redirected(url: str) -> str:
    return f"https://search.example/click?u={quote(url, safe='')}&sig=abc"


@pytest.mark.parametrize(
    ("link", "article"),
    [
        (BING + quote(ARTICLE, safe=""), ARTICLE),
        (redirected(ARTICLE), ARTICLE),
        (ARTICLE, ARTICLE),  # a publisher's own link stays
        ("https://news.google.example/rss/articles/CBMiK2h0dHBz", "https://news.google.example/rss/articles/CBMiK2h0dHBz"),
        ("https://search.example/click?q=harbour+strike", "https://search.example/click?q=harbour+strike"),
    ],
)  # fmt: skip
def test_a_redirector_link_is_unwrapped_to_the_article(link: str, article: str) -> None:
    assert publisher_link(link) == article


def test_the_query_goes_into_the_template_encoded() -> None:
    url = search_feed_url("https://search.example/rss?format=rss&q={query}", '"North Korea" missile -sports')
    assert url == "https://search.example/rss?format=rss&q=%22North+Korea%22+missile+-sports"


def test_a_search_feed_template_needs_its_placeholder() -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        AlertSettings(search_feeds=("https://search.example/rss?q=news",))


async def test_each_query_polls_its_search_feed_and_alerts_the_publishers_article(
    page_server: PageServer, fetch_settings: FetchSettings, store: Store
) -> None:
    serving: dict[str, list[Entry]] = {"strike": [], "floods": []}
    feeds = FeedServer(page_server)
    # The local "search engine" answers per query; the watcher asks with ?q=<query>.
    strike = feeds.feed("/search/harbour+strike.xml", lambda _n: rss20("Search", serving["strike"]))
    feeds.feed("/search/floods.xml", lambda _n: rss20("Search: floods", serving["floods"]))
    template = strike.replace("harbour+strike", "{query}")
    for channel in ("C1", "C2"):
        await store.add_subscription(
            "slack", channel, "harbour strike", created_by="U1", created_at=0.0, digest=None
        )
    await store.add_subscription("slack", "C2", "floods", created_by="U1", created_at=0.0, digest=None)
    settings = AlertSettings(default_feeds=(), search_feeds=(template,))
    clock, sink = FakeClock(datetime(2026, 3, 1, tzinfo=UTC)), RecordingAdapter()
    briefer = FakeBriefer(errors={"paywalled.example": NotFoundError()})
    async with Fetcher(fetch_settings) as fetcher:
        watcher = AlertWatcher(store, fetcher, briefer, sink, settings, poll_clock=clock)
        await watcher.refresh()
        await watcher.poll_due()  # the baselines
        polled = {request.path for request in page_server.requests}
        assert {"/search/harbour+strike.xml", "/search/floods.xml"} <= polled, "one feed per distinct query"

        clock.advance(timedelta(hours=1).total_seconds())
        serving["strike"] = [
            Entry("Dockers strike at the harbour", redirected(ARTICLE), summary="Ferries halted."),
            Entry(
                "Harbour strike: union rejects the port authority's final pay offer",
                redirected(GONE),
                summary="Members voted 412 to 88 against the offer on Thursday evening.",
            ),
        ]
        await watcher.poll_due()

    alerts = [(d.channel, d.content) for d in sink.delivered if isinstance(d.content, StoryAlert)]
    assert sorted(briefer.urls) == sorted([ARTICLE, GONE]), "one feed read by two channels: briefed once"
    by_url: dict[str, set[str]] = {}
    for channel, alert in alerts:
        by_url.setdefault(alert.briefing.url or "", set()).add(channel)
    assert by_url == {ARTICLE: {"C1", "C2"}, GONE: {"C1", "C2"}}, "the publisher's links, in both channels"
    [teaser] = {alert.briefing.summary[0] for _, alert in alerts if alert.briefing.url == GONE}
    assert teaser == "Members voted 412 to 88 against the offer on Thursday evening.", "the item's own words"
