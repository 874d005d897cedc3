"""Actor scoring on CoNLL-2003 dev: document-level entity F1 by kind, and plain spaCy as the baseline.

The team's rule (../shared/bench/data/SOURCES.md): per article, the gold PER/ORG/LOC entities become sets of
actors (person, organization, place; MISC not scored), where "Bill Clinton"/"Clinton" and "UN"/"United
Nations" are one actor. A predicted actor is right when one of its names (name or aliases, ignoring case) is
a name of a gold actor of the same kind not matched yet; listing one actor twice costs precision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import spacy
from spacy.language import Language

from bot.briefing.actors import find_actors
from bot.briefing.gazetteer import add_gazetteer, lookup, normalize
from bot.briefing.nlp import _UNUSED, MODEL, get_pipeline

KINDS = ("person", "organization", "place")
GOLD_KIND = {"PER": "person", "ORG": "organization", "LOC": "place"}
STOCK_KIND = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place"}
TP, FP, FN = 0, 1, 2

Actors = list[tuple[str, set[str]]]  # (kind, names) per actor
System = Callable[[str], Actors]


def _key(name: str) -> str:
    return normalize(name).casefold()


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w.lower() not in {"of", "the", "and", "for", "&"}).upper()


def _same_actor(short: str, long: str, kind: str) -> bool:
    """The gold-side merge rule: a person's partial name, an acronym, or two names of one known actor."""
    s, lo = short.split(), long.split()
    if kind == "person":
        return len(s) < len(lo) and (lo[: len(s)] == s or lo[-len(s) :] == s)
    known_s, known_l = lookup(short), lookup(long)
    if known_s and known_l and known_s.name == known_l.name:
        return True
    bare = short.replace(".", "")
    return len(s) == 1 and len(lo) > 1 and bare.isupper() and bare == _initials(lo)


def gold_actors(entities: Iterable[dict[str, Any]]) -> Actors:
    actors: Actors = []
    names = sorted(
        {(GOLD_KIND[e["label"]], str(e["text"])) for e in entities if e["label"] in GOLD_KIND},
        key=lambda kn: -len(kn[1].split()),
    )
    for kind, name in names:
        for gold_kind, forms in actors:
            if gold_kind == kind and any(_same_actor(name, f, kind) or _key(f) == _key(name) for f in forms):
                forms.add(name)
                break
        else:
            actors.append((kind, {name}))
    return actors


def score_document(predicted: Actors, gold: Actors) -> np.ndarray:
    """(kind, tp/fp/fn) counts of one document; predicted kinds outside KINDS ("other") are not scored."""
    counts = np.zeros((len(KINDS), 3), dtype=int)
    matched: set[int] = set()
    for kind, names in predicted:
        if kind not in KINDS:
            continue
        keys = {_key(n) for n in names}
        free = [
            i
            for i, (k, forms) in enumerate(gold)
            if k == kind and i not in matched and keys & {_key(f) for f in forms}
        ]
        if free:
            matched.add(free[0])
            counts[KINDS.index(kind), TP] += 1
        else:
            counts[KINDS.index(kind), FP] += 1
    for i, (kind, _) in enumerate(gold):
        if i not in matched:
            counts[KINDS.index(kind), FN] += 1
    return counts


def from_output(output: dict[str, Any]) -> Actors:
    """Actors of one `briefbot batch` output line; an errored row has none."""
    return [(a["kind"], {a["name"], *a.get("aliases", ())}) for a in output.get("actors", ())]


def score_set(predicted: list[Actors], rows: list[dict[str, Any]]) -> np.ndarray:
    """(documents, kinds, tp/fp/fn) counts."""
    return np.array(
        [score_document(p, gold_actors(row["entities"])) for p, row in zip(predicted, rows, strict=True)]
    )


def micro_f1(kinds: Iterable[str] = KINDS) -> Callable[[np.ndarray], np.ndarray]:
    """F1 of counts summed over documents, restricted to `kinds` (input (..., kinds, 3))."""
    index = [KINDS.index(k) for k in kinds]

    def statistic(counts: np.ndarray) -> np.ndarray:
        picked = counts[..., index, :].sum(axis=-2)
        tp, fp, fn = picked[..., TP], picked[..., FP], picked[..., FN]
        return np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp, dtype=float), where=tp > 0)

    return statistic


def precision_recall(counts: np.ndarray) -> tuple[float, float]:
    tp, fp, fn = counts.sum(axis=(0, 1))
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def plain_spacy(nlp: Language) -> System:
    """One actor per distinct entity text, PERSON/ORG/GPE+LOC, no merging."""

    def run(text: str) -> Actors:
        found = {(STOCK_KIND[e.label_], e.text.strip()) for e in nlp(text).ents if e.label_ in STOCK_KIND}
        return [(kind, {name}) for kind, name in sorted(found)]

    return run


def baselines() -> dict[str, System]:
    return {"plain spaCy (full stock pipeline)": plain_spacy(spacy.load(MODEL))}


def _ours(nlp: Language, **options: Any) -> System:
    def run(text: str) -> Actors:
        return [(a.kind, {a.name, *a.aliases}) for a in find_actors(nlp(text), **options)]

    return run


def _ner_only(ruler_before: str | None) -> Language:
    nlp = spacy.load(MODEL, exclude=_UNUSED)
    if ruler_before != "none":
        add_gazetteer(nlp, before=ruler_before)
    return nlp


def ablations() -> dict[str, System]:
    """The settings bot/briefing/actors.py and bot/briefing/gazetteer.py chose between, by direct library
    calls on the whole text (no title masking, no summary for salience)."""
    shipped, bare = get_pipeline(), _ner_only("none")
    return {
        "ours, library call (ruler after ner, demonyms attach)": _ours(shipped),
        "ours, ruler before ner": _ours(_ner_only("ner")),
        "ours, no ruler": _ours(bare),
        "ours, demonyms create a country": _ours(shipped, demonyms="create"),
        "ours, demonyms dropped": _ours(shipped, demonyms="drop"),
        "plain spaCy NER-only, no post-processing": plain_spacy(bare),
    }
