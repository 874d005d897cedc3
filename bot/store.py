"""All durable state behind one interface: SQLite by default (one file, WAL), numbered migrations.

SQL here sticks to what PostgreSQL also runs (no SQLite-only syntax beyond the PRAGMAs in `open`), so a
PostgreSQL store can implement the same methods when several bot processes must share state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

import aiosqlite

# Append only: a migration, once released, never changes. The index + 1 is the schema version.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE channel_settings (
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        auto_brief BOOLEAN,
        PRIMARY KEY (platform, channel)
    )
    """,
]


class Store:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: str | Path) -> Self:
        db = await aiosqlite.connect(path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process kills
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db)
        await store._migrate()
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = row[0] if row else 0
        for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
            await self._db.execute("BEGIN")
            await self._db.execute(sql)
            await self._db.execute(f"PRAGMA user_version = {number}")
            await self._db.commit()

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def auto_brief(self, platform: str, channel: str) -> bool | None:
        """The channel's own choice, or None when it has not chosen (the config default applies)."""
        async with self._db.execute(
            "SELECT auto_brief FROM channel_settings WHERE platform = ? AND channel = ?", (platform, channel)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else bool(row[0])

    async def set_auto_brief(self, platform: str, channel: str, enabled: bool) -> None:
        await self._db.execute(
            "INSERT INTO channel_settings (platform, channel, auto_brief) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, channel) DO UPDATE SET auto_brief = excluded.auto_brief",
            (platform, channel, enabled),
        )
        await self._db.commit()
