"""Feed leases in the store, for the FeedPoller: processes sharing a store poll each feed once an interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerts.schedule import FeedLeases, FeedState
from bot.store import FeedRow, Store


def feed_state(row: FeedRow) -> FeedState:
    return FeedState(
        datetime.fromtimestamp(row.next_poll_at, UTC), row.failures, row.disabled,
        row.etag, row.last_modified, row.last_error,
    )  # fmt: skip


def feed_row(url: str, state: FeedState) -> FeedRow:
    return FeedRow(url, state.etag, state.last_modified, state.next_poll_at.timestamp(), state.failures,
                   state.disabled, state.last_error)  # fmt: skip


class StoreFeedLeases(FeedLeases):
    """Leases held by `holder` (this replica) for `lease_time`, in the poller's clock (as next_poll_at is)."""

    def __init__(self, store: Store, holder: str, lease_time: timedelta) -> None:
        self._store = store
        self._holder = holder
        self._seconds = lease_time.total_seconds()

    async def acquire(self, url: str, now: datetime) -> bool:
        return await self._store.lease_feed(url, self._holder, now=now.timestamp(), seconds=self._seconds)

    async def release(self, url: str) -> None:
        await self._store.release_feed(url, self._holder)

    async def stored(self, url: str) -> FeedState | None:
        row = await self._store.feed_state(url)
        return None if row is None else feed_state(row)
