"""The store on both engines (an SQLite file and a PostgreSQL schema, from the `store_url` fixture):
migrations, subscriptions, feeds, seen items, the alert outbox and inbound claims."""

import asyncio
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.alerts.model import Delivery, StoryAlert
from bot.chat.model import Mention, Notice
from bot.engines import StoreError, open_database
from bot.engines.postgres import numbered
from bot.models import Actor, Briefing, DateMention
from bot.store import MIGRATIONS, FeedRow, Store

COLUMNS = "delivery_key, platform, channel, payload, created_at"  # as every release since the first writes


async def test_migrations_upgrade_an_old_store_and_keep_its_data(store_url: str) -> None:
    db = await open_database(store_url)
    async with db.migration() as tx:  # a store made by the first release: schema version 1
        await tx.execute(MIGRATIONS[0][0])
        await tx.execute("INSERT INTO channel_settings VALUES ('slack', 'C1', FALSE)")
        await tx.set_schema_version(1)
    await db.close()
    async with await Store.open(store_url, migrate=True) as store:
        assert (store.found_version, store.schema_version) == (1, len(MIGRATIONS))
        assert await store.auto_brief("slack", "C1") is False
        assert await store.subscriptions() == []
        assert await store.database.schema_version() == len(MIGRATIONS)


async def test_an_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3"):
        pass
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_an_older_schema_is_migrated_by_default_on_sqlite_and_refused_on_postgresql(
    store_url: str,
) -> None:
    if store_url.startswith("sqlite"):
        async with await Store.open(store_url) as store:
            assert (store.found_version, store.schema_version) == (0, len(MIGRATIONS))
        return
    with pytest.raises(StoreError, match=r"schema version 0 .* needs \d+: run `briefbot migrate` first"):
        await Store.open(store_url)
    async with await Store.open(store_url, migrate=True):
        pass
    async with await Store.open(store_url) as store:
        assert store.schema_version == len(MIGRATIONS)


async def test_a_newer_schema_is_refused_on_both_engines(store: Store, store_url: str) -> None:
    async with store.database.migration() as tx:  # as a later release with one more migration leaves it
        await tx.set_schema_version(len(MIGRATIONS) + 1)
    for migrate in (None, True, False):
        with pytest.raises(StoreError, match="newer than this release knows"):
            await Store.open(store_url, migrate=migrate)


async def test_processes_migrating_at_once_migrate_once(store_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(store_url, migrate=True) for _ in range(3)))
    try:
        assert {s.found_version for s in stores} <= {0, len(MIGRATIONS)}, "however they interleave"
        assert {s.schema_version for s in stores} == {len(MIGRATIONS)}
        assert await stores[0].add_subscription(
            "slack", "C1", "kim", created_by="U1", created_at=1.0, digest=None
        )
    finally:
        for opened in stores:
            await opened.close()


async def test_an_sqlite_file_another_process_is_writing_opens_once_that_write_ends(tmp_path: Path) -> None:
    """Switching a new file to WAL while another process writes to it fails at once ("database is locked",
    SQLite skips its busy handler there): two replicas creating one store together hit it in CI."""
    path = tmp_path / "shared.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE theirs (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO theirs VALUES (1)")
    opening = asyncio.create_task(Store.open(f"sqlite:///{path}", migrate=True))
    await asyncio.sleep(0.3)
    assert not opening.done(), "it waits for the other process's write"
    other.execute("COMMIT")
    other.close()
    async with await opening as store:
        assert store.schema_version == len(MIGRATIONS)


async def test_a_transaction_commits_all_or_nothing(store: Store) -> None:
    async with store.database.transaction() as tx:
        await tx.execute("INSERT INTO paused_channels VALUES ('slack', 'C1', 'gone', 1.0)")
        await tx.execute("INSERT INTO paused_channels VALUES ('slack', 'C2', 'gone', 1.0)")
    with pytest.raises(RuntimeError):
        async with store.database.transaction() as tx:
            await tx.execute("INSERT INTO paused_channels VALUES ('slack', 'C3', 'gone', 1.0)")
            raise RuntimeError("after the first statement")
    assert set(await store.paused_channels()) == {("slack", "C1"), ("slack", "C2")}


