"""The store as several processes share it, on both engines: queued alerts claimed by one process at a
time, alerts edited by two at once, stories recorded once, replicas seen alive. "Processes" are separate
Store instances (separate connections) on one store URL."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest_asyncio

from bot.alerts.model import Delivery, StoryAlert
from bot.chat.model import Notice
from bot.models import Briefing
from bot.store import Store, StoredStory


@pytest_asyncio.fixture
async def other(store: Store, store_url: str) -> AsyncIterator[Store]:
    """The same store opened a second time, as a second replica opens it."""
    async with await Store.open(store_url) as opened:
        yield opened


def notice(key: str, at: float) -> Delivery:
    return Delivery(key, "slack", "C1", Notice(f"alert {key}"), at)


async def test_a_queued_alert_is_claimed_by_one_replica_until_its_claim_expires(
    store: Store, other: Store
) -> None:
    for n in range(3):
        await store.enqueue_delivery(notice(f"k{n}", float(n)))
    mine = await store.claim_deliveries("a", now=100.0, seconds=60.0)
    assert [d.key for d in mine] == ["k0", "k1", "k2"], "oldest first"
    assert await other.claim_deliveries("b", now=110.0, seconds=60.0) == [], "a holds them"
    await other.enqueue_delivery(notice("k3", 3.0))
    assert [d.key for d in await other.claim_deliveries("b", now=111.0, seconds=60.0)] == ["k3"]
    await store.mark_delivered("k0", at=120.0)
    await store.release_deliveries(["k1"], "a")  # not posted now: free for anyone
    await store.release_deliveries(["k2"], "b")  # only its holder gives a claim up: still a's
    assert [d.key for d in await other.claim_deliveries("b", now=130.0, seconds=60.0)] == ["k1", "k3"]
    # a dies holding k2: its claim expires at 160 and b takes it then; a delivered alert is never claimed
    assert [d.key for d in await other.claim_deliveries("b", now=159.0, seconds=60.0)] == ["k1", "k3"]
    taken = await other.claim_deliveries("b", now=160.0, seconds=60.0)
    assert [d.key for d in taken] == ["k1", "k2", "k3"]
    assert [d.handed_over for d in taken] == [True, True, False], "a may have posted k1 and k2, never k3"


async def test_a_replica_claims_only_the_alerts_of_the_platforms_it_runs(store: Store, other: Store) -> None:
    await store.enqueue_delivery(Delivery("s", "slack", "C1", Notice("to Slack"), 1.0))
    await store.enqueue_delivery(Delivery("d", "discord", "42", Notice("to Discord"), 2.0))
    slack_only = await store.claim_deliveries("c", now=10.0, seconds=60.0, platforms={"slack"})
    assert [d.key for d in slack_only] == ["s"], "a Slack-only replica leaves the Discord alert alone"
    assert await other.claim_deliveries("x", now=10.0, seconds=60.0, platforms=()) == []
    both = await other.claim_deliveries("a", now=11.0, seconds=60.0, platforms=["slack", "discord"])
    assert [(d.key, d.handed_over) for d in both] == [("d", False)], "never claimed by another before"


async def test_a_parked_alert_is_claimed_for_its_retry_by_one_replica(store: Store, other: Store) -> None:
    for n in range(2):
        await store.enqueue_delivery(notice(f"k{n}", float(n)))
    await store.park_channel("slack", "C1", "channel_not_found", 5.0)
    assert await store.claim_deliveries("a", now=10.0, seconds=60.0) == [], "parked: not queued"
    first = await store.claim_parked_delivery("slack", "C1", "a", now=10.0, seconds=60.0)
    second = await other.claim_parked_delivery("slack", "C1", "b", now=10.0, seconds=60.0)
    assert (first and first.key, second and second.key) == ("k0", "k1"), "the oldest one free"
    assert await other.claim_parked_delivery("slack", "C1", "c", now=10.0, seconds=60.0) is None
    await store.release_deliveries(["k0"], "a")  # refused again
    again = await other.claim_parked_delivery("slack", "C1", "c", now=11.0, seconds=60.0)
    assert again is not None and again.key == "k0" and again.handed_over, "a's try may have gone through"
    assert await store.claim_parked_delivery("slack", "C2", "a", now=11.0, seconds=60.0) is None


async def test_an_edit_owed_to_a_posted_alert_is_settled_only_for_the_content_it_showed(
    store: Store, other: Store
) -> None:
    alert = StoryAlert(1, "floods", Briefing("Floods", "https://a.example/1", None, []))
    await store.enqueue_delivery(Delivery("1:s", "discord", "42", alert, 1.0))
    await store.mark_delivered("1:s", at=2.0, ref="m-1")
    one = replace(alert, also=("https://b.example/1",))
    assert await store.replace_delivery_content("1:s", one, revision=0, now=3.0, edit_owed=True)
    assert await other.owed_edits(platforms=("slack",)) == []
    [owed] = await other.owed_edits(platforms=("discord",))
    assert (owed.delivery.content, owed.ref, owed.revision) == (one, "m-1", 1)
    two = replace(one, also=(*one.also, "https://c.example/1"))
    assert await store.replace_delivery_content("1:s", two, revision=1, now=4.0)  # edited by its maker
    await other.settle_edit("1:s", owed.revision)
    [again] = await other.owed_edits()
    assert again.revision == 2, "changed while the owed edit was made: that edit may have undone it"
    await other.settle_edit("1:s", again.revision)
    assert await other.owed_edits() == []


async def test_replicas_claiming_at_once_never_share_an_alert(store: Store, other: Store) -> None:
    for n in range(200):
        await store.enqueue_delivery(notice(f"k{n:03}", float(n)))
    claims = await asyncio.gather(
        *((store if n % 2 else other).claim_deliveries(f"r{n}", now=100.0, seconds=60.0) for n in range(8))
    )
    keys = [d.key for claim in claims for d in claim]
    assert sorted(keys) == [f"k{n:03}" for n in range(200)], "each alert claimed exactly once"


async def test_an_alert_edited_by_two_replicas_at_once_keeps_both_changes(store: Store, other: Store) -> None:
    alert = StoryAlert(1, "floods", Briefing("Floods", "https://a.example/1", None, []))
    await store.enqueue_delivery(Delivery("1:s", "slack", "C1", alert, 1.0))
    first = await store.delivery_for_edit("1:s", now=10.0)
    second = await other.delivery_for_edit("1:s", now=10.0)
    assert first is not None and second is not None and first.revision == second.revision == 0
    one = replace(alert, also=("https://b.example/1",))
    assert await store.replace_delivery_content("1:s", one, revision=first.revision, now=10.0)
    two = replace(alert, also=("https://c.example/1",))
    assert not await other.replace_delivery_content("1:s", two, revision=second.revision, now=10.0), (
        "changed since it was read: the second must read it again, or the first outlet is lost"
    )
    again = await other.delivery_for_edit("1:s", now=11.0)
    assert again is not None and again.delivery.content == one and again.revision == 1
    # While a replica holds a claim on it (posting it now), its content must not change under it.
    await store.claim_deliveries("a", now=12.0, seconds=60.0)
    claimed = await other.delivery_for_edit("1:s", now=13.0)
    assert claimed is not None and claimed.claimed and not claimed.delivered
    both = replace(one, also=(*one.also, "https://c.example/1"))
    assert not await other.replace_delivery_content("1:s", both, revision=1, now=13.0)
    await store.mark_delivered("1:s", at=14.0, ref="ts-1")
    posted = await other.delivery_for_edit("1:s", now=15.0)
    assert posted is not None and (posted.delivered, posted.claimed, posted.ref) == (True, False, "ts-1")
    assert await other.replace_delivery_content("1:s", both, revision=posted.revision, now=15.0)
    final = await store.delivery_for_edit("1:s", now=16.0)
    assert final is not None and final.delivery.content == both


def story(story_id: str, signature: bytes, at: float) -> StoredStory:
    return StoredStory(story_id, signature, at, title=story_id, url=f"https://x.example/{story_id}")


async def test_a_story_is_recorded_once_however_many_replicas_see_it_at_once(
    store: Store, other: Store
) -> None:
    """Each replica's `same_as` says "duplicate" when any story recorded after its last look has the same
    signature: of many replicas seeing one story at once, exactly one records it and the rest adopt it."""
    signature = b"S" * 518

    async def replica(n: int) -> str:
        def same_as(recorded: list[StoredStory]) -> str | None:
            return next((s.id for s in recorded if s.signature == signature), None)

        found, _ = await (store if n % 2 else other).add_story_once(
            story(f"item-{n}", signature, 100.0 + n), after=0, same_as=same_as
        )
        return found

    ids = await asyncio.gather(*(replica(n) for n in range(6)))
    assert len(set(ids)) == 1, ids
    [recorded] = await store.stories_since(0.0)
    assert recorded[0] == ids[0]


async def test_stories_recorded_elsewhere_are_handed_over_once(store: Store, other: Store) -> None:
    seen: list[list[str]] = []

    def record(recorded: list[StoredStory]) -> None:
        seen.append([s.id for s in recorded])

    def none_same(recorded: list[StoredStory]) -> str | None:
        record(recorded)
        return None

    _, after_a = await store.add_story_once(story("a", b"A", 1.0), after=0, same_as=none_same)
    _, after_b = await other.add_story_once(story("b", b"B", 2.0), after=0, same_as=none_same)
    _, after_c = await store.add_story_once(story("c", b"C", 3.0), after=after_a, same_as=none_same)
    assert seen == [[], ["a"], ["a", "b"]], "each call gets what was recorded after its last look"
    assert (after_a, after_b, after_c) == (0, 1, 2)
    assert await store.latest_story_seq() == 3


async def test_replicas_are_seen_alive_by_their_heartbeat(store: Store, other: Store) -> None:
    await store.heartbeat("host:1:aa", started_at=10.0, now=100.0)
    await other.heartbeat("host:2:bb", started_at=20.0, now=100.0)
    await store.heartbeat("host:1:aa", started_at=10.0, now=150.0)
    assert [r.id for r in await other.replicas_seen_since(120.0)] == ["host:1:aa"], "2 has not beaten since"
    [one, two] = await other.replicas_seen_since(0.0)
    assert (one.started_at, one.seen_at, two.id) == (10.0, 150.0, "host:2:bb")
    assert await store.forget_replicas(before=120.0) == 1
    assert [r.id for r in await store.replicas_seen_since(0.0)] == ["host:1:aa"]
