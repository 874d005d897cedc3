"""Article links in chat messages, and the canonical form of a URL (the briefing cache key)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.sanitize import scrub

# Stops at whitespace, quotes and brackets; trailing sentence punctuation is trimmed afterwards.
_URL = re.compile(r"""https?://[^\s<>"'`\[\]{}|\\^]+""", re.IGNORECASE)
_TRAILING = ".,;:!?)'\"’”"
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|igshid|ref_src)$", re.IGNORECASE
)


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a balanced parenthesis belongs to the URL (Wikipedia-style links)
        url = url[:-1]
    return url


def find_links(text: str, limit: int) -> list[str]:
    """The distinct http(s) links of a message, in order, at most `limit`."""
    links: list[str] = []
    seen: set[str] = set()
    for match in _URL.finditer(text):
        url = _trim(match.group())
        key = canonical_url(url)
        if urlsplit(url).hostname and key not in seen:
            seen.add(key)
            links.append(url)
            if len(links) == limit:
                break
    return links


def canonical_url(url: str) -> str:
    """Same article, same key: lower-case scheme and host, no fragment, no tracking parameters.

    Total on any string, since it keys what strangers paste: a URL urlsplit refuses ("http://[bad") is its
    own key, and a port that is no port (":99999") stays as written.
    """
    url = scrub(url.strip())  # urlencode encodes to UTF-8: a lone surrogate would raise there
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k)]
    )
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
        host = parts.netloc.rpartition("@")[2].lower()
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))