async def test_an_unreachable_store_is_one_line_without_its_password() -> None:
    with pytest.raises(StoreError) as raised:
        await Store.open("postgresql://bot:s3cret@127.0.0.1:1/briefbot")
    assert "s3cret" not in str(raised.value)
    assert "postgresql://bot:***@127.0.0.1:1/briefbot" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_question_marks_become_numbered_parameters_outside_string_literals() -> None:
    sql = "SELECT 'who?' FROM t WHERE a = ? AND b IN (?, ?) AND c = 'x?y'"
    assert numbered(sql) == "SELECT 'who?' FROM t WHERE a = $1 AND b IN ($2, $3) AND c = 'x?y'"


async def test_subscriptions_get_increasing_ids_and_no_duplicates(store: Store) -> None:
    first = await store.add_subscription("slack", "C1", "kim", created_by="U1", created_at=10.0, digest=None)
    second = await store.add_subscription(
        "slack", "C1", '"north korea"', created_by="U1", created_at=11.0, digest="daily@08:00"
    )
    again = await store.add_subscription("slack", "C1", "kim", created_by="U2", created_at=12.0, digest=None)
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


async def test_feeds_and_seen_items(store: Store) -> None:
    assert await store.add_channel_feed("slack", "C1", "https://a.example/rss", added_by="U1", at=1.0)
    assert not await store.add_channel_feed("slack", "C1", "https://a.example/rss", added_by="U1", at=2.0)
    assert [f.url for f in await store.channel_feeds("slack", "C1")] == ["https://a.example/rss"]
    assert await store.feed_state("https://a.example/rss") is None
    state = FeedRow("https://a.example/rss", etag='"v1"', next_poll_at=99.5, failures=2, last_error="timeout")
    await store.save_feed_state(state)
    assert await store.feed_state(state.url) == state
    first = await store.mark_seen(state.url, ["a", "b"], at=100.0)
    later = await store.mark_seen(state.url, ["b", "c"], at=200.0)
    assert first == {"a": 100.0, "b": 100.0}
    assert later == {"b": 100.0, "c": 200.0}, "an item keeps the time it was first seen"
    assert await store.mark_seen(state.url, [], at=300.0) == {}, "an empty feed"
    assert await store.remove_channel_feed("slack", "C1", state.url)


async def test_outbox_is_idempotent_and_survives_reopening(store_url: str) -> None:
    floods = StoryAlert(1, "floods", Briefing("Floods", None, None, []))
    delivery = Delivery("1:story-a", "slack", "C1", floods, created_at=5.0)
    async with await Store.open(store_url, migrate=True) as store:
        assert await store.enqueue_delivery(delivery)
        assert not await store.enqueue_delivery(delivery), "a replay is ignored"
        await store.enqueue_delivery(Delivery("1:story-b", "discord", "9", Notice("Drought"), 6.0))
    async with await Store.open(store_url, migrate=True) as store:
        assert [d.key for d in await store.pending_deliveries()] == ["1:story-a", "1:story-b"]
        assert await store.pending_deliveries("slack") == [delivery]
        await store.mark_delivered("1:story-a", at=7.0)
        assert [d.key for d in await store.pending_deliveries()] == ["1:story-b"]


async def test_inbound_deliveries_are_claimed_once_per_platform_and_survive_reopening(store_url: str) -> None:
    async with await Store.open(store_url, migrate=True) as store:
        assert await store.claim_inbound_delivery("slack", "event:T1:Ev1", at=100.0)
        assert not await store.claim_inbound_delivery("slack", "event:T1:Ev1", at=101.0), "a retry"
        assert await store.claim_inbound_delivery("discord", "event:T1:Ev1", at=101.0), "another platform"
    async with await Store.open(store_url, migrate=True) as store:
        assert not await store.claim_inbound_delivery("slack", "event:T1:Ev1", at=200.0), "after a restart"


