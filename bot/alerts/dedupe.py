"""Near-duplicate stories: the same event from several outlets (or updated under a new headline) is one story.

A story is described by the set of content words of its title and lead (the first LEAD_WORDS words that are
not stop words, plurals folded to the singular). Two stories are the same when the Jaccard similarity of
those sets, estimated with a MinHash of NUM_PERM permutations (datasketch, fixed seed, sha1-based token
hashes, so signatures are equal in every process whatever PYTHONHASHSEED is), reaches `threshold`.
StoryIndex compares a new story with every stored signature at once (numpy); datasketch's MinHashLSH was
measured against that (see StoryIndex). Word bigrams, extra weight on names and numbers, and names-only
sets were measured against plain content words and did no better on the dev pairs
(bench/results/alerts_dedupe.md).

Cost (see the bench): `signature` tokenizes and hashes, ~0.3 ms for a title plus lead; `StoryIndex.add`
and `find_duplicate` add a scan of ~0.15 ms per 1k stories in the window. It is all CPU work without I/O:
the caller may run a batch of items through `signature` in a worker thread and pass the bytes to
`add_signature` / `find_duplicate_signature`. A StoryIndex is not thread-safe: keep its calls on one thread
(or behind one lock).
"""

from __future__ import annotations

import functools
import struct
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash

from bot.alerts.query import words_of
from bot.stopwords import stop_words

NUM_PERM = 128
SEED = 20261125
LEAD_WORDS = 60  # content words of title + lead; a feed summary and a full lead then weigh alike
DEFAULT_THRESHOLD = 0.25
DEFAULT_WINDOW = timedelta(hours=48)
_INITIAL_ROWS = 256

_SCHEME = "affine32"
_MAGIC = b"BDM1"  # format tag: any change to tokens, seed or permutations must change it
_HEADER = struct.Struct("<4sH")


class SignatureError(ValueError):
    """Bytes that are not a signature of this format (another version, or corrupted)."""


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Drawn once from the fixed seed and shared: MinHash would otherwise draw them again for every story.
    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=_SCHEME)
    permutations: tuple[np.ndarray, np.ndarray] = sketch.permutations  # datasketch is untyped
    return permutations


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def story_tokens(title: str, text: str) -> set[str]:
    """The content words a story is compared on: title first, then the lead, at most LEAD_WORDS of them."""
    stop = stop_words("english")
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
    values: np.ndarray = _minhash(story_tokens(title, text)).hashvalues.astype("<u4")
    return _HEADER.pack(_MAGIC, NUM_PERM) + values.tobytes()


def _values(data: bytes) -> np.ndarray:
    if len(data) != _HEADER.size + 4 * NUM_PERM:
        raise SignatureError(f"a signature has {_HEADER.size + 4 * NUM_PERM} bytes, got {len(data)}")
    magic, num_perm = _HEADER.unpack_from(data)
    if magic != _MAGIC or num_perm != NUM_PERM:
        raise SignatureError(f"not a {_MAGIC.decode()} signature with {NUM_PERM} permutations")
    return np.frombuffer(data, dtype="<u4", offset=_HEADER.size).astype(np.uint32)


def similarity(first: bytes, second: bytes) -> float:
    """Estimated Jaccard similarity of two stories: the share of equal MinHash values."""
    return float(np.count_nonzero(_values(first) == _values(second)) / NUM_PERM)


class StoryIndex:
    """Stories seen within a time window, looked up by near-duplicate title + lead.

    Signatures sit in one uint32 matrix (NUM_PERM columns) that each lookup scans with numpy: exact (no
    banding misses) and ~0.5 KB per story. datasketch's MinHashLSH was measured first: a little faster
    at 10k stories, but ~170 MB per 10k with the 64 bands a 0.25 threshold needs
    (bench/results/alerts_dedupe.md).

    Callers should also `add` the duplicates they find (under their own ids): a later outlet that copies the
    second version of a story then still matches. Mapping a duplicate to the alert already posted is the
    caller's (the store's) business: find_duplicate returns the id of the most similar earlier story.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, window: timedelta = DEFAULT_WINDOW) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.window = window
        self._values = np.empty((_INITIAL_ROWS, NUM_PERM), dtype=np.uint32)
        self._seen = np.empty(_INITIAL_ROWS, dtype=np.float64)  # POSIX seconds; NaN marks a removed row
        self._ids: list[str | None] = []
        self._rows: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._rows

    def add(self, story_id: str, title: str, text: str, seen_at: datetime) -> None:
        self.add_signature(story_id, signature(title, text), seen_at)

    def add_signature(self, story_id: str, data: bytes, seen_at: datetime) -> None:
        """Add a story from its stored signature; adding an id again replaces it (an updated story)."""
        values = _values(data)
        self.remove(story_id)
        row = len(self._ids)
        if row == len(self._seen):
            self._grow()
        self._values[row] = values
        self._seen[row] = seen_at.timestamp()
        self._ids.append(story_id)
        self._rows[story_id] = row

    def remove(self, story_id: str) -> None:
        row = self._rows.pop(story_id, None)
        if row is not None:
            self._ids[row] = None
            self._seen[row] = np.nan
            if len(self._rows) < len(self._ids) // 2:
                self._compact()

    def find_duplicate(self, title: str, text: str, at: datetime) -> str | None:
        return self.find_duplicate_signature(signature(title, text), at)

    def find_duplicate_signature(self, data: bytes, at: datetime) -> str | None:
        """The most similar story seen in [at - window, at] at or above the threshold (earliest on ties)."""
        count = len(self._ids)
        if count == 0:
            return None
        now = at.timestamp()
        seen = self._seen[:count]
        # NaN (removed) compares False, so removed rows are never in the window.
        in_window = (seen >= now - self.window.total_seconds()) & (seen <= now)
        scores = np.count_nonzero(self._values[:count] == _values(data), axis=1) / NUM_PERM
        scores[~in_window] = -1.0
        best = float(scores.max())
        if best < self.threshold:
            return None
        # Ties: the earlier story, then the smaller id, so the answer never depends on insertion order.
        tied = np.flatnonzero(scores == best)
        row = min(tied, key=lambda r: (seen[r], self._ids[r]))
        return self._ids[row]

    def expire(self, before: datetime) -> int:
        """Forget stories seen before `before`; returns how many were removed."""
        cutoff = before.timestamp()
        old = [story_id for story_id, row in self._rows.items() if self._seen[row] < cutoff]
        for story_id in old:
            self.remove(story_id)
        return len(old)

    def _grow(self) -> None:
        rows = 2 * len(self._seen)
        self._values = np.resize(self._values, (rows, NUM_PERM))
        self._seen = np.resize(self._seen, rows)

    def _compact(self) -> None:
        keep = [row for row, story_id in enumerate(self._ids) if story_id is not None]
        self._values[: len(keep)] = self._values[keep]
        self._seen[: len(keep)] = self._seen[keep]
        self._ids = [self._ids[row] for row in keep]
        self._rows = {story_id: row for row, story_id in enumerate(self._ids) if story_id is not None}
