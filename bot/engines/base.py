"""What the store needs from a database engine, whatever the engine: statements with `?` parameters that
commit on their own, transactions, and the schema version the numbered migrations have reached."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = tuple[Any, ...]


class DatabaseError(Exception):
    """A statement failed; the engine's own error is the cause, so callers need not know the engine."""


class IntegrityError(DatabaseError):
    """A constraint refused a row (e.g. two processes picked the same new id)."""


class StoreError(Exception):
    """The store can't be used: unreachable, or at a schema version this release can't run on. One line,
    with the URL's password redacted."""


class Session(Protocol):
    """Statements; on a Database each commits at once, in a transaction they commit together at its end."""

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Rows of a query, or of a write's RETURNING clause."""
        ...


class MigrationSession(Session, Protocol):
    async def schema_version(self) -> int: ...
    async def set_schema_version(self, version: int) -> None: ...


class Database(Session, Protocol):
    engine: str  # "sqlite" or "postgresql"

    def transaction(self) -> AbstractAsyncContextManager[Session]:
        """Statements that commit together, or not at all when the block raises."""
        ...

    def migration(self) -> AbstractAsyncContextManager[MigrationSession]:
        """A transaction that only one process at a time holds, to read and move the schema version."""
        ...

    async def schema_version(self) -> int: ...
    async def close(self) -> None: ...