async def test_old_inbound_claims_are_forgotten(store: Store) -> None:
    for n, at in enumerate((10.0, 20.0, 30.0)):
        await store.claim_inbound_delivery("slack", f"id{n}", at=at)
    assert await store.forget_inbound_deliveries(before=25.0) == 2
    assert await store.forget_inbound_deliveries(before=25.0) == 0
    assert await store.claim_inbound_delivery("slack", "id0", at=40.0), "forgotten: claimable again"
    assert not await store.claim_inbound_delivery("slack", "id2", at=40.0), "kept"


async def test_concurrent_claims_from_two_connections_have_one_winner(store_url: str) -> None:
    async with (
        await Store.open(store_url, migrate=True) as first,
        await Store.open(store_url, migrate=True) as second,
    ):
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


async def test_alert_rows_written_by_earlier_releases_still_parse(store_url: str) -> None:
    async with await Store.open(store_url, migrate=True) as store:
        await store.database.executemany(
            "INSERT INTO outbox (delivery_key, platform, channel, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [("3:a", "slack", "C1", STORY_ROW, 1.0), ("4:b", "discord", "9", DIGEST_ROW, 2.0),
             ("disabled:x", "console", "console", NOTICE_ROW, 3.0)],
        )  # fmt: skip
    async with await Store.open(store_url) as store:
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


async def test_alerts_are_written_in_the_format_earlier_releases_read(store_url: str) -> None:
    """Same JSON as before, byte for byte: a rollback to an earlier release still reads the queue."""
    rows = {"3:a": STORY_ROW, "4:b": DIGEST_ROW, "disabled:x": NOTICE_ROW}
    async with await Store.open(store_url, migrate=True) as store:
        for key, row in rows.items():
            await store.database.execute(
                f"INSERT INTO outbox ({COLUMNS}) VALUES (?, 'slack', 'C1', ?, 1.0)", (key, row)
            )
        parsed = await store.pending_deliveries()
        await store.mark_delivered("3:a", at=2.0)
        for delivery in parsed:
            await store.set_delivery_content(delivery.key, delivery.content)
        for delivery in parsed:
            await store.enqueue_delivery(replace(delivery, key=f"copy:{delivery.key}"))
    async with await Store.open(store_url) as store:
        written = dict(await store.database.fetchall("SELECT delivery_key, payload FROM outbox"))
    assert written == rows | {f"copy:{key}": row for key, row in rows.items()}


async def test_an_unreadable_alert_row_does_not_hold_up_the_others(store: Store) -> None:
    await store.database.execute(
        "INSERT INTO outbox (delivery_key, platform, channel, payload, created_at) "
        "VALUES ('bad', 'slack', 'C1', '{\"title\": \"?\"}', 1.0)"
    )
    good = f"INSERT INTO outbox ({COLUMNS}) VALUES ('good', 'slack', 'C1', ?, 2.0)"
    await store.database.execute(good, (NOTICE_ROW,))
    assert [d.key for d in await store.pending_deliveries()] == ["good"]
    assert await store.delivery("bad") is None


async def test_alert_content_round_trips_through_the_store(store: Store) -> None:
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
    for n, content in enumerate(contents):
        await store.enqueue_delivery(Delivery(f"k{n}", "slack", "C1", content, float(n)))
    assert [d.content for d in await store.pending_deliveries()] == contents
    grown = replace(contents[0], also=("https://c.example/3",))
    assert await store.update_pending_delivery("k0", grown)
    found = await store.delivery("k0")
    assert found is not None and found[0].content == grown


