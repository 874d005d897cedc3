"""Search feeds: a news search engine's RSS endpoint, one URL per subscription query, as one more source of
the subscriptions with that query (`[alerts] search_feeds`, templates with a `{query}` placeholder).

Search engines often link items through their own redirector; the alert is about the publisher's article,
so a link that carries the article's address in its query string is unwrapped to it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus, urlsplit

PLACEHOLDER = "{query}"
# Query parameters redirectors put the destination in, most specific first.
_DESTINATION_KEYS = ("url", "u", "q", "target", "dest", "destination", "redirect", "r", "link")


def search_feed_url(template: str, query: str) -> str:
    """The template with the subscription's query, URL-encoded, in place of `{query}`."""
    return template.replace(PLACEHOLDER, quote_plus(query))


def publisher_link(link: str) -> str:
    """The article a search engine's redirector link points to, or the link itself."""
    try:
        params = dict(parse_qsl(urlsplit(link).query))
    except ValueError:
        return link
    for key in _DESTINATION_KEYS:
        value = params.get(key, "")
        if value.startswith(("http://", "https://")):
            return value
    return link
