"""Well-known news feeds, shipped with briefbot and addressed by short name: topic alerts work on a fresh
install without anyone hunting for feed URLs (`/brief source add bbc-world`; `/brief sources` lists them).

DEFAULT_SOURCES are what every channel's subscriptions watch unless `[alerts] default_feeds` says otherwise;
a source is only polled while some channel's subscription needs it. `[alerts.sources]` in the config adds
names of its own (a newsroom's wire, a local paper).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CatalogueFeed:
    name: str  # what people type
    title: str  # what people read
    url: str


CATALOGUE = (
    CatalogueFeed("bbc-world", "BBC News, World", "https://feeds.bbci.co.uk/news/world/rss.xml"),
    CatalogueFeed("bbc-uk", "BBC News, UK", "https://feeds.bbci.co.uk/news/uk/rss.xml"),
    CatalogueFeed("bbc-business", "BBC News, Business", "https://feeds.bbci.co.uk/news/business/rss.xml"),
    CatalogueFeed(
        "bbc-technology", "BBC News, Technology", "https://feeds.bbci.co.uk/news/technology/rss.xml"
    ),
    CatalogueFeed(
        "bbc-science",
        "BBC News, Science and environment",
        "https://feeds.bbci.co.uk/news/science_and_environment/rss.xml",
    ),
    CatalogueFeed("guardian-world", "The Guardian, World news", "https://www.theguardian.com/world/rss"),
    CatalogueFeed("guardian-business", "The Guardian, Business", "https://www.theguardian.com/business/rss"),
    CatalogueFeed(
        "guardian-environment", "The Guardian, Environment", "https://www.theguardian.com/environment/rss"
    ),
    CatalogueFeed("npr-news", "NPR, News", "https://feeds.npr.org/1001/rss.xml"),
    CatalogueFeed("npr-world", "NPR, World", "https://feeds.npr.org/1004/rss.xml"),
    CatalogueFeed("aljazeera", "Al Jazeera English", "https://www.aljazeera.com/xml/rss/all.xml"),
    CatalogueFeed("dw-world", "Deutsche Welle, World", "https://rss.dw.com/rdf/rss-en-world"),
    CatalogueFeed("france24", "France 24, English", "https://www.france24.com/en/rss"),
    CatalogueFeed("un-news", "UN News", "https://news.un.org/feed/subscribe/en/news/all/rss.xml"),
    CatalogueFeed("cbc-world", "CBC News, World", "https://www.cbc.ca/webfeed/rss/rss-world"),
    CatalogueFeed(
        "abc-au", "ABC News (Australia), Just in", "https://www.abc.net.au/news/feed/51120/rss.xml"
    ),
    CatalogueFeed("ars-technica", "Ars Technica", "https://feeds.arstechnica.com/arstechnica/index"),
    CatalogueFeed(
        "sciencedaily", "ScienceDaily, Top science", "https://www.sciencedaily.com/rss/top/science.xml"
    ),
)
# General world news from six newsrooms on four continents' worth of coverage.
DEFAULT_SOURCES = ("bbc-world", "guardian-world", "npr-world", "aljazeera", "dw-world", "france24")


class Catalogue:
    """The shipped feeds plus any the config names (`[alerts.sources]`, which win on a clash)."""

    def __init__(self, extra: tuple[tuple[str, str], ...] = ()) -> None:
        named = {feed.name: feed for feed in CATALOGUE}
        named |= {name.lower(): CatalogueFeed(name.lower(), name, url) for name, url in extra}
        self.feeds = tuple(named.values())
        self._by_name = named
        self._by_url = {feed.url: feed for feed in self.feeds}

    def feed(self, name: str) -> CatalogueFeed | None:
        return self._by_name.get(name.strip().lower())

    def url(self, source: str) -> str | None:
        """A name's feed URL, an http(s) URL as it is, else None."""
        if (feed := self.feed(source)) is not None:
            return feed.url
        return source if source.startswith(("http://", "https://")) else None

    def describe(self, url: str) -> str:
        """How a source is shown to people: its title and name, or its URL."""
        feed = self._by_url.get(url)
        return f"{feed.title} (`{feed.name}`)" if feed else url