async def test_subscriptions_added_at_once_from_two_connections_get_distinct_ids(store_url: str) -> None:
    async with (
        await Store.open(store_url, migrate=True) as first,
        await Store.open(store_url, migrate=True) as second,
    ):
        added = await asyncio.gather(
            *(
                store.add_subscription(
                    "slack", f"C{n}{i}", "kim", created_by="U1", created_at=1.0, digest=None
                )
                for n in range(10)
                for i, store in enumerate((first, second))
            )
        )
        assert all(added)
        assert sorted(s.id for s in added if s) == list(range(1, 21))
        assert len(await first.subscriptions()) == 20


def test_without_a_postgresql_server_ci_fails_and_elsewhere_the_tests_say_why_they_skip() -> None:
    from conftest import no_server  # noqa: PLC0415 - the fixture's own decision, not a copy of it

    with pytest.raises(pytest.fail.Exception, match="BRIEFBOT_TEST_POSTGRES_URL"):
        no_server({"CI": "true"})
    with pytest.raises(pytest.skip.Exception, match="install the distribution's postgresql package"):
        no_server({})


FEED = "https://a.example/rss"


async def test_a_feed_lease_is_held_by_one_process_until_it_expires(store: Store) -> None:
    assert await store.lease_feed(FEED, "replica-a", now=100.0, seconds=60.0)
    assert not await store.lease_feed(FEED, "replica-b", now=130.0, seconds=60.0), "a's lease runs"
    assert await store.lease_feed(FEED, "replica-a", now=130.0, seconds=60.0), "its holder renews it"
    assert not await store.lease_feed(FEED, "replica-b", now=189.0, seconds=60.0), "renewed until 190"
    assert await store.lease_feed(FEED, "replica-b", now=190.0, seconds=60.0), "a died: b takes the feed"
    assert not await store.lease_feed(FEED, "replica-a", now=200.0, seconds=60.0)
    assert await store.lease_feed("https://b.example/rss", "replica-a", now=200.0, seconds=60.0), "per feed"


async def test_a_feed_polled_by_one_process_is_not_due_for_the_next(store: Store) -> None:
    assert await store.lease_feed(FEED, "replica-a", now=100.0, seconds=60.0)
    await store.save_feed_state(FeedRow(FEED, next_poll_at=700.0))  # a polled it: next poll in 600 s
    assert await store.release_feed(FEED, "replica-a")
    assert not await store.release_feed(FEED, "replica-a"), "released once"
    assert not await store.lease_feed(FEED, "replica-b", now=101.0, seconds=60.0), "not due until 700"
    assert not await store.lease_feed(FEED, "replica-a", now=699.0, seconds=60.0)
    assert await store.lease_feed(FEED, "replica-b", now=700.0, seconds=60.0), "due: the first to ask"
    assert not await store.release_feed(FEED, "replica-a"), "only the holder releases it"


async def test_feed_leases_asked_for_at_once_by_two_processes_have_one_winner_each(store_url: str) -> None:
    feeds = [f"https://news{n}.example/rss" for n in range(20)]
    async with (
        await Store.open(store_url, migrate=True) as first,
        await Store.open(store_url, migrate=True) as second,
    ):
        won = await asyncio.gather(
            *(
                store.lease_feed(url, name, now=100.0, seconds=60.0)
                for url in feeds
                for name, store in (("a", first), ("b", second))
            )
        )
    assert sum(won) == len(feeds)
    assert all(a != b for a, b in zip(won[::2], won[1::2], strict=True)), "one process won each feed"


async def test_who_alerts_mention_is_kept_with_subscriptions_and_queued_alerts(store_url: str) -> None:
    oncall = Mention("S0ONCALL", "@oncall")
    async with await Store.open(store_url, migrate=True) as store:
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
    async with await Store.open(store_url) as store:  # and across a restart
        assert [s.mention for s in await store.subscriptions()] == [Mention(), None]
        await store.resume_channel("slack", "C1")
        assert await store.pending_deliveries() == deliveries
        found = await store.delivery("a")
        assert found is not None and found[0].mention == oncall


