"""Near-duplicate stories: the same event from several outlets (or updated under a new headline) is one story.

A story is described by the set of content words of its title and lead (the first LEAD_WORDS words that are
not stop words, plurals folded to the singular). Two stories are the same when the Jaccard similarity of
those sets, estimated with a MinHash of NUM_PERM permutations (datasketch, fixed seed, sha1-based token
hashes, so signatures are equal in every process whatever PYTHONHASHSEED is), reaches `threshold`.
Candidates come from a MinHash LSH index (banding PARAMS), then each is verified on its signature and on
the time window. Word bigrams, IDF-like weighting of names and numbers, and names-only sets were measured
against this and did no better on the dev pairs (bench/results/alerts_dedupe.md).

Cost (see the bench): `signature` tokenizes and hashes, a fraction of a millisecond for a title plus lead;
`StoryIndex.add`/`find_duplicate` are ~a millisecond at 10k stories. All of it is CPU work without I/O: the
caller may run a batch of items through `signature` in a worker thread. A StoryIndex is not thread-safe:
keep its calls on one thread (or behind one lock).
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH
from sumy.utils import get_stop_words

from bot.alerts.query import words_of

NUM_PERM = 128
SEED = 20261125
LEAD_WORDS = 60  # content words of title + lead; a feed summary and a full lead then weigh alike
DEFAULT_THRESHOLD = 0.25
DEFAULT_WINDOW = timedelta(hours=48)
# 64 bands of 2 rows: a pair at Jaccard 0.25 becomes a candidate with probability 0.98, one at 0.05 with
# 0.15. Recall near the threshold matters more than a few extra candidates, each verified in microseconds.
LSH_PARAMS = (64, 2)

_SCHEME = "affine32"
_MAGIC = b"BDM1"  # format tag: any change to tokens, seed or permutations must change it
_HEADER = struct.Struct("<4sH")


class SignatureError(ValueError):
    """Bytes that are not a signature of this format (another version, or corrupted)."""


@functools.cache
def _stop_words() -> frozenset[str]:
    return frozenset(get_stop_words("english"))


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Drawn once from the fixed seed and shared: MinHash would otherwise draw them again for every story.
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=_SCHEME).permutations


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def story_tokens(title: str, text: str) -> set[str]:
    """The content words a story is compared on: title first, then the lead, at most LEAD_WORDS of them."""
    stop = _stop_words()
    words = (_singular(w) for w in words_of(f"{title}\n{text}") if w not in stop and len(w) > 1)
    tokens: list[str] = []
    for word in words:
        tokens.append(word)
        if len(tokens) == LEAD_WORDS:
            break
    return set(tokens)


def _minhash(tokens: set[str]) -> MinHash:
    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=_SCHEME, permutations=_permutations())
    sketch.update_batch([token.encode("utf-8") for token in sorted(tokens)])
    return sketch


def signature(title: str, text: str) -> bytes:
    """Bytes for the store (4 + 2 + 4 * NUM_PERM = 518): rebuild the index from them with `add_signature`."""
    values = _minhash(story_tokens(title, text)).hashvalues.astype("<u4")
    return _HEADER.pack(_MAGIC, NUM_PERM) + values.tobytes()


def _from_signature(data: bytes) -> MinHash:
    if len(data) != _HEADER.size + 4 * NUM_PERM:
        raise SignatureError(f"a signature has {_HEADER.size + 4 * NUM_PERM} bytes, got {len(data)}")
    magic, num_perm = _HEADER.unpack_from(data)
    if magic != _MAGIC or num_perm != NUM_PERM:
        raise SignatureError(f"not a {_MAGIC.decode()} signature with {NUM_PERM} permutations")
    values = np.frombuffer(data, dtype="<u4", offset=_HEADER.size).astype(np.uint64)
    return MinHash(seed=SEED, scheme=_SCHEME, hashvalues=values, permutations=_permutations())


def similarity(first: bytes, second: bytes) -> float:
    """Estimated Jaccard similarity of two stories from their signatures."""
    return float(_from_signature(first).jaccard(_from_signature(second)))


@dataclass(frozen=True, slots=True)
class _Entry:
    sketch: MinHash
    seen_at: datetime


class StoryIndex:
    """Stories seen within a time window, looked up by near-duplicate title + lead.

    Callers should also `add` the duplicates they find (under their own ids): a later outlet that copies the
    second version of a story then still matches. Mapping a duplicate to the alert already posted is the
    caller's (the store's) business: find_duplicate returns the id of the most similar earlier story.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, window: timedelta = DEFAULT_WINDOW) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.window = window
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=LSH_PARAMS)
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._entries

    def add(self, story_id: str, title: str, text: str, seen_at: datetime) -> None:
        self.add_signature(story_id, signature(title, text), seen_at)

    def add_signature(self, story_id: str, data: bytes, seen_at: datetime) -> None:
        """Add a story from its stored signature; adding an id again replaces it (an updated story)."""
        sketch = _from_signature(data)
        if story_id in self._entries:
            self._lsh.remove(story_id)
        self._lsh.insert(story_id, sketch, check_duplication=False)
        self._entries[story_id] = _Entry(sketch, seen_at)

    def remove(self, story_id: str) -> None:
        if self._entries.pop(story_id, None) is not None:
            self._lsh.remove(story_id)

    def find_duplicate(self, title: str, text: str, at: datetime) -> str | None:
        return self.find_duplicate_signature(signature(title, text), at)

    def find_duplicate_signature(self, data: bytes, at: datetime) -> str | None:
        """The most similar story seen in [at - window, at] at or above the threshold (earliest on ties)."""
        sketch = _from_signature(data)
        best: tuple[float, datetime, str] | None = None
        for story_id in self._lsh.query(sketch):
            entry = self._entries[story_id]
            if not at - self.window <= entry.seen_at <= at:
                continue
            score = float(sketch.jaccard(entry.sketch))
            if score < self.threshold:
                continue
            # Higher score first, then the earlier story, then the id so the answer never depends on order.
            key = (-score, entry.seen_at, story_id)
            if best is None or key < best:
                best = key
        return None if best is None else best[2]

    def expire(self, before: datetime) -> int:
        """Forget stories seen before `before`; returns how many were removed."""
        old = [story_id for story_id, entry in self._entries.items() if entry.seen_at < before]
        for story_id in old:
            self.remove(story_id)
        return len(old)
