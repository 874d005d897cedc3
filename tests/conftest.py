"""Shared fixtures. The page server is reusable by any test that needs real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pageserver import PageServer, loopback_host

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


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A real SQLite store in the test's own directory."""
    async with await Store.open(tmp_path / "bot.sqlite3") as opened:
        yield opened