async def test_tasks_sharing_the_store_never_break_each_others_commits(store: Store) -> None:
    """The bot's tasks (feed polls, commands, deliveries) use one connection at once. Started together, the
    feed saves' commits run while the subscriptions' INSERT ... RETURNING are under way: no statement may
    be left running between awaits, or those commits fail ("SQL statements in progress")."""
    saves = [store.save_feed_state(FeedRow(f"https://f{n}.example/rss", etag="v1")) for n in range(5)]
    adds = [
        store.add_subscription("slack", "C1", f"q{n}", created_by="U1", created_at=1.0, digest=None)
        for n in range(5)
    ]
    results = await asyncio.gather(*saves, *adds, store.pending_deliveries(), store.subscriptions())
    assert sorted(s.id for s in results[5:10]) == [1, 2, 3, 4, 5]
    assert len(await store.subscriptions()) == 5
    assert (await store.feed_state("https://f4.example/rss")) == FeedRow("https://f4.example/rss", "v1")


async def test_a_token_bucket_is_shared_by_every_process(store_url: str) -> None:
    """Two processes on one store take from the same buckets: 2 at once, then 1 per 10 s, per key."""
    rate = {"per_second": 0.1, "burst": 2.0}
    async with (
        await Store.open(store_url, migrate=True) as first,
        await Store.open(store_url, migrate=True) as second,
    ):
        assert await first.take_token("slack:U1", now=100.0, **rate) == 0
        assert await second.take_token("slack:U1", now=100.0, **rate) == 0
        assert await first.take_token("slack:U1", now=101.0, **rate) == pytest.approx(9.0)
        assert await second.take_token("slack:U2", now=101.0, **rate) == 0, "keys are independent"
        assert await second.take_token("slack:U1", now=110.0, **rate) == 0, "refilled one token"
        assert await first.take_token("slack:U1", now=105.0, **rate) > 0, "a clock behind adds nothing"
        many = await asyncio.gather(
            *(s.take_token("slack:U3", now=200.0, **rate) for s in (first, second) * 5)
        )
        assert sum(wait == 0 for wait in many) == 2, "at once from both: exactly the burst"
        assert await first.forget_full_buckets(before=150.0) == 2  # U1 and U2, idle since before 150


async def test_a_link_is_briefed_by_one_process_and_read_by_the_others(store_url: str) -> None:
    url = "https://news.example/a"
    made = Briefing("Title", url, date(2026, 3, 1), ["One."], actors=[Actor("Kim", "person", 2)])
    async with (
        await Store.open(store_url, migrate=True) as first,
        await Store.open(store_url, migrate=True) as second,
    ):
        claims = await asyncio.gather(
            first.claim_briefing(url, "a", now=100.0, seconds=60.0, since=0.0),
            second.claim_briefing(url, "b", now=100.0, seconds=60.0, since=0.0),
        )
        assert sorted(claims) == [False, True], "one maker"
        maker, store = ("a", first) if claims[0] else ("b", second)
        assert await first.cached_briefing(url, since=0.0) is None, "not made yet"
        await store.save_briefing(url, maker, made, now=110.0)
        assert await second.cached_briefing(url, since=100.0) == made
        assert await first.cached_briefing(url, since=111.0) is None, "older than asked for"
        assert not await first.claim_briefing(url, "a", now=120.0, seconds=60.0, since=50.0), "still fresh"
        assert await first.claim_briefing(url, "a", now=400.0, seconds=60.0, since=300.0), "stale: make anew"
        assert not await second.claim_briefing(url, "b", now=401.0, seconds=60.0, since=300.0)
        await first.save_briefing(url, "a", None, now=402.0)  # it failed: nothing stored, the claim ends
        assert await second.claim_briefing(url, "b", now=403.0, seconds=60.0, since=300.0)
        assert await first.claim_briefing(url, "a", now=463.0, seconds=60.0, since=300.0), "b died: expired"
