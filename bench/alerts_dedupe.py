"""Topic alerts: how well StoryIndex tells "same story" from "different story", and what it costs.

Run: .venv/bin/python bench/alerts_dedupe.py [--out bench/results/alerts_dedupe.md]

Pairs are built in memory from the dev sets (/work/shared/bench/data); nothing from them is written out
except numbers. A story is (title, lead) as a feed or a briefing gives it.
- same, CNN/DM: the highlights (first one as title) vs the article's own first four sentences (first as
  title): the same event in other words, as a second outlet would write it.
- same, BBC later: the title + first three sentences vs sentences 4-8 without a title: a hard case, the
  same story with mostly different facts (a lower bound).
- different, shared name: two articles' leads that share a capitalised name (a country, a company, a
  person), such as two stories about the same country on the same day.
- different, nearest: for a sample of leads, the most similar other lead of all 2,360 by signature: the
  worst case for a window that holds ~2k stories. BBC 2004-05 has follow-ups of the same affair
  (counted here as different although an editor might call some of them one story) and exact duplicates
  (pairs whose full texts share >= 60% of words; excluded).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasketch import MinHash, MinHashLSH  # noqa: E402

from bot.alerts.dedupe import (  # noqa: E402
    DEFAULT_THRESHOLD,
    NUM_PERM,
    StoryIndex,
    signature,
    story_tokens,
)
from bot.alerts.query import words_of  # noqa: E402
from bot.briefing.sentences import split_sentences  # noqa: E402

DATA = Path("/work/shared/bench/data")
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
SEED = 7
Story = tuple[str, str]
Pair = tuple[Story, Story]
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def load(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def sentences(text: str) -> list[str]:
    return [s.text for s in split_sentences(text.replace("(CNN)", ""))]


def cnn_same_pairs(cnn: list[dict[str, str]]) -> list[Pair]:
    pairs = []
    for row in cnn:
        highlights, lead = row["reference"].split("\n"), sentences(row["text"])
        pairs.append(((highlights[0], " ".join(highlights[1:])), (lead[0], " ".join(lead[1:4]))))
    return pairs


def bbc_later_pairs(bbc: list[dict[str, str]], rng: random.Random, count: int) -> list[Pair]:
    pairs = []
    for row in rng.sample(bbc, count):
        parts = sentences(row["text"])
        if len(parts) >= 8:
            pairs.append(((row["title"], " ".join(parts[:3])), ("", " ".join(parts[3:8]))))
    return pairs


def leads(cnn: list[dict[str, str]], bbc: list[dict[str, str]]) -> tuple[list[Story], list[set[str]]]:
    """Every article as a story (title + first sentences), with its full word set to spot dataset copies."""
    stories: list[Story] = []
    for row in cnn:
        parts = sentences(row["text"])
        stories.append((parts[0], " ".join(parts[1:4])))
    stories += [(row["title"], " ".join(sentences(row["text"])[:3])) for row in bbc]
    full = [set(words_of(row["text"])) for row in [*cnn, *bbc]]
    return stories, full


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def is_dataset_copy(full: list[set[str]], i: int, j: int) -> bool:
    return jaccard(full[i], full[j]) >= 0.6


def shared_name_pairs(
    stories: list[Story], full: list[set[str]], rng: random.Random, count: int
) -> list[Pair]:
    by_name: dict[str, list[int]] = {}
    for i, (title, text) in enumerate(stories):
        for name in set(_NAME.findall(f"{title} {text}")):
            by_name.setdefault(name, []).append(i)
    names = sorted(name for name, ids in by_name.items() if len(ids) >= 2)
    pairs: list[Pair] = []
    while len(pairs) < count:
        i, j = rng.sample(by_name[rng.choice(names)], 2)
        if not is_dataset_copy(full, i, j):
            pairs.append((stories[i], stories[j]))
    return pairs


def matrix(signatures: Sequence[bytes]) -> np.ndarray:
    return np.stack([np.frombuffer(s, dtype="<u4", offset=6) for s in signatures])


def nearest_scores(stories: list[Story], full: list[set[str]], rng: random.Random, count: int) -> list[float]:
    """Signature similarity of each sampled story to its nearest other story (dataset copies excluded)."""
    values = matrix([signature(*story) for story in stories])
    scores = []
    for i in rng.sample(range(len(stories)), count):
        similar = (values == values[i]).mean(axis=1)
        similar[i] = -1.0
        for j in np.argsort(-similar):
            if not is_dataset_copy(full, i, int(j)):
                scores.append(float(similar[j]))
                break
    return scores


def pair_scores(pairs: list[Pair]) -> list[float]:
    values = [(matrix([signature(*a)]), matrix([signature(*b)])) for a, b in pairs]
    return [float((a == b).mean()) for a, b in values]


def exact_scores(pairs: list[Pair]) -> list[float]:
    return [jaccard(story_tokens(*a), story_tokens(*b)) for a, b in pairs]


def share_at_least(scores: list[float], threshold: float) -> float:
    return sum(score >= threshold for score in scores) / len(scores)


def quality_table(same: dict[str, list[float]], different: dict[str, list[float]]) -> list[str]:
    names = [*same, *different]
    header = "| threshold | " + " | ".join(f"{n}: {'recall' if n in same else 'merged'}" for n in names)
    lines = [header + " | precision (CNN/DM same vs shared name) | F1 |", "|---:" * (len(names) + 3) + "|"]
    main_same, main_diff = next(iter(same.values())), next(iter(different.values()))
    for threshold in THRESHOLDS:
        cells = [share_at_least(scores, threshold) for scores in [*same.values(), *different.values()]]
        true_pos = share_at_least(main_same, threshold) * len(main_same)
        false_pos = share_at_least(main_diff, threshold) * len(main_diff)
        precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
        recall = share_at_least(main_same, threshold)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        mark = " **(default)**" if threshold == DEFAULT_THRESHOLD else ""
        row = " | ".join(f"{c:.2f}" for c in cells)
        lines.append(f"| {threshold:.2f}{mark} | {row} | {precision:.2f} | {f1:.2f} |")
    return lines


def synthetic_stories(pool: list[str], rng: random.Random, count: int) -> list[Story]:
    """Stories made of random dev sentences: realistic word statistics, no two the same."""
    return [(rng.choice(pool), " ".join(rng.sample(pool, 3))) for _ in range(count)]


def per_call_ms(calls: Sequence[Callable[[], object]]) -> float:
    start = time.perf_counter()
    for call in calls:
        call()
    return (time.perf_counter() - start) / len(calls) * 1000


def traced_bytes(build: Callable[[], object]) -> tuple[object, int, float]:
    """What `build` returns, the memory it holds (tracemalloc) and the seconds it took."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    built = build()
    seconds = time.perf_counter() - start
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return built, held, seconds


