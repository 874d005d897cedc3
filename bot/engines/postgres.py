"""PostgreSQL through asyncpg: a small connection pool; the store's `?` parameters become `$1, $2, ...`,
so both engines run the same SQL. asyncpg prepares and caches each statement per connection."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, Self, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.engines.base import DatabaseError, IntegrityError, Row, StoreError
from bot.engines.url import redact

# Any number will do as long as it is fixed: every briefbot process takes this advisory lock to migrate.
_MIGRATION_LOCK = 0x62726566  # "bref"
_PARAMETER = re.compile(r"'[^']*'|\?")  # a `?` outside string literals


@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's numbered ones."""
    count = itertools.count(1)
    return _PARAMETER.sub(lambda m: f"${next(count)}" if m.group() == "?" else m.group(), sql)


def _rowcount(status: str) -> int:
    """Rows changed, from a command tag such as "INSERT 0 1" or "UPDATE 3"."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as error:
        raise IntegrityError(str(error)) from error
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        raise DatabaseError(f"{type(error).__name__}: {error}") from error


Executor: TypeAlias = (
    "asyncpg.Pool[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"  # generic in stubs only
)


class _Statements:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        with _translated():
            return _rowcount(await self._executor.execute(numbered(sql), *args))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _translated():
            await self._executor.executemany(numbered(sql), rows)

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with _translated():
            return [tuple(record) for record in await self._executor.fetch(numbered(sql), *args)]

    async def schema_version(self) -> int:
        rows = await self.fetchall("SELECT version FROM schema_version")
        return int(rows[0][0]) if rows else 0

    async def set_schema_version(self, version: int) -> None:
        await self.execute("DELETE FROM schema_version")
        await self.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))


class PostgresDatabase(_Statements):
    engine = "postgresql"

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        super().__init__(pool)
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> Self:
        """The password, if any, comes in the URL from the environment, or from PGPASSWORD or ~/.pgpass."""
        try:
            # min_size 1: an idle bot holds one connection; bursts (alerts, events) open up to 10.
            pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, ValueError) as error:
            reason = str(error).replace(url, redact(url)) or type(error).__name__
            raise StoreError(f"cannot open the PostgreSQL store {redact(url)}: {reason}") from None
        return cls(pool)

    async def schema_version(self) -> int:
        try:
            return await super().schema_version()
        except DatabaseError as error:
            if isinstance(error.__cause__, asyncpg.UndefinedTableError):
                return 0  # nothing migrated yet
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Statements]:
        with _translated():
            async with self._pool.acquire() as conn, conn.transaction():
                yield _Statements(conn)

    @asynccontextmanager
    async def _migration(self) -> AsyncIterator[_Statements]:
        async with self.transaction() as tx:
            await tx.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            await tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            yield tx

    def migration(self) -> AbstractAsyncContextManager[_Statements]:
        return self._migration()

    async def close(self) -> None:
        await self._pool.close()
