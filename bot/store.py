"""All durable state behind one interface, on SQLite (the default: one file, WAL) or PostgreSQL (several
bot processes sharing state), with the same numbered migrations and the same SQL on both: only what both
engines run, with `?` parameters (bot/engines/ turns them into PostgreSQL's).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import astuple, dataclass, replace
from pathlib import Path
from typing import Any, Self

from bot.alerts.model import AlertContent, Delivery, StoryAlert, Subscription
from bot.chat.model import Mention, Notice
from bot.engines import Database, IntegrityError, StoreError, open_database
from bot.engines.url import SQLITE_PREFIX, redact
from bot.models import Briefing

log = logging.getLogger(__name__)
# Append only: a migration, once released, never changes. Its index + 1 is the schema version (SQLite keeps
# it in PRAGMA user_version, PostgreSQL in a one-row table schema_version). Types are ones
# both SQLite and PostgreSQL accept (times are epoch seconds, signatures hex text); ids are assigned by the
# INSERTs themselves (MAX + 1), so no SERIAL/AUTOINCREMENT dialect is needed.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE channel_settings (
            platform TEXT NOT NULL,
            channel TEXT NOT NULL,
            auto_brief BOOLEAN,
            PRIMARY KEY (platform, channel)
        )""",
    ),
    (
        """CREATE TABLE feeds (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            next_poll_at DOUBLE PRECISION NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            last_error TEXT
        )""",
        """CREATE TABLE channel_feeds (
            platform TEXT NOT NULL,
            channel TEXT NOT NULL,
            url TEXT NOT NULL,
            added_by TEXT NOT NULL,
            added_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (platform, channel, url)
        )""",
        """CREATE TABLE subscriptions (
            id BIGINT PRIMARY KEY,
            platform TEXT NOT NULL,
            channel TEXT NOT NULL,
            query TEXT NOT NULL,
            digest TEXT,
            created_by TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            alerts INTEGER NOT NULL DEFAULT 0,
            UNIQUE (platform, channel, query)
        )""",
        """CREATE TABLE seen_items (
            feed_url TEXT NOT NULL,
            item_key TEXT NOT NULL,
            first_seen_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (feed_url, item_key)
        )""",
        """CREATE TABLE stories (
            id TEXT PRIMARY KEY,
            signature TEXT NOT NULL,
            title TEXT NOT NULL,
            url TEXT NOT NULL,
            first_seen_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE outbox (
            delivery_key TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            channel TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            delivered_at DOUBLE PRECISION
        )""",
        "CREATE INDEX outbox_pending ON outbox (delivered_at, created_at)",
    ),
    # The platform's reference to a posted alert, so it can be edited when other outlets report the story.
    ("ALTER TABLE outbox ADD COLUMN posted_ref TEXT",),
    # Inbound platform deliveries (a Slack event_id, a command's trigger_id...) already acted on, so a retry
    # or a replay is acknowledged but not acted on again, across restarts. Pruned by age.
    (
        """CREATE TABLE inbound_deliveries (
            platform TEXT NOT NULL,
            delivery_id TEXT NOT NULL,
            received_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (platform, delivery_id)
        )""",
        "CREATE INDEX inbound_deliveries_age ON inbound_deliveries (received_at)",
    ),
    # Alerts a platform refused for good are parked, not retried forever; their channel's subscriptions are
    # paused until posting works there again (bot/alerts/watcher.py).
    (
        "ALTER TABLE outbox ADD COLUMN refusals INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN parked_at DOUBLE PRECISION",
        """CREATE TABLE paused_channels (
            platform TEXT NOT NULL,
            channel TEXT NOT NULL,
            reason TEXT NOT NULL,
            since DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (platform, channel)
        )""",
    ),
    # `--mention`: who a subscription's alerts ping (bot.chat.model.Mention.token), kept with each queued
    # alert so that a digest or a replay pings as its subscription said when it was queued.
    (
        "ALTER TABLE subscriptions ADD COLUMN mention TEXT",
        "ALTER TABLE outbox ADD COLUMN mention TEXT",
    ),
    # Who may poll a feed now, so that processes sharing a store fetch each feed once per interval; a lease
    # expires, so a dead process's feeds move on (lease_feed).
    (
        """CREATE TABLE feed_leases (
            url TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )""",
    ),
    # What processes sharing a store share for chat: the briefings of links (by canonical URL) with who is
    # making one now, and the rate-limit buckets of people and channels (bot/chat/shared.py).
    (
        """CREATE TABLE briefings (
            url TEXT PRIMARY KEY,
            payload TEXT,
            made_at DOUBLE PRECISION,
            maker TEXT,
            making_until DOUBLE PRECISION
        )""",
        "CREATE INDEX briefings_age ON briefings (made_at)",
        """CREATE TABLE rate_buckets (
            key TEXT PRIMARY KEY,
            tokens DOUBLE PRECISION NOT NULL,
            updated DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX rate_buckets_age ON rate_buckets (updated)",
    ),
    # Several processes on one store: a queued alert is claimed by one of them at a time, until the claim
    # expires (claim_deliveries); `revision` counts content changes, so two processes adding outlets to one
    # alert at once both land (replace_delivery_content). `replicas`: the processes seen alive (heartbeat).
    (
        "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
        "ALTER TABLE outbox ADD COLUMN claim_expires_at DOUBLE PRECISION",
        "ALTER TABLE outbox ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN handed_over BOOLEAN NOT NULL DEFAULT FALSE",
        # The order stories were recorded in (add_story_once, one process at a time): a process learns the
        # stories the others recorded since it last looked without comparing clocks.
        "ALTER TABLE stories ADD COLUMN seq BIGINT",
        "CREATE INDEX stories_seq ON stories (seq)",
        """CREATE TABLE replicas (
            id TEXT PRIMARY KEY,
            started_at DOUBLE PRECISION NOT NULL,
            seen_at DOUBLE PRECISION NOT NULL
        )""",
    ),
    # Replicas may run different platforms: an outlet added to a posted alert by a process that does not run
    # its platform owes the message an edit, made by one that does (owed_edits).
    (
        "ALTER TABLE outbox ADD COLUMN edit_owed BOOLEAN NOT NULL DEFAULT FALSE",
        "CREATE INDEX outbox_edit_owed ON outbox (edit_owed)",
    ),
]


class Store:
    def __init__(self, db: Database, where: str) -> None:
        self._db = db
        self.where = where  # the store's URL as it may be shown: password redacted
        self.schema_version = 0
        self.found_version = 0  # the schema version it had when opened, before any migration

    @classmethod
    async def open(cls, url: str | Path, *, migrate: bool | None = None) -> Self:
        """Open the store at `url` (a path is an SQLite file) and check its schema version.

        A schema newer than this release knows is refused (StoreError). An older one is migrated when
        `migrate` is true and refused when it is false; by default SQLite migrates (one process owns the
        file, and a fresh clone just runs) and PostgreSQL refuses, so that `briefbot migrate` is one
        deliberate step while replicas of the old release may still be running.
        """
        url = str(url) if "://" in str(url) else SQLITE_PREFIX + str(url)
        db = await open_database(url)
        store = cls(db, redact(url))
        try:
            await store._check_schema(db.engine == "sqlite" if migrate is None else migrate)
        except BaseException:
            await db.close()
            raise
        return store

    @property
    def database(self) -> Database:
        """The engine underneath, for tools that fill or inspect tables in bulk (tests, benchmarks)."""
        return self._db

    async def _check_schema(self, migrate: bool) -> None:
        self.found_version = self.schema_version = await self._db.schema_version()
        self._refuse_newer(self.schema_version)
        if self.schema_version == len(MIGRATIONS):
            return
        if not migrate:
            raise StoreError(
                f"the store {self.where} is at schema version {self.schema_version} and this release needs "
                f"{len(MIGRATIONS)}: run `briefbot migrate` first"
            )
        async with self._db.migration() as tx:
            version = await tx.schema_version()  # another process may have migrated meanwhile
            self._refuse_newer(version)
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                for sql in statements:
                    await tx.execute(sql)
                await tx.set_schema_version(number)
        if version < len(MIGRATIONS):
            log.info("store %s migrated from schema version %d to %d", self.where, version, len(MIGRATIONS))
        self.schema_version = len(MIGRATIONS)

    def _refuse_newer(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the store {self.where} is at schema version {version}, newer than this release knows "
                f"({len(MIGRATIONS)}): run the release that migrated it, or a newer one"
            )

    async def _change(self, sql: str, args: Sequence[Any]) -> bool:
        """Run one write; True when it changed a row."""
        return await self._db.execute(sql, args) > 0

    async def _one(self, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = await self._db.fetchall(sql, args)
        return rows[0] if rows else None

    async def _channel_rows(
        self, sql: str, platform: str | None, channel: str | None, order: str
    ) -> list[Any]:
        """Rows of one channel, or of all channels when none is given."""
        args: tuple[str, ...] = ()
        if platform is not None and channel is not None:
            sql += " WHERE platform = ? AND channel = ?"
            args = (platform, channel)
        return await self._db.fetchall(f"{sql} ORDER BY {order}", args)

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def auto_brief(self, platform: str, channel: str) -> bool | None:
        """The channel's own choice, or None when it has not chosen (the config default applies)."""
        row = await self._one(
            "SELECT auto_brief FROM channel_settings WHERE platform = ? AND channel = ?", (platform, channel)
        )
        return None if row is None or row[0] is None else bool(row[0])

    async def set_auto_brief(self, platform: str, channel: str, enabled: bool) -> None:
        await self._db.execute(
            "INSERT INTO channel_settings (platform, channel, auto_brief) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, channel) DO UPDATE SET auto_brief = excluded.auto_brief",
            (platform, channel, enabled),
        )

    # --- topic alerts: subscriptions -----------------------------------------------------------------

    async def add_subscription(
        self,
        platform: str,
        channel: str,
        query: str,
        *,
        created_by: str,
        created_at: float,
        digest: str | None,
        mention: Mention | None = None,
    ) -> Subscription | None:
        """The new subscription, or None when the channel already has this (normalized) query."""
        sql = (
            "INSERT INTO subscriptions "
            "(id, platform, channel, query, digest, created_by, created_at, mention) "
            "VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM subscriptions), ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, channel, query) DO NOTHING RETURNING id"
        )
        args = (platform, channel, query, digest, created_by, created_at, mention and mention.token)
        # SQLite runs one write at a time; PostgreSQL processes adding at once can pick the same MAX + 1,
        # and all but one get a primary-key error: they take the next number.
        for attempt in range(10):
            try:
                row = await self._one(sql, args)
                break
            except IntegrityError:
                if attempt == 9:
                    raise
        if row is None:
            return None
        return Subscription(row[0], platform, channel, query, digest, created_by, created_at, 0, mention)

    async def set_subscription_mention(self, subscription_id: int, mention: Mention | None) -> None:
        """Who the subscription's alerts ping from now on (alerts already queued keep theirs)."""
        await self._change(
            "UPDATE subscriptions SET mention = ? WHERE id = ?", (mention and mention.token, subscription_id)
        )

    async def remove_subscription(self, platform: str, channel: str, subscription_id: int) -> bool:
        return await self._change(
            "DELETE FROM subscriptions WHERE platform = ? AND channel = ? AND id = ?",
            (platform, channel, subscription_id),
        )

    async def subscriptions(
        self, platform: str | None = None, channel: str | None = None
    ) -> list[Subscription]:
        """A channel's subscriptions, or everyone's (to build the match index at start)."""
        rows = await self._channel_rows(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions", platform, channel, "id"
        )
        return [
            Subscription(id_, platform_, channel_, query, digest, by, at, alerts, Mention.from_token(mention))
            for id_, platform_, channel_, query, digest, by, at, alerts, mention in rows
        ]

    async def count_alert(self, subscription_id: int) -> None:
        await self._db.execute(
            "UPDATE subscriptions SET alerts = alerts + 1 WHERE id = ?", (subscription_id,)
        )

    # --- topic alerts: feeds ---------------------------------------------------------------------------

    async def add_channel_feed(
        self, platform: str, channel: str, url: str, *, added_by: str, at: float
    ) -> bool:
        return await self._change(
            "INSERT INTO channel_feeds (platform, channel, url, added_by, added_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, channel, url) DO NOTHING",
            (platform, channel, url, added_by, at),
        )

    async def remove_channel_feed(self, platform: str, channel: str, url: str) -> bool:
        return await self._change(
            "DELETE FROM channel_feeds WHERE platform = ? AND channel = ? AND url = ?",
            (platform, channel, url),
        )

    async def channel_feeds(
        self, platform: str | None = None, channel: str | None = None
    ) -> list[ChannelFeed]:
        sql = "SELECT platform, channel, url FROM channel_feeds"
        return [
            ChannelFeed(*row) for row in await self._channel_rows(sql, platform, channel, "added_at, url")
        ]

    async def feed_state(self, url: str) -> FeedRow | None:
        row = await self._one(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE url = ?", (url,))
        if row is None:
            return None
        url, etag, last_modified, next_poll_at, failures, disabled, last_error = row
        return FeedRow(url, etag, last_modified, next_poll_at, failures, bool(disabled), last_error)

    async def save_feed_state(self, state: FeedRow) -> None:
        await self._db.execute(
            f"INSERT INTO feeds ({_FEED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
            "next_poll_at = excluded.next_poll_at, failures = excluded.failures, "
            "disabled = excluded.disabled, last_error = excluded.last_error",
            astuple(state),
        )

    async def mark_seen(self, feed_url: str, item_keys: Sequence[str], at: float) -> dict[str, float]:
        """Record items; returns when each was first seen (now for new ones), so old items never alert."""
        await self._db.executemany(
            "INSERT INTO seen_items (feed_url, item_key, first_seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (feed_url, item_key) DO NOTHING",
            [(feed_url, key, at) for key in item_keys],
        )
        return await self.first_seen(feed_url, item_keys)

    async def first_seen(self, feed_url: str, item_keys: Sequence[str]) -> dict[str, float]:
        """When each already-known item was first seen; unknown keys are absent."""
        found: dict[str, float] = {}
        for start in range(0, len(item_keys), 500):  # stay under the bound-parameter limit
            chunk = list(item_keys[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            rows = await self._db.fetchall(
                "SELECT item_key, first_seen_at FROM seen_items "
                f"WHERE feed_url = ? AND item_key IN ({marks})",
                (feed_url, *chunk),
            )
            found.update({key: when for key, when in rows})
        return found

    async def feed_seen_before(self, feed_url: str) -> bool:
        """Whether any item of this feed was ever recorded (a new feed's first poll only sets a baseline)."""
        return await self._one("SELECT 1 FROM seen_items WHERE feed_url = ? LIMIT 1", (feed_url,)) is not None

    async def add_story(self, story_id: str, signature: bytes, title: str, url: str, at: float) -> None:
        await self._db.execute(
            "INSERT INTO stories (id, signature, title, url, first_seen_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO NOTHING",
            (story_id, signature.hex(), title, url, at),
        )

    async def add_story_once(
        self, story: StoredStory, *, after: int, same_as: Callable[[list[StoredStory]], str | None]
    ) -> tuple[str, int]:
        """Record `story` unless it is the same as one recorded before: one process at a time in the whole
        cluster decides, so two processes seeing one story at once cannot both record it as new.

        `same_as` gets the stories recorded (by any process) after sequence number `after` and returns the
        id of the story this one duplicates, or None. Returns (the id the story goes by: `story.id` when new,
        else the earlier story's; the highest sequence number seen, for the next call's `after`).
        """
        async with self._db.transaction() as tx:
            if self._db.engine == "postgresql":  # SQLite's BEGIN IMMEDIATE already excludes other writers
                await tx.execute(f"SELECT pg_advisory_xact_lock({_STORY_LOCK})")
            rows = await tx.fetchall(
                "SELECT id, signature, first_seen_at, seq FROM stories WHERE seq > ? ORDER BY seq", (after,)
            )
            recorded = [StoredStory(sid, bytes.fromhex(sig), at, seq) for sid, sig, at, seq in rows]
            latest = max((s.seq for s in recorded), default=after)
            if (earlier := same_as(recorded)) is not None:
                return earlier, latest
            await tx.execute(
                "INSERT INTO stories (id, signature, title, url, first_seen_at, seq) "
                "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM stories)) "
                "ON CONFLICT (id) DO NOTHING",
                (story.id, story.signature.hex(), story.title, story.url, story.first_seen_at),
            )
        return story.id, latest

    async def latest_story_seq(self) -> int:
        row = await self._one("SELECT MAX(seq) FROM stories")
        return int(row[0]) if row and row[0] is not None else 0

    async def stories_since(self, since: float) -> list[tuple[str, bytes, float]]:
        """(id, signature, first seen) of the stories in the dedupe window, to rebuild the index on start."""
        rows = await self._db.fetchall(
            "SELECT id, signature, first_seen_at FROM stories WHERE first_seen_at >= ? "
            "ORDER BY first_seen_at",
            (since,),
        )
        return [(sid, bytes.fromhex(sig), at) for sid, sig, at in rows]

    # --- feed polling across processes: a lease per feed, so each is fetched once per interval --------

    async def lease_feed(self, url: str, holder: str, *, now: float, seconds: float) -> bool:
        """Take the right to poll a due feed for `seconds`: True for one holder at a time.

        False while another holder's lease runs, and while the feed is not due (its saved next_poll_at is
        later than `now`), so a feed polled by one process is not polled again by the next one to ask. A
        holder that dies leaves its lease to expire: another takes the feed within `seconds`. One atomic
        upsert on both engines, so two processes asking at once cannot both win.
        """
        return await self._change(
            "INSERT INTO feed_leases (url, holder, expires_at) "
            "SELECT ?, ?, CAST(? AS DOUBLE PRECISION) "
            "WHERE NOT EXISTS (SELECT 1 FROM feeds WHERE url = ? AND next_poll_at > ?) "
            "ON CONFLICT (url) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE feed_leases.expires_at <= ? OR feed_leases.holder = excluded.holder",
            (url, holder, now + seconds, url, now, now),
        )

    async def release_feed(self, url: str, holder: str) -> bool:
        """Give the lease up early (after saving the feed's next poll time, or when stopping)."""
        return await self._change("DELETE FROM feed_leases WHERE url = ? AND holder = ?", (url, holder))

    # --- topic alerts: the alert queue (written before posting, marked after the platform confirms) ----
    # Its table is named `outbox` from before; in the code, the Outbox is the in-memory per-channel queue.

    async def enqueue_delivery(self, delivery: Delivery) -> bool:
        """Queue an alert once: a replay with the same delivery key is ignored."""
        return await self._change(
            "INSERT INTO outbox (delivery_key, platform, channel, payload, created_at, mention) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_key) DO NOTHING",
            (
                delivery.key,
                delivery.platform,
                delivery.channel,
                _alert_json(delivery.content),
                delivery.created_at,
                delivery.mention and delivery.mention.token,
            ),
        )

    async def pending_deliveries(self, platform: str | None = None) -> list[Delivery]:
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM outbox"
        sql += " WHERE delivered_at IS NULL AND parked_at IS NULL"
        args: tuple[str, ...] = ()
        if platform is not None:
            sql += " AND platform = ?"
            args = (platform,)
        rows = await self._db.fetchall(sql + " ORDER BY created_at, delivery_key", args)
        return [delivery for row in rows if (delivery := _delivery(row)) is not None]

    async def update_pending_delivery(self, key: str, content: AlertContent) -> bool:
        """Change an alert not yet delivered (e.g. another outlet of the same story); False once delivered."""
        return await self._change(
            "UPDATE outbox SET payload = ? WHERE delivery_key = ? AND delivered_at IS NULL",
            (_alert_json(content), key),
        )

    async def record_refusal(self, key: str) -> int:
        """Count one refusal for good of a queued alert; returns how many it has had."""
        row = await self._one(
            "UPDATE outbox SET refusals = refusals + 1 WHERE delivery_key = ? RETURNING refusals", (key,)
        )
        return int(row[0]) if row else 0

    async def park_channel(self, platform: str, channel: str, reason: str, at: float) -> bool:
        """Park the channel's queued alerts and pause it; True when it was not paused before."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET parked_at = ? WHERE platform = ? AND channel = ? "
                "AND delivered_at IS NULL AND parked_at IS NULL",
                (at, platform, channel),
            )
            paused = await tx.execute(
                "INSERT INTO paused_channels (platform, channel, reason, since) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (platform, channel) DO NOTHING",
                (platform, channel, reason, at),
            )
        return paused > 0

    async def paused_channels(self) -> dict[tuple[str, str], str]:
        """Paused channels and why: (platform, channel) -> the platform's refusal."""
        rows = await self._db.fetchall("SELECT platform, channel, reason FROM paused_channels")
        return {(platform, channel): reason for platform, channel, reason in rows}

    async def parked_deliveries(self, platform: str, channel: str) -> list[Delivery]:
        rows = await self._db.fetchall(
            f"SELECT {_DELIVERY_COLUMNS} FROM outbox WHERE platform = ? "
            "AND channel = ? AND delivered_at IS NULL AND parked_at IS NOT NULL "
            "ORDER BY created_at, delivery_key",
            (platform, channel),
        )
        return [delivery for row in rows if (delivery := _delivery(row)) is not None]

    async def resume_channel(self, platform: str, channel: str) -> None:
        """Posting works there again: its parked alerts are queued again and its subscriptions resume."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET parked_at = NULL, refusals = 0 WHERE platform = ? AND channel = ? "
                "AND delivered_at IS NULL",
                (platform, channel),
            )
            await tx.execute(
                "DELETE FROM paused_channels WHERE platform = ? AND channel = ?", (platform, channel)
            )

    async def mark_delivered(self, key: str, at: float, ref: str | None = None) -> None:
        await self._db.execute(
            "UPDATE outbox SET delivered_at = ?, posted_ref = ?, claimed_by = NULL, claim_expires_at = NULL "
            "WHERE delivery_key = ?",
            (at, ref, key),
        )

    # --- the alert queue across processes: each queued alert claimed by one process at a time ------------

    async def claim_deliveries(
        self, holder: str, *, now: float, seconds: float, platforms: Collection[str] | None = None
    ) -> list[Delivery]:
        """Claim every queued alert that is free (never claimed, its claim expired, or `holder`'s own) for
        `seconds`, oldest first; only those of `platforms` when given (a process claims what it can post).
        Two processes asking at once never get the same alert."""
        free = f"SELECT delivery_key FROM outbox WHERE delivered_at IS NULL AND parked_at IS NULL AND {_FREE}"
        chosen: tuple[str, ...] = ()
        if platforms is not None:
            if not platforms:
                return []
            among, chosen = _on_platforms(platforms)
            free += among
        return await self._claim(free, (now, holder, *chosen), holder, now + seconds)

    async def claim_parked_delivery(
        self, platform: str, channel: str, holder: str, *, now: float, seconds: float
    ) -> Delivery | None:
        """Claim, to try it again, the oldest parked alert of a paused channel that no other process is
        trying now; None when there is none. Two processes retrying the channel never send one alert."""
        oldest = (
            "SELECT delivery_key FROM outbox WHERE platform = ? AND channel = ? AND delivered_at IS NULL "
            f"AND parked_at IS NOT NULL AND {_FREE} ORDER BY created_at, delivery_key LIMIT 1"
        )
        claimed = await self._claim(oldest, (platform, channel, now, holder), holder, now + seconds)
        return claimed[0] if claimed else None

    async def _claim(self, free: str, args: Sequence[Any], holder: str, until: float) -> list[Delivery]:
        """Claim the alerts the query `free` selects for `holder` until `until`, oldest first. PostgreSQL
        skips the rows another claim has locked; SQLite runs one write at a time, so the UPDATE is atomic."""
        if self._db.engine == "postgresql":
            free += " FOR UPDATE SKIP LOCKED"
        # claimed_by outlives a claim (release keeps it): an alert another holder claimed before may have been
        # posted by it, unconfirmed, so it goes out `handed_over` and the platform adapter looks first.
        rows = await self._db.fetchall(
            "UPDATE outbox SET handed_over = (handed_over OR (claimed_by IS NOT NULL AND claimed_by <> ?)), "
            f"claimed_by = ?, claim_expires_at = ? WHERE delivery_key IN ({free}) "
            f"RETURNING {_DELIVERY_COLUMNS}, handed_over",
            (holder, holder, until, *args),
        )
        claimed = [
            replace(delivery, handed_over=bool(row[-1]))
            for row in rows
            if (delivery := _delivery(row[:-1])) is not None
        ]
        return sorted(claimed, key=lambda d: (d.created_at, d.key))  # RETURNING has no order

    async def release_deliveries(self, keys: Sequence[str], holder: str) -> None:
        """Give claims up (not posted now: another process, or this one later, may try). The holder's name
        stays on the row: a post it attempted may have gone through."""
        await self._db.executemany(
            "UPDATE outbox SET claim_expires_at = NULL WHERE delivery_key = ? AND claimed_by = ?",
            [(key, holder) for key in keys],
        )

    async def delivery_for_edit(self, key: str, *, now: float) -> EditableDelivery | None:
        """One alert by key with what an edit needs: its reference once posted, whether another process
        holds a claim on it now (it may be posting it), and its content revision."""
        row = await self._one(
            f"SELECT {_DELIVERY_COLUMNS}, posted_ref, delivered_at, claim_expires_at, revision "
            "FROM outbox WHERE delivery_key = ?",
            (key,),
        )
        if row is None or (delivery := _delivery(row[:-4])) is None:
            return None
        ref, delivered_at, expires, revision = row[-4:]
        claimed = delivered_at is None and expires is not None and expires > now
        return EditableDelivery(delivery, ref, delivered_at is not None, claimed, int(revision))

    async def replace_delivery_content(
        self, key: str, content: AlertContent, *, revision: int, now: float, edit_owed: bool = False
    ) -> bool:
        """Change an alert's content if it is still at `revision` (nobody changed it since it was read) and
        nobody is posting it now; False otherwise (read it again). `edit_owed`: it is posted and its message
        does not show the content yet (the caller does not run its platform); else whatever edit was owed
        is made by the caller's, which shows this content, the latest."""
        return await self._change(
            "UPDATE outbox SET payload = ?, revision = revision + 1, edit_owed = ? WHERE delivery_key = ? "
            "AND revision = ? "
            "AND (delivered_at IS NOT NULL OR claim_expires_at IS NULL OR claim_expires_at <= ?)",
            (_alert_json(content), edit_owed, key, revision, now),
        )

    async def owed_edits(self, platforms: Collection[str] | None = None) -> list[EditableDelivery]:
        """Posted alerts whose messages owe an edit (replace_delivery_content), on `platforms` when given."""
        sql = (
            f"SELECT {_DELIVERY_COLUMNS}, posted_ref, revision FROM outbox "
            "WHERE edit_owed AND delivered_at IS NOT NULL"
        )
        chosen: tuple[str, ...] = ()
        if platforms is not None:
            if not platforms:
                return []
            among, chosen = _on_platforms(platforms)
            sql += among
        rows = await self._db.fetchall(sql + " ORDER BY created_at, delivery_key", chosen)
        return [
            EditableDelivery(delivery, ref, True, False, int(revision))
            for *columns, ref, revision in rows
            if (delivery := _delivery(tuple(columns))) is not None
        ]

    async def settle_edit(self, key: str, revision: int) -> None:
        """The message was edited to show `revision` (or cannot be): no edit is owed, unless the content
        changed meanwhile (that change's own edit may have landed before this one: edit it again)."""
        await self._db.execute(
            "UPDATE outbox SET edit_owed = (revision <> ?) WHERE delivery_key = ?", (revision, key)
        )

    # --- replicas: the processes running on this store ---------------------------------------------------

    async def heartbeat(self, replica: str, *, started_at: float, now: float) -> None:
        await self._db.execute(
            "INSERT INTO replicas (id, started_at, seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (replica, started_at, now),
        )

    async def replicas_seen_since(self, since: float) -> list[Replica]:
        rows = await self._db.fetchall(
            "SELECT id, started_at, seen_at FROM replicas WHERE seen_at >= ? ORDER BY started_at, id",
            (since,),
        )
        return [Replica(*row) for row in rows]

    async def forget_replicas(self, before: float) -> int:
        """Drop replicas not seen since `before` (stopped or dead long ago); how many went."""
        return await self._db.execute("DELETE FROM replicas WHERE seen_at < ?", (before,))

    async def alert_queue(self) -> AlertQueue:
        """The whole alert queue, every process's claims included: how many alerts wait (parked ones
        excluded) and when the oldest was queued. One indexed read (outbox_pending), for a metrics scrape."""
        row = await self._one(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE delivered_at IS NULL AND parked_at IS NULL"
        )
        count, oldest = row if row is not None else (0, None)
        return AlertQueue(int(count), None if oldest is None else float(oldest))

    async def delivery(self, key: str) -> tuple[Delivery, str | None, bool] | None:
        """One alert by key: (delivery, the platform's reference once posted, whether it was delivered)."""
        row = await self._one(
            f"SELECT {_DELIVERY_COLUMNS}, posted_ref, delivered_at FROM outbox WHERE delivery_key = ?",
            (key,),
        )
        if row is None or (delivery := _delivery(row[:-2])) is None:
            return None
        ref, delivered_at = row[-2:]
        return delivery, ref, delivered_at is not None

    async def set_delivery_content(self, key: str, content: AlertContent) -> None:
        """Record an alert's new content (after its posted message was edited)."""
        await self._db.execute(
            "UPDATE outbox SET payload = ? WHERE delivery_key = ?", (_alert_json(content), key)
        )

    # --- chat across processes: briefings made once, rate limits held together --------------------------

    async def cached_briefing(self, url: str, *, since: float) -> Briefing | None:
        """The briefing of `url` made at `since` or later, if any process made one."""
        row = await self._one(
            "SELECT payload FROM briefings WHERE url = ? AND made_at >= ? AND payload IS NOT NULL",
            (url, since),
        )
        if row is None:
            return None
        try:
            return Briefing.from_dict(json.loads(row[0]))
        except (ValueError, TypeError, KeyError):
            log.warning("the cached briefing of %s is unreadable; making it again", url)
            return None

    async def claim_briefing(self, url: str, maker: str, *, now: float, seconds: float, since: float) -> bool:
        """Take the making of `url`'s briefing for `seconds`: True for one process at a time, and only while
        no briefing made at `since` or later is stored. A maker that dies leaves its claim to expire."""
        return await self._change(
            "INSERT INTO briefings (url, maker, making_until) VALUES (?, ?, CAST(? AS DOUBLE PRECISION)) "
            "ON CONFLICT (url) DO UPDATE SET maker = excluded.maker, making_until = excluded.making_until "
            "WHERE (briefings.made_at IS NULL OR briefings.made_at < ?) "
            "AND (briefings.making_until IS NULL OR briefings.making_until <= ?)",
            (url, maker, now + seconds, since, now),
        )

    async def save_briefing(self, url: str, maker: str, briefing: Briefing | None, *, now: float) -> None:
        """Store the briefing made (None: it failed, nothing is stored) and end `maker`'s claim; briefings
        older than a day go (the cache's TTL is minutes)."""
        payload = None if briefing is None else json.dumps(briefing.to_dict())
        async with self._db.transaction() as tx:
            if payload is not None:
                await tx.execute(
                    "UPDATE briefings SET payload = ?, made_at = ?, maker = NULL, making_until = NULL "
                    "WHERE url = ?",
                    (payload, now, url),
                )
            else:
                await tx.execute(
                    "UPDATE briefings SET maker = NULL, making_until = NULL WHERE url = ? AND maker = ?",
                    (url, maker),
                )
            await tx.execute(
                "DELETE FROM briefings WHERE made_at < ? AND (making_until IS NULL OR making_until < ?)",
                (now - 86_400, now),
            )

    async def take_token(self, key: str, *, now: float, per_second: float, burst: float) -> float:
        """One event of `key` against its token bucket, shared by every process: 0 when allowed, else the
        seconds until it would be. One atomic upsert; a clock behind the bucket's adds nothing."""
        row = await self._one(
            "INSERT INTO rate_buckets (key, tokens, updated) "
            "VALUES (?, CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION)) "
            f"ON CONFLICT (key) DO UPDATE SET tokens = ({_REFILLED}) - 1, "
            "updated = CASE WHEN excluded.updated > rate_buckets.updated THEN excluded.updated "
            "ELSE rate_buckets.updated END "
            f"WHERE ({_REFILLED}) >= 1 RETURNING tokens",
            (key, burst - 1, now, *_refill_args(per_second, burst), *_refill_args(per_second, burst)),
        )
        if row is not None:
            return 0.0
        state = await self._one("SELECT tokens, updated FROM rate_buckets WHERE key = ?", (key,))
        if state is None or per_second <= 0:
            return float("inf")
        tokens = min(burst, float(state[0]) + max(0.0, now - float(state[1])) * per_second)
        return max(0.0, (1 - tokens) / per_second)

    async def forget_full_buckets(self, *, before: float) -> int:
        """Drop buckets untouched since `before` (full again by then: they carry no state)."""
        return int(await self._db.execute("DELETE FROM rate_buckets WHERE updated < ?", (before,)))

    # --- inbound deliveries: act on each platform event once ---------------------------------------------

    async def claim_inbound_delivery(self, platform: str, delivery_id: str, at: float) -> bool:
        """Claim an inbound delivery for acting on it: True the first time, False for any retry or replay.

        One atomic INSERT, so two copies arriving at once (even in two processes) cannot both win.
        """
        return await self._change(
            "INSERT INTO inbound_deliveries (platform, delivery_id, received_at) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, delivery_id) DO NOTHING",
            (platform, delivery_id, at),
        )

    async def forget_inbound_deliveries(self, before: float) -> int:
        """Drop claims received before `before` (platforms stop retrying long before); how many went."""
        return await self._db.execute("DELETE FROM inbound_deliveries WHERE received_at < ?", (before,))


# A token bucket refilled up to now, capped at its burst (portable SQL: no LEAST/MIN of two values); its
# parameters, in order, from _refill_args. A clock behind the bucket's adds nothing.
_ELAPSED = (
    "CASE WHEN excluded.updated > rate_buckets.updated "
    "THEN excluded.updated - rate_buckets.updated ELSE 0 END"
)
_GROWN = f"rate_buckets.tokens + ({_ELAPSED}) * CAST(? AS DOUBLE PRECISION)"
_REFILLED = (
    f"CASE WHEN {_GROWN} > CAST(? AS DOUBLE PRECISION) THEN CAST(? AS DOUBLE PRECISION) ELSE {_GROWN} END"
)


def _refill_args(per_second: float, burst: float) -> tuple[float, ...]:
    return (per_second, burst, burst, per_second)


_STORY_LOCK = 0x73746F72  # "stor": PostgreSQL's advisory lock for recording stories one process at a time
_SUBSCRIPTION_COLUMNS = "id, platform, channel, query, digest, created_by, created_at, alerts, mention"
_DELIVERY_COLUMNS = "delivery_key, platform, channel, payload, created_at, mention"
# Free for `holder`: no claim on it (never claimed, or expired) or its own (args: now, holder)
_FREE = "(claim_expires_at IS NULL OR claim_expires_at <= ? OR claimed_by = ?)"
_FEED_COLUMNS = "url, etag, last_modified, next_poll_at, failures, disabled, last_error"


@dataclass(frozen=True, slots=True)
class ChannelFeed:
    platform: str
    channel: str
    url: str


@dataclass(frozen=True, slots=True)
class StoredStory:
    id: str
    signature: bytes
    first_seen_at: float
    seq: int = 0  # the order it was recorded in (add_story_once)
    title: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class EditableDelivery:
    delivery: Delivery
    ref: str | None  # the platform's reference once posted
    delivered: bool
    claimed: bool  # another process may be posting it right now
    revision: int  # of its content, for replace_delivery_content


@dataclass(frozen=True, slots=True)
class Replica:
    id: str
    started_at: float
    seen_at: float


@dataclass(frozen=True, slots=True)
class AlertQueue:
    depth: int  # alerts queued and not delivered, parked ones excluded
    oldest_created_at: float | None  # None when the queue is empty


@dataclass(frozen=True, slots=True)
class FeedRow:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: float = 0.0
    failures: int = 0
    disabled: bool = False
    last_error: str | None = None


# --- alert content as the alert queue's JSON payload ----------------------------------------------------
# Rows written by every release must stay readable: {"notice": text}, or {"subscription": id, "query": text,
# "briefing": Briefing.to_dict(), "also": [links], "digest_due"?: epoch seconds}.


def _alert_json(content: AlertContent) -> str:
    if isinstance(content, Notice):
        return json.dumps({"notice": content.text})
    payload: dict[str, Any] = {
        "subscription": content.subscription_id,
        "query": content.query,
        # What is shown: summary spans index an article text the queue does not keep.
        "briefing": {k: v for k, v in content.briefing.to_dict().items() if k != "summary_spans"},
        "also": list(content.also),
    }
    if content.digest_due is not None:
        payload["digest_due"] = content.digest_due
    return json.dumps(payload)


def _on_platforms(platforms: Collection[str]) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause's condition (to append) for rows of these platforms, and its arguments."""
    chosen = tuple(sorted(platforms))
    return f" AND platform IN ({', '.join('?' * len(chosen))})", chosen


def _delivery(row: Sequence[Any]) -> Delivery | None:
    """A queued alert from its row (`_DELIVERY_COLUMNS`), or None when its payload is unreadable."""
    key, platform, channel, payload, created, mention = row
    if (content := _parse_alert(key, payload)) is None:
        return None
    return Delivery(key, platform, channel, content, created, Mention.from_token(mention))


def _parse_alert(key: str, text: str) -> AlertContent | None:
    """The row's alert, or None (logged) for one no release wrote: it must not hold up the others."""
    try:
        payload = json.loads(text)
        if "notice" in payload:
            return Notice(str(payload["notice"]))
        due = payload.get("digest_due")
        return StoryAlert(
            subscription_id=int(payload["subscription"]),
            query=str(payload["query"]),
            briefing=Briefing.from_dict(payload["briefing"]),
            also=tuple(str(url) for url in payload.get("also") or ()),
            digest_due=None if due is None else float(due),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("alert %s has an unreadable payload; skipping it", key, exc_info=True)
        return None