def build_index(sigs: Sequence[bytes]) -> StoryIndex:
    index = StoryIndex()
    for n, data in enumerate(sigs):
        index.add_signature(str(n), data, T0 + timedelta(seconds=n))
    return index


def build_lsh(sigs: Sequence[bytes]) -> tuple[MinHashLSH, list[MinHash]]:
    """The alternative measured: datasketch's LSH with banding fit for a 0.25 threshold (64 bands x 2)."""
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(64, 2))
    permutations = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations
    sketches = [
        MinHash(scheme="affine32", hashvalues=matrix([data])[0], permutations=permutations) for data in sigs
    ]
    for n, sketch in enumerate(sketches):
        lsh.insert(str(n), sketch)
    return lsh, sketches


def lsh_find_ms(lsh: MinHashLSH, sketches: list[MinHash], probes: Sequence[bytes]) -> float:
    queries = [
        MinHash(scheme="affine32", hashvalues=matrix([d])[0], permutations=sketches[0].permutations)
        for d in probes
    ]

    def find(query: MinHash) -> None:
        for key in lsh.query(query):
            query.jaccard(sketches[int(key)])

    return per_call_ms([lambda q=q: find(q) for q in queries])


def index_row(sigs: Sequence[bytes], size: int, probes: int) -> str:
    index, held, build = traced_bytes(lambda: build_index(sigs[:size]))
    assert isinstance(index, StoryIndex)
    at = T0 + timedelta(hours=1)
    new_ms = per_call_ms([lambda s=s: index.find_duplicate_signature(s, at=at) for s in sigs[size:]])
    dup_ms = per_call_ms([lambda s=s: index.find_duplicate_signature(s, at=at) for s in sigs[:probes]])
    add_ms = per_call_ms(
        [lambda n=n, s=s: index.add_signature(f"p{n}", s, seen_at=at) for n, s in enumerate(sigs[size:])]
    )
    return (
        f"| {size:,} | StoryIndex (numpy scan) | {build:.2f} | {add_ms:.3f} | {new_ms:.3f} | {dup_ms:.3f} "
        f"| {held / size * 10_000 / 1e6:.1f} |"
    )


