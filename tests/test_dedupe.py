"""StoryIndex: one story however many outlets write it, different events kept apart, window, persistence."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts.dedupe import NUM_PERM, SignatureError, StoryIndex, signature, similarity

# Made-up events in a made-up country, written three ways as three outlets would.
DAM_WIRE = (
    "Dam collapse floods three villages in northern Ruvana",
    "A hydroelectric dam on the Kessel river collapsed early on Tuesday, flooding three villages near the "
    "town of Ostrava and forcing 2,000 residents from their homes, regional officials said. Rescue teams "
    "were searching for 14 missing people.",
)
DAM_DAILY = (
    "Ruvana dam bursts, 14 missing as floodwater sweeps villages",
    "Fourteen people were missing after the Kessel river dam in northern Ruvana burst on Tuesday morning. "
    "Floodwater swept through three villages close to Ostrava, and about 2,000 residents were evacuated, "
    "officials said.",
)
DAM_RADIO = (
    "Thousands evacuated after Kessel dam failure",
    "Rescue teams in Ruvana searched for 14 people missing after a dam on the Kessel river failed on "
    "Tuesday, flooding villages near Ostrava. Around 2,000 residents left their homes, according to "
    "regional officials.",
)
DAM_UPDATE = (
    "Death toll rises to 9 in Ruvana dam collapse; 5 still missing",
    "A hydroelectric dam on the Kessel river collapsed early on Tuesday, flooding three villages near the "
    "town of Ostrava, regional officials said. Nine people were confirmed dead on Wednesday and rescue "
    "teams were searching for five missing people.",
)
# Same city, same day, same officials: different events.
TRAM = (
    "Ostrava council approves new tram line",
    "The city council of Ostrava in northern Ruvana voted on Tuesday to build a new tram line linking the "
    "railway station to the university, officials said. Construction will cost 40 million and start next "
    "year.",
)
HOSPITAL = (
    "Ostrava hospital opens new cancer wing",
    "A new cancer treatment wing opened at Ostrava's main hospital in northern Ruvana on Tuesday, regional "
    "officials said. The wing has 60 beds and will treat patients from three provinces.",
)

T0 = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_three_outlets_are_one_story() -> None:
    index = StoryIndex()
    index.add("wire", *DAM_WIRE, seen_at=T0)
    assert index.find_duplicate(*DAM_DAILY, at=T0 + HOUR) == "wire"
    index.add("daily", *DAM_DAILY, seen_at=T0 + HOUR)
    assert index.find_duplicate(*DAM_RADIO, at=T0 + 2 * HOUR) in {"wire", "daily"}


def test_updated_story_with_a_new_headline_is_the_same_story() -> None:
    index = StoryIndex()
    index.add("wire", *DAM_WIRE, seen_at=T0)
    assert index.find_duplicate(*DAM_UPDATE, at=T0 + 20 * HOUR) == "wire"


def test_different_events_in_the_same_city_are_not_merged() -> None:
    index = StoryIndex()
    index.add("dam", *DAM_WIRE, seen_at=T0)
    assert index.find_duplicate(*TRAM, at=T0 + HOUR) is None
    index.add("tram", *TRAM, seen_at=T0 + HOUR)
    assert index.find_duplicate(*HOSPITAL, at=T0 + 2 * HOUR) is None


def test_returns_the_most_similar_story() -> None:
    index = StoryIndex()
    index.add("tram", *TRAM, seen_at=T0)
    index.add("dam", *DAM_WIRE, seen_at=T0)
    index.add("hospital", *HOSPITAL, seen_at=T0)
    assert index.find_duplicate(*DAM_RADIO, at=T0 + HOUR) == "dam"


def test_stories_outside_the_window_do_not_match() -> None:
    index = StoryIndex(window=timedelta(hours=48))
    index.add("wire", *DAM_WIRE, seen_at=T0)
    assert index.find_duplicate(*DAM_DAILY, at=T0 + 47 * HOUR) == "wire"
    assert index.find_duplicate(*DAM_DAILY, at=T0 + 49 * HOUR) is None
    # A story seen after `at` is not an earlier story.
    assert index.find_duplicate(*DAM_DAILY, at=T0 - HOUR) is None


def test_expire_forgets_old_stories() -> None:
    index = StoryIndex()
    index.add("old", *DAM_WIRE, seen_at=T0)
    index.add("new", *TRAM, seen_at=T0 + 10 * HOUR)
    assert index.expire(before=T0 + HOUR) == 1
    assert "old" not in index
    assert len(index) == 1
    # With the window wide enough, only expiry explains the miss.
    assert index.find_duplicate(*DAM_DAILY, at=T0 + 2 * HOUR) is None


def test_many_stories_grow_and_compact_without_mixing_ids() -> None:
    index = StoryIndex(window=timedelta(days=30))
    stories = {
        f"s{n}": (f"Quarry{n} report", f"Inspector{n} visited mill{n} and depot{n} in valley{n}.")
        for n in range(600)
    }
    for n, (story_id, story) in enumerate(stories.items()):
        index.add(story_id, *story, seen_at=T0 + n * HOUR)
    assert index.expire(before=T0 + 450 * HOUR) == 450  # removes most rows: the matrix is compacted
    assert len(index) == 150
    at = T0 + 700 * HOUR
    assert [index.find_duplicate(*stories[f"s{n}"], at=at) for n in (0, 449, 450, 599)] == [
        None,
        None,
        "s450",
        "s599",
    ]
    index.add("late", *DAM_WIRE, seen_at=at)  # rows appended after compaction keep their own ids
    assert index.find_duplicate(*DAM_DAILY, at=at) == "late"


def test_adding_an_id_again_replaces_its_text() -> None:
    index = StoryIndex()
    index.add("story", *DAM_WIRE, seen_at=T0)
    index.add("story", *TRAM, seen_at=T0)
    assert len(index) == 1
    assert index.find_duplicate(*DAM_DAILY, at=T0 + HOUR) is None
    assert index.find_duplicate(*TRAM, at=T0 + HOUR) == "story"


def test_rebuilt_from_signatures_answers_the_same() -> None:
    stories = {"wire": DAM_WIRE, "tram": TRAM, "hospital": HOSPITAL}
    original = StoryIndex()
    stored: dict[str, bytes] = {}
    for offset, (story_id, (title, text)) in enumerate(stories.items()):
        original.add(story_id, title, text, seen_at=T0 + offset * HOUR)
        stored[story_id] = signature(title, text)

    rebuilt = StoryIndex()
    for offset, (story_id, data) in enumerate(stored.items()):
        rebuilt.add_signature(story_id, data, seen_at=T0 + offset * HOUR)

    probes = [DAM_DAILY, DAM_RADIO, DAM_UPDATE, TRAM, HOSPITAL, ("Unrelated", "Chess final ends in a draw.")]
    answers = [original.find_duplicate(*probe, at=T0 + 5 * HOUR) for probe in probes]
    assert answers == [rebuilt.find_duplicate(*probe, at=T0 + 5 * HOUR) for probe in probes]
    assert answers[:4] == ["wire", "wire", "wire", "tram"]


def test_signature_is_compact_bytes_and_similarity_reads_it() -> None:
    data = signature(*DAM_WIRE)
    assert isinstance(data, bytes)
    assert len(data) == 6 + 4 * NUM_PERM
    assert similarity(data, data) == 1.0
    assert similarity(data, signature(*TRAM)) < 0.2


@pytest.mark.parametrize("bad", [b"", b"BDM1" + bytes(10), b"XXXX" + bytes(2 + 4 * NUM_PERM)])
def test_foreign_bytes_are_rejected(bad: bytes) -> None:
    with pytest.raises(SignatureError):
        StoryIndex().add_signature("x", bad, seen_at=T0)


def test_threshold_must_be_a_similarity() -> None:
    with pytest.raises(ValueError, match="threshold"):
        StoryIndex(threshold=0.0)


# A change here means stored signatures no longer compare with new ones: change the format tag with it.
PINNED_SHA256 = "4d1c3e2466bb766b24d9ff92ed7bea9fe4e21c0a7276d609ddd5790f2a46ba23"
PINNED_STORY = ("Dam collapse floods three villages", "Fourteen people are missing.")


def test_signatures_are_the_same_in_every_process() -> None:
    script = (
        "from bot.alerts.dedupe import signature; "
        f"print(signature({PINNED_STORY[0]!r}, {PINNED_STORY[1]!r}).hex())"
    )
    root = Path(__file__).resolve().parents[1]
    outputs = set()
    for hash_seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout.strip())
    assert outputs == {signature(*PINNED_STORY).hex()}
    assert hashlib.sha256(signature(*PINNED_STORY)).hexdigest() == PINNED_SHA256
