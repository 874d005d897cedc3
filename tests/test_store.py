"""The SQLite store on a real file: migrations, subscriptions, feeds, seen items and the alert outbox."""

import asyncio
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

from bot.alerts.model import Delivery, StoryAlert
from bot.chat.model import Mention, Notice
from bot.models import Actor, Briefing, DateMention
from bot.store import MIGRATIONS, FeedRow, Store

COLUMNS = "delivery_key, platform, channel, payload, created_at"  # as every release since the first writes


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
    floods = StoryAlert(1, "floods", Briefing("Floods", None, None, []))
    delivery = Delivery("1:story-a", "slack", "C1", floods, created_at=5.0)
    async with await Store.open(path) as store:
        assert await store.enqueue_delivery(delivery)
        assert not await store.enqueue_delivery(delivery), "a replay is ignored"
        await store.enqueue_delivery(Delivery("1:story-b", "discord", "9", Notice("Drought"), 6.0))
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


# Rows exactly as releases before the typed alert model wrote them (json.dumps of the watcher's dicts).
STORY_ROW = (
    '{"subscription": 3, "query": "\\"north korea\\" missile", "briefing": {"title": "Launch reported", '
    '"url": "https://news.example/launch", "published": "2026-03-01", '
    '"summary": ["A missile was launched."], '
    '"actors": [{"name": "Kim Jong Un", "kind": "person", "mentions": 2, "aliases": ["Kim"]}], '
    '"dates": [{"text": "on Sunday", "value": "2026-03-01", "start": 30, "end": 39}], "truncated": false}, '
    '"also": ["https://wire.example/launch"]}'
)
DIGEST_ROW = (
    '{"subscription": 4, "query": "floods", "briefing": {"title": null, "url": null, "published": null, '
    '"summary": [], "actors": [], "dates": [], "truncated": true}, "also": [], "digest_due": 1773126000.0}'
)
NOTICE_ROW = '{"notice": "I stopped checking the feed https://feeds.example/rss: it failed too many times."}'


async def test_alert_rows_written_by_earlier_releases_still_parse(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path):
        pass
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO outbox (delivery_key, platform, channel, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [("3:a", "slack", "C1", STORY_ROW, 1.0), ("4:b", "discord", "9", DIGEST_ROW, 2.0),
             ("disabled:x", "console", "console", NOTICE_ROW, 3.0)],
        )  # fmt: skip
    async with await Store.open(path) as store:
        story, digest, notice = [d.content for d in await store.pending_deliveries()]
    assert story == StoryAlert(
        subscription_id=3,
        query='"north korea" missile',
        briefing=Briefing(
            title="Launch reported",
            url="https://news.example/launch",
            published=date(2026, 3, 1),
            summary=["A missile was launched."],
            actors=[Actor("Kim Jong Un", "person", 2, ("Kim",))],
            dates=[DateMention("on Sunday", "2026-03-01", 30, 39)],
        ),
        also=("https://wire.example/launch",),
    )
    assert digest == StoryAlert(4, "floods", Briefing(None, None, None, [], truncated=True), (), 1773126000.0)
    assert notice == Notice(
        "I stopped checking the feed https://feeds.example/rss: it failed too many times."
    )


async def test_alerts_are_written_in_the_format_earlier_releases_read(tmp_path: Path) -> None:
    """Same JSON as before, byte for byte: a rollback to an earlier release still reads the queue."""
    path = tmp_path / "db.sqlite3"
    rows = {"3:a": STORY_ROW, "4:b": DIGEST_ROW, "disabled:x": NOTICE_ROW}
    async with await Store.open(path) as store:
        with sqlite3.connect(path) as db:
            for key, row in rows.items():
                db.execute(f"INSERT INTO outbox ({COLUMNS}) VALUES (?, 'slack', 'C1', ?, 1.0)", (key, row))
        parsed = await store.pending_deliveries()
        await store.mark_delivered("3:a", at=2.0)
        for delivery in parsed:
            await store.set_delivery_content(delivery.key, delivery.content)
        for delivery in parsed:
            await store.enqueue_delivery(replace(delivery, key=f"copy:{delivery.key}"))
    with sqlite3.connect(path) as db:
        written = dict(db.execute("SELECT delivery_key, payload FROM outbox"))
    assert written == rows | {f"copy:{key}": row for key, row in rows.items()}


