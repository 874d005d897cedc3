"""The store's operations on both engines: what PostgreSQL costs against the SQLite default.

Run: .venv/bin/python bench/store_ops.py [-n 2000] [--drivers] [--out bench/results/store_ops.md]

PostgreSQL is $BRIEFBOT_TEST_POSTGRES_URL, else a server started here from the distribution's binaries with
PostgreSQL's default durability (fsync and synchronous_commit on), on 127.0.0.1. SQLite is a file in WAL
mode with synchronous=NORMAL, as the bot runs it. Everything goes through `Store`, as the bot calls it:

- enqueue / deliver: `enqueue_delivery` then `mark_delivered`, one alert at a time (the alert queue);
- alerts/s: the same pair from 8 concurrent tasks (one process; PostgreSQL spreads them over its pool);
- claim: `claim_inbound_delivery` of new ids and of copies (each Slack event);
- lookup: `subscriptions(platform, channel)` among 1,000 subscriptions in 100 channels, and `auto_brief`;
- lease: `lease_feed` taking a free feed, and asking for one another process holds (the feed poll's cost);
- stories: `add_story_once` (the cluster-wide "is it new?" under a lock, then the row) against `add_story`;
- alert claims: `enqueue_delivery`, `claim_deliveries` and `mark_delivered`, one alert at a time.

--drivers also times one claim INSERT straight through each candidate driver (asyncpg, psycopg 3 async,
SQLAlchemy Core async on asyncpg and aiosqlite) when they are importable; briefbot does not depend on the
last two, so put them on the path from a scratch venv: `python3 -m venv /tmp/drivers && /tmp/drivers/bin/pip
install 'psycopg[binary]' 'sqlalchemy[asyncio]' && PYTHONPATH=/tmp/drivers/lib/python3.11/site-packages
.venv/bin/python bench/store_ops.py --drivers`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from postgres import URL_ENV, ThrowawayServer, execute, server_binaries, with_search_path  # noqa: E402

from bot.alerts.model import Delivery  # noqa: E402
from bot.chat.model import Notice  # noqa: E402
from bot.store import Store, StoredStory  # noqa: E402

CLAIM = "INSERT INTO inbound_deliveries (platform, delivery_id, received_at) VALUES ('slack', ?, ?) "
CLAIM += "ON CONFLICT (platform, delivery_id) DO NOTHING"


def ms(samples: list[float]) -> tuple[str, str]:
    """Median and p95, in milliseconds."""
    ordered = sorted(samples)
    return f"{statistics.median(ordered) * 1000:.3f}", f"{ordered[int(len(ordered) * 0.95)] * 1000:.3f}"


async def timed(n: int, op: Callable[[int], Awaitable[Any]]) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        await op(i)
        samples.append(time.perf_counter() - started)
    return samples


@contextmanager
def postgres_server() -> Iterator[str]:
    import os  # noqa: PLC0415

    if url := os.environ.get(URL_ENV, "").strip():
        yield url
        return
    bindir = server_binaries()
    if bindir is None:
        raise SystemExit(f"no PostgreSQL: set {URL_ENV} or install the postgresql package")
    server = ThrowawayServer(bindir, durable=True)
    try:
        yield server.start()
    finally:
        server.stop()


@asynccontextmanager
async def fresh_schema(server: str) -> AsyncIterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    await execute(server, f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(server, schema)
    finally:
        await execute(server, f"DROP SCHEMA {schema} CASCADE")


async def store_ops(url: str, n: int) -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    async with await Store.open(url, migrate=True) as store:
        notice = Notice("A feed was disabled.")
        rows["enqueue_delivery"] = ms(
            await timed(n, lambda i: store.enqueue_delivery(Delivery(f"k{i}", "slack", "C1", notice, i)))
        )
        rows["mark_delivered"] = ms(await timed(n, lambda i: store.mark_delivered(f"k{i}", at=i + 0.5)))

        async def worker(w: int) -> None:
            for i in range(n // 8):
                await store.enqueue_delivery(Delivery(f"c{w}:{i}", "slack", f"C{w}", notice, i))
                await store.mark_delivered(f"c{w}:{i}", at=i + 0.5)

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(8)))
        rate = (n // 8 * 8) / (time.perf_counter() - started)
        rows["alerts/s, enqueue + deliver, 8 tasks"] = (f"{rate:.0f}/s", "")

        rows["claim_inbound_delivery, new"] = ms(
            await timed(n, lambda i: store.claim_inbound_delivery("slack", f"event:T1:Ev{i}", 1.0))
        )
        rows["claim_inbound_delivery, copy"] = ms(
            await timed(n, lambda i: store.claim_inbound_delivery("slack", f"event:T1:Ev{i}", 2.0))
        )
        for i in range(1000):
            await store.add_subscription(
                "slack", f"C{i % 100}", f"topic {i}", created_by="U1", created_at=1.0, digest=None
            )
        rows["subscriptions(channel), 10 of 1,000"] = ms(
            await timed(n, lambda i: store.subscriptions("slack", f"C{i % 100}"))
        )
        rows["auto_brief(channel)"] = ms(await timed(n, lambda i: store.auto_brief("slack", f"C{i % 100}")))
        rows["lease_feed, taken"] = ms(
            await timed(
                n, lambda i: store.lease_feed(f"https://f{i}.example/rss", "a", now=1.0, seconds=60.0)
            )
        )
        rows["lease_feed, held by another"] = ms(
            await timed(
                n, lambda i: store.lease_feed(f"https://f{i}.example/rss", "b", now=2.0, seconds=60.0)
            )
        )
        signature = bytes(518)
        rows["add_story (no look-up)"] = ms(
            await timed(n, lambda i: store.add_story(f"plain{i}", signature, "t", "u", float(i)))
        )
        latest = 0

        async def record(i: int) -> None:  # each call sees the story the previous one recorded
            nonlocal latest
            story = StoredStory(f"s{i}", signature, float(i), title="t", url="u")
            _, latest = await store.add_story_once(story, after=latest, same_as=lambda _recorded: None)

        rows["add_story_once (cluster-wide look-up + record)"] = ms(await timed(n, record))

        async def claim_and_deliver(i: int) -> None:
            await store.enqueue_delivery(Delivery(f"q{i}", "slack", "C1", notice, i))
            [claimed] = await store.claim_deliveries("a", now=float(i), seconds=60.0)
            await store.mark_delivered(claimed.key, at=i + 0.5)

        rows["enqueue + claim_deliveries + mark_delivered"] = ms(await timed(n, claim_and_deliver))
    return rows


async def driver_ops(server: str, schema: str, sqlite_path: Path, n: int) -> dict[str, tuple[str, str]]:
    """One claim INSERT through each candidate driver, autocommitted, on tables the store made."""
    from bot.engines.postgres import numbered  # noqa: PLC0415

    rows: dict[str, tuple[str, str]] = {}
    import asyncpg  # noqa: PLC0415

    conn = await asyncpg.connect(server, server_settings={"search_path": schema})
    sql = numbered(CLAIM)
    rows["asyncpg"] = ms(await timed(n, lambda i: conn.execute(sql, f"a{i}", 1.0)))
    await conn.close()
    if importlib.util.find_spec("psycopg"):
        import psycopg  # type: ignore[import-not-found]  # noqa: PLC0415

        async with await psycopg.AsyncConnection.connect(server, autocommit=True) as aconn:
            await aconn.execute(f"SET search_path = {schema}")
            sql = CLAIM.replace("?", "%s")
            rows["psycopg 3 (async)"] = ms(await timed(n, lambda i: aconn.execute(sql, (f"p{i}", 1.0))))
    if importlib.util.find_spec("sqlalchemy"):
        from sqlalchemy import event, text  # type: ignore[import-not-found]  # noqa: PLC0415
        from sqlalchemy.ext.asyncio import create_async_engine  # type: ignore[import-not-found]  # noqa: PLC0415

        statement = text(CLAIM.replace("?, ?", ":id, :at"))
        engines = {
            "SQLAlchemy Core async + asyncpg": create_async_engine(
                server.replace("postgresql://", "postgresql+asyncpg://", 1),
                connect_args={"server_settings": {"search_path": schema}},
            ),
            "SQLAlchemy Core async + aiosqlite": create_async_engine(f"sqlite+aiosqlite:///{sqlite_path}"),
        }
        sqlite_engine = engines["SQLAlchemy Core async + aiosqlite"].sync_engine

        @event.listens_for(sqlite_engine, "connect")  # type: ignore[misc]
        def as_the_store_runs(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # as the store runs it (WAL + NORMAL)

        for name, engine in engines.items():

            async def claim(i: int, engine: Any = engine) -> None:
                async with engine.begin() as conn:
                    await conn.execute(statement, {"id": f"s{i}", "at": 1.0})

            rows[name] = ms(await timed(n, claim))
            await engine.dispose()
    import aiosqlite  # noqa: PLC0415

    async with aiosqlite.connect(sqlite_path, isolation_level=None) as db:
        await db.execute("PRAGMA synchronous=NORMAL")
        rows["aiosqlite"] = ms(await timed(n, lambda i: db.execute(CLAIM, (f"q{i}", 1.0))))
    return rows


async def main(n: int, drivers: bool) -> str:
    with tempfile.TemporaryDirectory() as directory, postgres_server() as server:
        sqlite = await store_ops(f"sqlite:///{Path(directory) / 'ops.sqlite3'}", n)
        async with fresh_schema(server) as url:
            postgres = await store_ops(url, n)
        lines = [
            "| operation | SQLite median ms | p95 ms | PostgreSQL median ms | p95 ms |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [f"| {op} | {' | '.join(sqlite[op] + postgres[op])} |" for op in sqlite]
        if drivers:
            path = Path(directory) / "drivers.sqlite3"
            async with (
                await Store.open(path),
                fresh_schema(server) as url,
                await Store.open(url, migrate=True),
            ):
                found = await driver_ops(server, url.rpartition("search_path=")[2], path, n)
            lines += ["", "| one claim INSERT through | median ms | p95 ms |", "|---|---:|---:|"]
            lines += [f"| {name} | {' | '.join(row)} |" for name, row in found.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="operations per measurement")
    parser.add_argument("--drivers", action="store_true", help="also time each candidate driver")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = asyncio.run(main(args.n, args.drivers))
    print(report)
    if args.out is not None:
        args.out.write_text(report + "\n", encoding="utf-8")
