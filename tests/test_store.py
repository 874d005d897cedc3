"""The SQLite store on a real file: migrations, subscriptions, feeds, seen items and the alert outbox."""

import asyncio
import sqlite3
from pathlib import Path

from bot.store import MIGRATIONS, Delivery, FeedRow, Store


async def test_migrations_upgrade_an_old_file_and_keep_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # a file made by the first release: schema version 1
        db.execute(MIGRATIONS[0][0])
        db.execute("INSERT INTO channel_settings VALUES ('slack', 'C1', 0)")
        db.execute("PRAGMA user_version = 1")
    async with await Store.open(path) as store:
        assert await store.auto_brief("slack", "C1") is False
        assert await store.subscriptions() == []
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_subscriptions_get_increasing_ids_and_no_duplicates(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        first = await store.add_subscription(
            "slack", "C1", "kim", created_by="U1", created_at=10.0, digest=None
        )
        second = await store.add_subscription(
            "slack", "C1", '"north korea"', created_by="U1", created_at=11.0, digest="daily@08:00"
        )
        again = await store.add_subscription(
            "slack", "C1", "kim", created_by="U2", created_at=12.0, digest=None
        )
        elsewhere = await store.add_subscription(
            "discord", "9", "kim", created_by="7", created_at=13.0, digest=None
        )
        assert first and second and elsewhere
        assert (first.id, second.id, elsewhere.id) == (1, 2, 3)
        assert again is None
        await store.count_alert(first.id)
        listed = await store.subscriptions("slack", "C1")
        assert [(s.id, s.query, s.alerts, s.digest) for s in listed] == [
            (1, "kim", 1, None),
            (2, '"north korea"', 0, "daily@08:00"),
        ]
        assert not await store.remove_subscription("slack", "C2", 1), "only from its own channel"
        assert await store.remove_subscription("slack", "C1", 1)
        assert [s.id for s in await store.subscriptions()] == [2, 3]


async def test_feeds_and_seen_items(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        assert await store.add_channel_feed("slack", "C1", "https://a.example/rss", added_by="U1", at=1.0)
        assert not await store.add_channel_feed("slack", "C1", "https://a.example/rss", added_by="U1", at=2.0)
        assert [f.url for f in await store.channel_feeds("slack", "C1")] == ["https://a.example/rss"]
        assert await store.feed_state("https://a.example/rss") is None
        state = FeedRow(
            "https://a.example/rss", etag='"v1"', next_poll_at=99.5, failures=2, last_error="timeout"
        )
        await store.save_feed_state(state)
        assert await store.feed_state(state.url) == state
        first = await store.mark_seen(state.url, ["a", "b"], at=100.0)
        later = await store.mark_seen(state.url, ["b", "c"], at=200.0)
        assert first == {"a": 100.0, "b": 100.0}
        assert later == {"b": 100.0, "c": 200.0}, "an item keeps the time it was first seen"
        assert await store.remove_channel_feed("slack", "C1", state.url)


async def test_outbox_is_idempotent_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    delivery = Delivery("1:story-a", "slack", "C1", {"title": "Floods"}, created_at=5.0)
    async with await Store.open(path) as store:
        assert await store.enqueue_delivery(delivery)
        assert not await store.enqueue_delivery(delivery), "a replay is ignored"
        await store.enqueue_delivery(Delivery("1:story-b", "discord", "9", {"title": "Drought"}, 6.0))
    async with await Store.open(path) as store:
        assert [d.key for d in await store.pending_deliveries()] == ["1:story-a", "1:story-b"]
        assert await store.pending_deliveries("slack") == [delivery]
        await store.mark_delivered("1:story-a", at=7.0)
        assert [d.key for d in await store.pending_deliveries()] == ["1:story-b"]


async def test_inbound_deliveries_are_claimed_once_per_platform_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as store:
        assert await store.claim_inbound_delivery("slack", "event:T1:Ev1", at=100.0)
        assert not await store.claim_inbound_delivery("slack", "event:T1:Ev1", at=101.0), "a retry"
        assert await store.claim_inbound_delivery("discord", "event:T1:Ev1", at=101.0), "another platform"
    async with await Store.open(path) as store:
        assert not await store.claim_inbound_delivery("slack", "event:T1:Ev1", at=200.0), "after a restart"


async def test_old_inbound_claims_are_forgotten(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        for n, at in enumerate((10.0, 20.0, 30.0)):
            await store.claim_inbound_delivery("slack", f"id{n}", at=at)
        assert await store.forget_inbound_deliveries(before=25.0) == 2
        assert await store.forget_inbound_deliveries(before=25.0) == 0
        assert await store.claim_inbound_delivery("slack", "id0", at=40.0), "forgotten: claimable again"
        assert not await store.claim_inbound_delivery("slack", "id2", at=40.0), "kept"


async def test_concurrent_claims_from_two_connections_have_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as first, await Store.open(path) as second:
        ids = [f"event:T1:Ev{n}" for n in range(20)]
        won = await asyncio.gather(
            *(store.claim_inbound_delivery("slack", key, at=1.0) for key in ids for store in (first, second))
        )
    assert sum(won) == len(ids)
    assert all(a != b for a, b in zip(won[::2], won[1::2], strict=True)), "one connection won each id"