async def test_an_unreadable_alert_row_does_not_hold_up_the_others(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with await Store.open(path) as store:
        with sqlite3.connect(path) as db:
            db.execute(
                "INSERT INTO outbox (delivery_key, platform, channel, payload, created_at) "
                "VALUES ('bad', 'slack', 'C1', '{\"title\": \"?\"}', 1.0)"
            )
            good = f"INSERT INTO outbox ({COLUMNS}) VALUES ('good', 'slack', 'C1', ?, 2.0)"
            db.execute(good, (NOTICE_ROW,))
        assert [d.key for d in await store.pending_deliveries()] == ["good"]
        assert await store.delivery("bad") is None


async def test_alert_content_round_trips_through_the_store(tmp_path: Path) -> None:
    briefing = Briefing(
        "Title", "https://news.example/a", date(2026, 3, 1), ["One.", "Two."],
        actors=[Actor("Port Authority", "organization", 3, ("the Authority",))],
        dates=[DateMention("last October", "2025-10", 4, 16)], truncated=True,
    )  # fmt: skip
    contents = [
        StoryAlert(1, "floods -sports", briefing),
        StoryAlert(
            2, '"north korea"', briefing, ("https://a.example/1", "https://b.example/2"), 1773126000.5
        ),
        Notice("A feed was disabled."),
    ]
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        for n, content in enumerate(contents):
            await store.enqueue_delivery(Delivery(f"k{n}", "slack", "C1", content, float(n)))
        assert [d.content for d in await store.pending_deliveries()] == contents
        grown = replace(contents[0], also=("https://c.example/3",))
        assert await store.update_pending_delivery("k0", grown)
        found = await store.delivery("k0")
        assert found is not None and found[0].content == grown


async def test_who_alerts_mention_is_kept_with_subscriptions_and_queued_alerts(tmp_path: Path) -> None:
    oncall = Mention("S0ONCALL", "@oncall")
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        first = await store.add_subscription(
            "slack", "C1", "floods", created_by="U1", created_at=1.0, digest=None, mention=oncall
        )
        await store.add_subscription("slack", "C1", "drought", created_by="U1", created_at=1.0, digest=None)
        assert first is not None and first.mention == oncall
        await store.set_subscription_mention(first.id, Mention())
        deliveries = [
            Delivery("a", "slack", "C1", Notice("Digest"), 1.0, oncall),
            Delivery("b", "slack", "C1", Notice("Plain"), 2.0),
            Delivery("c", "slack", "C1", Notice("Here"), 3.0, Mention()),
        ]
        for delivery in deliveries:
            await store.enqueue_delivery(delivery)
        await store.park_channel("slack", "C1", "is_archived", 4.0)
        assert await store.parked_deliveries("slack", "C1") == deliveries
    async with await Store.open(tmp_path / "db.sqlite3") as store:  # and across a restart
        assert [s.mention for s in await store.subscriptions()] == [Mention(), None]
        await store.resume_channel("slack", "C1")
        assert await store.pending_deliveries() == deliveries
        found = await store.delivery("a")
        assert found is not None and found[0].mention == oncall


async def test_tasks_sharing_the_store_never_break_each_others_commits(tmp_path: Path) -> None:
    """The bot's tasks (feed polls, commands, deliveries) use one connection at once. Started together, the
    feed saves' commits run while the subscriptions' INSERT ... RETURNING are under way: no statement may
    be left running between awaits, or those commits fail ("SQL statements in progress")."""
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        saves = [store.save_feed_state(FeedRow(f"https://f{n}.example/rss", etag="v1")) for n in range(5)]
        adds = [
            store.add_subscription("slack", "C1", f"q{n}", created_by="U1", created_at=1.0, digest=None)
            for n in range(5)
        ]
        results = await asyncio.gather(*saves, *adds, store.pending_deliveries(), store.subscriptions())
        assert [s.id for s in results[5:10]] == [1, 2, 3, 4, 5]
        assert len(await store.subscriptions()) == 5
        assert (await store.feed_state("https://f4.example/rss")) == FeedRow("https://f4.example/rss", "v1")