def lsh_row(sigs: Sequence[bytes], size: int, probes: int) -> str:
    built, held, build = traced_bytes(lambda: build_lsh(sigs[:size]))
    lsh, sketches = built  # type: ignore[misc]
    new_ms = lsh_find_ms(lsh, sketches, sigs[size:])
    dup_ms = lsh_find_ms(lsh, sketches, sigs[:probes])
    return (
        f"| {size:,} | MinHashLSH 64x2 (not used) | {build:.2f} | | {new_ms:.3f} | {dup_ms:.3f} "
        f"| {held / size * 10_000 / 1e6:.1f} |"
    )


def cost_rows(pool: list[str], rng: random.Random, sizes: Sequence[int], probes: int) -> list[str]:
    lines = [
        "| stories in window | index | build s | add_signature ms | find ms, new story | find ms, duplicate "
        "| memory per 10k stories (MB) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        sigs = [signature(*story) for story in synthetic_stories(pool, rng, size + probes)]
        lines += [index_row(sigs, size, probes), lsh_row(sigs, size, probes)]
    return lines


def signature_ms(stories: list[Story]) -> float:
    return per_call_ms([lambda s=s: signature(*s) for s in stories])


def commit() -> str:
    git = ["git", "rev-parse", "--short", "HEAD"]
    result = subprocess.run(git, cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/alerts_dedupe.md")
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    rng = random.Random(SEED)
    cnn, bbc = load("summ_cnndm_dev.jsonl"), load("summ_bbc_news_summary.jsonl")
    stories, full = leads(cnn, bbc)
    cnn_pairs = cnn_same_pairs(cnn)
    later_pairs = bbc_later_pairs(bbc, rng, 400)
    name_pairs = shared_name_pairs(stories, full, rng, 1000)
    same = {"same CNN/DM": pair_scores(cnn_pairs), "same BBC later": pair_scores(later_pairs)}
    different = {
        "diff shared name": pair_scores(name_pairs),
        "diff nearest of 2,360": nearest_scores(stories, full, rng, 400),
    }
    exact = exact_scores(cnn_pairs)
    estimate_error = statistics.fmean(abs(a - b) for a, b in zip(exact, same["same CNN/DM"], strict=True))
    sig_ms = signature_ms(stories[:500])
    pool = [s for row in bbc[::3] for s in sentences(row["text"])]
    sizes = [int(size) for size in args.sizes.split(",")]
    costs = cost_rows(pool, rng, sizes, probes=200)
    counts = ", ".join(f"{name} {len(scores)}" for name, scores in [*same.items(), *different.items()])
    lines = [
        f"<!-- measured at commit {commit()}: .venv/bin/python bench/alerts_dedupe.py -->",
        f"# Alert dedupe: same story or not ({date.today().isoformat()})",
        "",
        f"Signature: MinHash of {NUM_PERM} permutations over the content words of title + lead.",
        f"Pairs: {counts}.",
        "`recall`: share of same-story pairs at or above the threshold; `merged`: share of different-story",
        "pairs at or above it (wrongly merged, i.e. a missed alert).",
        "",
        *quality_table(same, different),
        "",
        f"- MinHash estimate vs exact Jaccard on the CNN/DM pairs: mean absolute error {estimate_error:.3f}.",
        f"- signature(title, lead): {sig_ms:.3f} ms per story (500 dev leads).",
        "",
        "## Cost (synthetic stories made of random dev sentences; 200 probes)",
        "",
        *costs,
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
