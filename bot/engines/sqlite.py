"""SQLite through aiosqlite: one connection per store, statements run in aiosqlite's thread (never on the
event loop). Autocommit mode, so a write is one round trip to that thread; transactions say BEGIN
IMMEDIATE, taking the write lock up front so two processes on one file wait (busy_timeout) instead of
failing on a lock upgrade."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, Self

import aiosqlite

from bot.engines.base import DatabaseError, IntegrityError, Row, StoreError

BUSY_TIMEOUT_MS = 30_000


async def _switch_to_wal(conn: aiosqlite.Connection) -> None:
    """`PRAGMA journal_mode=WAL`, waiting like busy_timeout: SQLite answers "database is locked" at once,
    without its busy handler, while another process writes to a file not yet in WAL mode (two replicas
    creating one store together)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise IntegrityError(str(error)) from error
    except sqlite3.Error as error:
        raise DatabaseError(str(error)) from error


class _Statements:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        with _translated():
            cursor = await self._conn.execute(sql, args)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _translated():
            await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with _translated():
            return [tuple(row) for row in await self._conn.execute_fetchall(sql, args)]

    async def schema_version(self) -> int:
        rows = await self.fetchall("PRAGMA user_version")
        return int(rows[0][0])

    async def set_schema_version(self, version: int) -> None:
        await self.execute(f"PRAGMA user_version = {int(version)}")  # a PRAGMA takes no parameters


class SQLiteDatabase:
    engine = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._statements = _Statements(conn)
        # The connection is shared by the process's tasks: a transaction's statements must not interleave
        # with another task's (whose statement would join, or be rolled back with, the transaction).
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> Self:
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the SQLite store {path}: {error}") from None
        try:
            # First: even switching to WAL waits for another process's write (a migration may take seconds
            # on a loaded machine) this long before it fails.
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await _switch_to_wal(conn)
            await conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process kills
        except sqlite3.Error as error:
            await conn.close()
            raise StoreError(f"cannot open the SQLite store {path}: {error}") from None
        return cls(conn)

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        async with self._lock:
            return await self._statements.execute(sql, args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as tx:  # autocommit would make each row its own transaction
            await tx.executemany(sql, rows)

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        async with self._lock:
            return await self._statements.fetchall(sql, args)

    async def schema_version(self) -> int:
        async with self._lock:
            return await self._statements.schema_version()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Statements]:
        async with self._lock:
            with _translated():
                await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._statements
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            with _translated():
                await self._conn.execute("COMMIT")

    def migration(self) -> AbstractAsyncContextManager[_Statements]:
        return self.transaction()  # BEGIN IMMEDIATE already keeps other processes out

    async def close(self) -> None:
        await self._conn.close()
