"""Database engines behind the store: SQLite (aiosqlite, the default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from bot.engines.base import Database, DatabaseError, IntegrityError, MigrationSession, Session, StoreError
from bot.engines.url import engine_of, redact, sqlite_path

__all__ = [
    "Database",
    "DatabaseError",
    "IntegrityError",
    "MigrationSession",
    "Session",
    "StoreError",
    "open_database",
]


async def open_database(url: str) -> Database:
    """Connect to the store at `url`; StoreError (one line, password redacted) when it can't be opened."""
    engine = engine_of(url)
    if engine == "sqlite":
        from bot.engines.sqlite import SQLiteDatabase  # noqa: PLC0415 - each engine loads its driver only

        return await SQLiteDatabase.open(sqlite_path(url))
    if engine == "postgresql":
        from bot.engines.postgres import PostgresDatabase  # noqa: PLC0415

        return await PostgresDatabase.open(url)
    raise StoreError(f"{redact(url)} is not a store URL (sqlite:///FILE or postgresql://user@host:port/db)")
