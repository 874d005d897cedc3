"""Shared fixtures. The page server is reusable by any test that needs real HTTP on loopback; the store
fixtures give each test a fresh store on each engine: an SQLite file and a schema on a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import NoReturn

import pytest
import pytest_asyncio
from pageserver import PageServer, loopback_host
from postgres import URL_ENV, ThrowawayServer, execute, run_sync, server_binaries, with_search_path

from bot.config import FetchSettings
from bot.store import Store


@pytest_asyncio.fixture
async def page_server() -> AsyncIterator[PageServer]:
    """A running local web server (127.0.0.2 where possible); add pages with .page(), .redirect(), .add()."""
    server = PageServer(loopback_host())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def fetch_settings(page_server: PageServer) -> FetchSettings:
    """FetchSettings whose allow-list is exactly the page server's address, with a short time cap."""
    return FetchSettings(allow_private_networks=(page_server.network,), timeout_seconds=2.0)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session: $BRIEFBOT_TEST_POSTGRES_URL, else one started from the
    distribution's binaries. With neither, CI fails (it must test both engines) and elsewhere the
    PostgreSQL half of the store tests is skipped, saying why."""
    if url := os.environ.get(URL_ENV, "").strip():
        yield url
        return
    bindir = server_binaries()
    if bindir is None:
        no_server(os.environ)
    server = ThrowawayServer(bindir)
    try:
        yield server.start()
    finally:
        server.stop()


def no_server(env: Mapping[str, str]) -> NoReturn:
    """Without a PostgreSQL server half the store is untested: a failure in CI, a skip elsewhere."""
    reason = (
        f"no PostgreSQL server to test against: set {URL_ENV} or install the distribution's "
        "postgresql package (/usr/lib/postgresql/*/bin/initdb)"
    )
    if env.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty store: an SQLite file in the test's directory, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    yield request.getfixturevalue("postgres_store_url")


@pytest.fixture
def postgres_store_url(postgres_url: str) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema: a store several processes can share."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    run_sync(execute(postgres_url, f"CREATE SCHEMA {schema}"))
    try:
        yield with_search_path(postgres_url, schema)
    finally:
        run_sync(execute(postgres_url, f"DROP SCHEMA {schema} CASCADE"))


@pytest_asyncio.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """A real store, migrated, on each engine."""
    async with await Store.open(store_url, migrate=True) as opened:
        yield opened
