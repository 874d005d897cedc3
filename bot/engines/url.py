"""Store URLs: `sqlite:///relative/file`, `sqlite:////absolute/file` or `postgresql://user@host:port/db`."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")


def engine_of(url: str) -> str | None:
    """ "sqlite" or "postgresql", or None for a URL neither engine takes."""
    if url.startswith(SQLITE_PREFIX) and len(url) > len(SQLITE_PREFIX):
        return "sqlite"
    if urlsplit(url).scheme in POSTGRES_SCHEMES:
        return "postgresql"
    return None


def sqlite_path(url: str) -> str:
    return url[len(SQLITE_PREFIX) :]


def has_password(url: str) -> bool:
    return engine_of(url) == "postgresql" and urlsplit(url).password is not None


def redact(url: str) -> str:
    """The URL as it may be shown or logged: any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))
