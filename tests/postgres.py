"""A real PostgreSQL server for the store tests: the one BRIEFBOT_TEST_POSTGRES_URL names, or a throwaway one
started here from the distribution's binaries (initdb + pg_ctl) on 127.0.0.1, in a temporary directory.

initdb refuses to run as root, so as root the server runs as the `postgres` user the distribution package
creates (or, without it, a system user made for the purpose).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

URL_ENV = "BRIEFBOT_TEST_POSTGRES_URL"
_SERVER_USER = "briefbot-test-pg"  # made only when running as root on a machine without a postgres user

T = TypeVar("T")


def server_binaries() -> Path | None:
    """The newest Debian-style /usr/lib/postgresql/N/bin holding initdb and pg_ctl, else the directory of
    the initdb on PATH (other systems install it there), or None."""
    found = [
        p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if (p.parent / "pg_ctl").exists()
    ]
    if not found and (initdb := shutil.which("initdb")) and (Path(initdb).parent / "pg_ctl").exists():
        return Path(initdb).parent
    return max(found, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0), default=None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _os_user() -> str | None:
    """Whom to run the server as: None for the current user unless that is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", _SERVER_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", _SERVER_USER], check=True)
    return _SERVER_USER


class ThrowawayServer:
    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self._bindir = bindir
        self._durable = durable  # PostgreSQL's default fsync per commit (benchmarks), or none (tests)
        self._dir = Path(tempfile.mkdtemp(prefix="briefbot-pg-"))
        self._data = self._dir / "data"
        self._user = _os_user()
        if self._user is not None:
            shutil.chown(self._dir, self._user)

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self._user, "--"] if self._user else []
        result = subprocess.run(
            [*prefix, *command], cwd=self._dir, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr.strip() or result.stdout}")

    def start(self) -> str:
        self._run(str(self._bindir / "initdb"), "-D", str(self._data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        # Durability is not what the tests are about: without fsync each test's schema is cheap.
        options = "-c max_connections=200"
        if not self._durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        for attempt in range(3):  # the free port may be taken between the probe and the server's bind
            port = _free_port()
            try:
                where = f"-h 127.0.0.1 -p {port} -k {self._dir}"
                self._run(str(self._bindir / "pg_ctl"), "-D", str(self._data), "-l", str(self._dir / "log"),
                          "-w", "-t", "60", "-o", f"{where} {options}", "start")  # fmt: skip
                return f"postgresql://postgres@127.0.0.1:{port}/postgres"
            except RuntimeError:
                if attempt == 2:
                    log = (self._dir / "log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
        raise AssertionError("unreachable")

    def stop(self) -> None:
        try:
            self._run(str(self._bindir / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, whether or not an event loop runs here."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def with_search_path(url: str, schema: str) -> str:
    """The URL with its connections' search_path set to `schema` (asyncpg passes unknown query parameters
    on as server settings)."""
    parts = urlsplit(url)
    query = f"{parts.query}&search_path={schema}" if parts.query else f"search_path={schema}"
    return urlunsplit(parts._replace(query=query))


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
