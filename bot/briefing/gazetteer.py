"""Known actors and their other names: countries from pycountry plus bot/briefing/data/actor_aliases.json.

Two uses: an EntityRuler that finds names the statistical NER misses (acronyms, news agencies), and
`lookup()`, which maps any surface form ("U.S.", "America") to one canonical actor so that mentions merge.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

import pycountry
from spacy.language import Language

ALIASES_FILE = "actor_aliases.json"
RULER_NAME = "gazetteer"
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class KnownActor:
    name: str  # canonical display name
    label: str  # spaCy label: GPE, LOC or ORG


def normalize(text: str) -> str:
    """The form names are compared in: straight apostrophes, single spaces, no leading "the"."""
    text = _SPACES.sub(" ", text.translate(_APOSTROPHES)).strip()
    return text[4:] if text[:4].lower() == "the " else text


def _country_names() -> list[tuple[str, set[str]]]:
    """(canonical name, all clean names) per country; "Korea, Republic of" style names are not news forms."""
    countries = []
    for country in pycountry.countries:
        names = {getattr(country, attr, "") for attr in ("name", "common_name", "official_name")}
        clean = {n for n in names if n and "," not in n and "(" not in n and not n.startswith("the ")}
        canonical = getattr(country, "common_name", None) or country.name
        if clean:
            countries.append((canonical if canonical in clean else sorted(clean, key=len)[0], clean))
    return countries


@functools.cache
def _tables() -> tuple[dict[str, KnownActor], dict[str, str | None]]:
    """(surface form → known actor, demonym → canonical country name or None for a people with no one
    country: "Kurds", "Hutu")."""
    data = json.loads(resources.files("bot.briefing.data").joinpath(ALIASES_FILE).read_text(encoding="utf-8"))
    forms: dict[str, KnownActor] = {}
    for canonical, names in _country_names():
        for name in names | {canonical}:
            forms[normalize(name)] = KnownActor(canonical, "GPE")
    for label in ("GPE", "LOC", "ORG"):
        for canonical, aliases in data[label].items():
            actor = KnownActor(canonical, label)
            # An entry that shares a name with a pycountry country renames every form of that country.
            renamed = {forms[normalize(n)].name for n in [canonical, *aliases] if normalize(n) in forms}
            for form, known in list(forms.items()):
                if known.name in renamed:
                    forms[form] = actor
            for name in [canonical, *aliases]:
                forms[normalize(name)] = actor
    return forms, dict(data["DEMONYMS"])


def lookup(text: str) -> KnownActor | None:
    """The known actor a surface form names, case-sensitive first ("US" is not "us"), then ignoring case
    for longer forms (headline "NORTH KOREA")."""
    forms = _tables()[0]
    key = normalize(text)
    if key in forms:
        return forms[key]
    if len(key) > 4:
        return _casefolded().get(key.casefold())
    return None


@functools.cache
def _casefolded() -> dict[str, KnownActor]:
    return {form.casefold(): actor for form, actor in _tables()[0].items() if len(form) > 4}


# Nations that field their own teams without being ISO countries.
_HOME_NATIONS = frozenset({"england", "scotland", "wales", "northern ireland", "great britain", "britain"})


@functools.cache
def _countries() -> frozenset[str]:
    forms = {normalize(n).casefold() for canonical, names in _country_names() for n in names | {canonical}}
    return frozenset(forms | _HOME_NATIONS)


def is_country(text: str) -> bool:
    """A country's name in any of its forms ("England" and the other home nations included)."""
    known = lookup(text)
    return normalize(text).casefold() in _countries() or (
        known is not None and normalize(known.name).casefold() in _countries()
    )


def country_of_demonym(text: str) -> str | None:
    """ "North Korean" → "North Korea"; None for groups that are not a country's people ("Democrats")."""
    return _tables()[1].get(normalize(text))


def is_demonym(text: str) -> bool:
    """A people's name ("Canadians", "Kurds"): never an actor by itself, whatever the NER called it."""
    return normalize(text) in _tables()[1]


def _patterns() -> list[dict[str, str]]:
    patterns = []
    for form, actor in _tables()[0].items():
        for variant in {form, form.replace("'", "’")}:
            patterns.append({"label": actor.label, "pattern": variant, "id": actor.name})
    return patterns


def add_gazetteer(nlp: Language, *, before: str | None = None) -> None:
    """Add the EntityRuler of known actors. By default it goes last and only fills gaps the NER left
    (overwrite_ents stays False); labels of known names are corrected later by `lookup()`. Placed before
    "ner" (before="ner") its spans are fixed first, which cuts longer names apart ("Bank of America" →
    "Bank of" + "America") and scored 1.5 points lower on organisations (`make quality`, --ablations)."""
    where = {"before": before} if before else {"last": True}
    ruler = nlp.add_pipe("entity_ruler", name=RULER_NAME, config={"overwrite_ents": False}, **where)
    # The ruler runs every pipe before it over its phrase patterns; they only need tokens (ORTH), and the
    # NER over 565 names cost 0.15 s of every start.
    with nlp.select_pipes(disable=[name for name in nlp.pipe_names if name != RULER_NAME]):
        ruler.add_patterns(_patterns())  # type: ignore[attr-defined]
