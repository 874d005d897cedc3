"""Key actors: the people, organisations and places an article is about, most salient first.

Entities come from the shared spaCy pipeline (statistical NER plus the gazetteer ruler). Here they are
cleaned ("South Korea’s" → "South Korea"), page furniture and credit/byline names are dropped, the names of
one actor are merged (US / U.S. / United States; Kim Jong Un / Kim; WHO / World Health Organization) and
the actors are ranked by mentions, first position and presence in the summary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc, Span

from bot.briefing.boilerplate import dateline_place, has_furniture_word, in_credit_or_byline
from bot.briefing.gazetteer import KnownActor, country_of_demonym, is_country, is_demonym, lookup, normalize
from bot.models import Actor, ActorKind, Sentence

DemonymMode = Literal["attach", "create", "drop"]

KIND_OF_LABEL: dict[str, ActorKind] = {
    "PERSON": "person",
    "ORG": "organization",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
}
_NOT_NAMES = frozenset("DATE TIME PERCENT MONEY QUANTITY ORDINAL CARDINAL".split())
MAX_NAME_TOKENS = 8  # longer "names" are NER run-ons across a phrase
# Salience weights: frequency dominates, an early first mention and a place in the summary break ties.
W_FREQUENCY, W_EARLY, W_SUMMARY = 0.5, 0.3, 0.2

_DIRECTIONS = frozenset("North South East West Northern Southern Eastern Western Central".split())
_HONORIFICS = re.compile(r"^(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir)\.?\s+")
_POSSESSIVE = re.compile(r"['’]s?$")
_EDGE_PUNCT = ' \t\n-–—,;:"“”()[]'
# Scores, tables and minutes: "Boston Red Sox 7-0", "Roberto Carlos 79th".
_TRAILING_NUMBERS = re.compile(r"(?:\s+[\d.,:;+\-–]+(?:st|nd|rd|th)?)+$")
_LEADING_NUMBERS = re.compile(r"^(?:[\d.,:;+\-–]+\s+)+")  # ranks and list numbers: "4. Emilio Valle"
# Lowercase words a name dragged along: "University of Japan and", "Interfax news agency".
_TRAILING_SMALL_WORDS = re.compile(r"(?:\s+(?:[a-z]+|&))+$")
_SPACED_DASH = re.compile(r"\s[-–—]\s")  # a headline or caption separator
_RUN_ON = re.compile(r"\n|\s[-–—]\s|\s?,\s(?!(?:Inc|Ltd|Jr|Sr|LLC|Co|Corp|Plc)\b)")
# A score between two names, in a results line ("Atlanta 5 Pittsburgh 3"); in prose a number inside a name
# is part of it ("Channel 4 News").
_SCORE = re.compile(r"\s[\d.,:;+\-–]*\d[\d.,:;+\-–]*\s")
_RUN_ON_OR_SCORE = re.compile(f"{_RUN_ON.pattern}|{_SCORE.pattern}")
_PROSE_WORD = re.compile(r"\b[a-z]{3,}\b")
TABLE_MAX_PROSE_WORDS = 3
# Words that make a name an organisation whatever the NER said ("Pirelli SpA", "Bank of Japan"): last word,
# or first word before "of".
_ORG_WORDS = frozenset(
    "Inc Corp Corporation Co Company Ltd Plc PLC SpA AG SA NV GmbH LLC Group Holdings Bank Party Ministry "
    "University College Council Committee Commission Agency Association Federation Institute Foundation "
    "Authority Board Bureau Department Army Police Airlines Airways Exchange Fund FC United".split()
)
# Events are not actors: "UEFA Cup", "Hong Kong Open", "Atlanta Games", "Berlin Grand Prix".
_EVENT_WORDS = frozenset(
    "Cup Open Games Olympics Prix Championship Championships Classic Tournament Trophy Final Finals Slam "
    "Marathon Rally Festival Awards Series Bowl".split()
)
_INITIAL_SURNAME = re.compile(r"[A-Z]\. ?[A-Z][a-z]+(?:[- ][A-Z][a-z]+)?$")  # "H. Morris": a person
_LEADING_DATE_WORD = re.compile(  # "the August Chicago NAPM", "Monday Tokyo"
    r"^(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\s+(?=[A-Z])"
)
_BRACKETED_NAME = re.compile(r"\s*\(\s*([A-Z][\w .'’-]{1,40}?)\s*\)")
_LOWERCASE = re.compile(r"[a-zß-öø-ÿ]")
_SMALL_WORDS = frozenset("of the and for & de du la".split())


@dataclass(slots=True)
class _Mention:
    text: str  # cleaned surface form
    kind: ActorKind
    start: int
    end: int
    known: KnownActor | None
    demonym: bool = False  # "North Korean": counts for the country, never names an actor by itself
    dateline: bool = False  # the story's dateline: a place whatever other mentions say
    shouted: bool = False  # in a line without lowercase (headline, table): the NER guesses there


@dataclass(slots=True)
class _Group:
    key: str
    mentions: list[_Mention] = field(default_factory=list)
    known: KnownActor | None = None

    @property
    def kind(self) -> ActorKind:
        if self.known:
            return KIND_OF_LABEL[self.known.label]
        if any(m.dateline for m in self.mentions):
            return "place"
        votes = Counter(m.kind for m in self.mentions if not m.demonym)
        return votes.most_common(1)[0][0] if votes else "place"

    @property
    def names(self) -> list[str]:
        return [m.text for m in self.mentions if not m.demonym]


def find_actors(
    doc: Doc, summary: Sequence[Sentence] = (), *, demonyms: DemonymMode = "attach"
) -> list[Actor]:
    """The article's actors, most salient first. `summary` holds the sentences chosen for the summary
    (offsets into doc.text); `demonyms` says what "North Korean" does: add a mention to North Korea when
    that country is named too ("attach"), name it by itself ("create"), or nothing ("drop")."""
    text = doc.text  # Doc.text joins every token on each access: read it once
    sports = len(_SPORTS_WORD.findall(text)) >= SPORTS_WORDS
    teams = _results_teams(text) | _prose_teams(text) if sports else frozenset()
    dateline = _dateline(text)
    mentions = [dateline] if dateline else []
    mentions += [
        m
        for ent in _split_run_ons(doc)
        if not (dateline and ent.start_char < dateline.end and dateline.start < ent.end_char)
        and (m := _mention(ent, text, demonyms, teams))
    ]
    if sports:
        mentions += _unseen_teams(text, mentions)
    groups = _group(mentions, demonyms, set(re.findall(r"\b[a-z]+\b", text)))
    groups = _merge_acronyms(groups)
    groups = _merge_partial_person_names(groups)
    most = max((len(g.mentions) for g in groups), default=1)
    actors = [_actor(g, text, summary, most) for g in groups]
    return sorted(actors, key=lambda a: -a.salience)


def _split_run_ons(doc: Doc) -> list[Span]:
    """The entities, cut where one runs on: a name never spans paragraphs or table rows, and
    "Atlanta 5 Pittsburgh" or "Oval, London" are two names. Known names ("Group of 20") stay whole. Of a
    run-on across a headline's dash ("CRICKET - SRI LANKA") only known names are kept."""
    spans = []
    text = doc.text
    for ent in doc.ents:
        cuts = _RUN_ON
        if _SCORE.search(ent.text) and _is_results_line(ent, text):
            cuts = _RUN_ON_OR_SCORE
        if not cuts.search(ent.text) or ent.label_ in _NOT_NAMES or lookup(ent.text):
            spans.append(ent)
            continue
        only_known = bool(_SPACED_DASH.search(ent.text))
        start = ent.start_char
        for match in cuts.finditer(ent.text + "\n"):
            end = ent.start_char + match.start()
            piece = doc.char_span(start, end, label=ent.label_, alignment_mode="contract")
            if piece is not None and piece.text.strip() and not (only_known and lookup(piece.text) is None):
                spans.append(piece)
            start = ent.start_char + match.end()
    return spans


def _is_results_line(ent: Span, text: str) -> bool:
    start, end = _line_start_end(ent, text)
    return len(_PROSE_WORD.findall(text, start, end)) <= TABLE_MAX_PROSE_WORDS


def _dateline(text: str) -> _Mention | None:
    """The place of the story's dateline, whatever the NER made of it."""
    found = dateline_place(text)
    if found is None:
        return None
    name, start = found
    # Shown as "New York", not "NEW YORK", when the article never writes it otherwise.
    return _Mention(name.title(), "place", start, start + len(name), lookup(name), dateline=True)


def _mention(ent: Span, text: str, demonyms: DemonymMode, teams: frozenset[str]) -> _Mention | None:
    if ent.label_ in _NOT_NAMES:
        return None
    name = _clean(ent.text)
    if ent.label_ != "PERSON":  # "April", "June" and "August" can be first names
        name = _LEADING_DATE_WORD.sub("", name)
    known = lookup(name)  # a known name counts whatever the NER called it ("Yonhap" comes out as NORP)
    if known is None and (ent.label_ == "NORP" or is_demonym(name)):  # "Dutch" (transport ministry), "Kurds"
        return _demonym(ent, name, demonyms)
    kind = KIND_OF_LABEL[known.label] if known else KIND_OF_LABEL.get(ent.label_)
    if kind and not known and _has_org_word(name):
        kind = "organization"
    elif kind and not known and (_INITIAL_SURNAME.match(name) or _before_country(ent, name, text)):
        kind = "person"
    if (
        (kind == "place" or (kind == "person" and " " not in name))
        and name.casefold() in teams
        and not is_country(name)
    ):
        kind = "organization"  # "Leicester 25 Bath 23", "Partick 1 St Mirren 1": a club named after its town
    if kind is None or _is_noise(name, ent, text):
        return None
    return _Mention(name, kind, ent.start_char, ent.end_char, known, shouted=_in_caps_line(ent, text))


# Only a sports story's results lines name teams: "Ohio 18 Florida 29" in an election story names states.
_SPORTS_WORD = re.compile(
    r"\b(?:league|match(?:es)?|games?|goals?|innings|cup|championship|season|standings|division|"
    r"tournament|team|club|wickets?|scored|beat|drew|played|points)\b",
    re.IGNORECASE,
)
SPORTS_WORDS = 3
# A line of sports results or a league table: a team, its score, the other team and its score; or a team and
# a row of numbers. The names on it are teams, clubs named after places included.
_TEAM = r"[^\W\d_][\w.'&-]*(?: [^\W\d_][\w.'&-]*){0,3}"
_SCORE_LINE = re.compile(rf"[^\S\n]*({_TEAM})[^\S\n]+\d{{1,3}}[^\S\n]*,?[^\S\n]+({_TEAM})[^\S\n]+\d{{1,3}}\b")
_TABLE_LINE = re.compile(
    rf"[^\S\n]*({_TEAM})(?:[^\S\n]+\d+){{2,}}(?:[^\S\n]+[\d.,/-]+)*[^\S\n]*$", re.MULTILINE
)


# In a sports story, a place that beats, draws with or plays against another is a team.
_TEAM_AFTER = re.compile(
    r"\b((?:[A-Z][\w.'&-]*[^\S\n]){0,2}[A-Z][\w.'&-]*)[^\S\n]+(?:beat|beats|drew|defeated|edged|thrashed|"
    r"routed|overcame|trounced|reached \d|were bowled|collapsed to|won \d|lost \d)\b"
)
_TEAM_BEFORE = re.compile(
    r"\b(?:against|beat|defeated|v|vs\.?|drew with|lost to|draw with|win over|victory over|defeat by|"
    r"defeat to|home to|away to)[^\S\n]+((?:[A-Z][\w.'&-]*[^\S\n]){0,2}[A-Z][\w.'&-]*)"
)


def _prose_teams(text: str) -> frozenset[str]:
    return frozenset(
        match.group(1).strip().casefold()
        for pattern in (_TEAM_AFTER, _TEAM_BEFORE)
        for match in pattern.finditer(text)
    )


def _results_teams(text: str) -> frozenset[str]:
    """Names that stand as teams on a results or table line of the text (case-folded): every mention of
    them in the text is the team ("gave Leicester a 2-0 lead"), not the town."""
    teams: set[str] = set()
    for line in text.split("\n"):
        for pattern in (_SCORE_LINE, _TABLE_LINE):
            if match := pattern.match(line):
                teams.update(g.strip().casefold() for g in match.groups() if g)
    return frozenset(teams)


def _unseen_teams(text: str, mentions: list[_Mention]) -> list[_Mention]:
    """The teams of results and table lines the NER did not see (it misses most names in a line of numbers:
    "Cowdenbeath 3 1 1 1 3 3 4"): each is a team, or a country's national side."""
    taken = [(m.start, m.end) for m in mentions]
    found = []
    start = 0
    for line in text.split("\n"):
        for pattern in (_SCORE_LINE, _TABLE_LINE):
            if match := pattern.match(line):
                for g in range(1, (match.lastindex or 0) + 1):
                    if match.group(g) is None:
                        continue
                    s, e = start + match.start(g), start + match.end(g)
                    name = _clean(text[s:e])
                    if not name[:1].isupper() or any(a < e and s < b for a, b in taken):
                        continue
                    known = lookup(name)
                    kind = KIND_OF_LABEL[known.label] if known else "organization"
                    found.append(_Mention(name, kind, s, e, known, shouted=_LOWERCASE.search(line) is None))
                break
        start += len(line) + 1
    return found


def _before_country(ent: Span, name: str, text: str) -> bool:
    """ "Irina Privalova (Russia)": results and line-ups follow a person's full name with the country."""
    match = _BRACKETED_NAME.match(text, ent.end_char)
    country = lookup(match[1]) if match and len(name.split()) > 1 else None
    return country is not None and country.label == "GPE"


def _has_org_word(name: str) -> bool:
    words = name.rstrip(".").split()
    return len(words) > 1 and (words[-1] in _ORG_WORDS or (words[0] in _ORG_WORDS and words[1] == "of"))


def _demonym(ent: Span, name: str, demonyms: DemonymMode) -> _Mention | None:
    country = country_of_demonym(name) if demonyms != "drop" else None
    known = lookup(country) if country else None
    if known is None:
        return None
    return _Mention(name, "place", ent.start_char, ent.end_char, known, demonym=True)


def _clean(text: str) -> str:
    """Trim what NER drags along: spaces, dashes, a leading "the", a possessive, an honorific."""
    text = normalize(text.strip(_EDGE_PUNCT))
    text = _POSSESSIVE.sub("", text).strip(_EDGE_PUNCT)
    text = _TRAILING_SMALL_WORDS.sub("", _TRAILING_NUMBERS.sub("", _LEADING_NUMBERS.sub("", text)))
    if text.count("(") > text.count(")"):  # "Organisation of Islamic Conference (OIC" cut mid-bracket
        text = text[: text.rfind("(")].rstrip()
    return _HONORIFICS.sub("", text)


def _is_noise(name: str, ent: Span, text: str) -> bool:
    words = name.split()
    return (
        not words
        or not name[0].isupper()
        or len(words) > MAX_NAME_TOKENS
        or "/" in name  # photo credits: "REUTERS/KCNA", "AP/Getty"
        or has_furniture_word(name)
        or words[-1] in _EVENT_WORDS
        or (len(words) == 1 and name in _DIRECTIONS)
        or in_credit_or_byline(text, ent.start_char, ent.end_char, person=ent.label_ == "PERSON")
    )


def _line_start_end(ent: Span, text: str) -> tuple[int, int]:
    line_end = text.find("\n", ent.end_char)
    return text.rfind("\n", 0, ent.start_char) + 1, line_end if line_end >= 0 else len(text)


def _in_caps_line(ent: Span, text: str) -> bool:
    return _LOWERCASE.search(text, *_line_start_end(ent, text)) is None


def _is_caps_junk(group: _Group, words: set[str]) -> bool:
    """A name seen only in capitals lines (headlines, tables) with an ordinary word in it: the NER's run-on
    across a headline ("MARLINS BEAT REDS", "PAKISTAN WIN TOSS"). Ordinary = a stop word or a word the same
    article writes in lowercase elsewhere."""
    return group.known is None and all(
        m.shouted and any(w.lower() in words or w.lower() in STOP_WORDS for w in m.text.split())
        for m in group.mentions
    )


def _group(mentions: list[_Mention], demonyms: DemonymMode, words: set[str]) -> list[_Group]:
    """One group per known actor or per distinct name; demonyms join their country's group. `words` are the
    article's lowercase words."""
    groups: dict[str, _Group] = {}
    for m in mentions:
        key = m.known.name if m.known else m.text.casefold()  # "LONDON" in a dateline is London
        group = groups.setdefault(key, _Group(key, known=m.known))
        group.mentions.append(m)
    kept = [g for g in groups.values() if not _is_caps_junk(g, words)]
    if demonyms == "attach":
        return [g for g in kept if g.names]
    return kept


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.replace("-", " ").split() if w.lower() not in _SMALL_WORDS).upper()


def _merge_acronyms(groups: list[_Group]) -> list[_Group]:
    """ "WHO" joins "World Health Organization" when both appear; the long form names the actor."""
    by_initials: dict[str, _Group] = {}
    for g in groups:
        if g.kind != "person" and len(g.key.split()) >= 2:
            by_initials.setdefault(_initials(g.key), g)
    kept = []
    for g in groups:
        acronym = g.names[0].replace(".", "") if g.names else ""
        target = by_initials.get(acronym) if acronym.isupper() and 2 <= len(acronym) <= 6 else None
        if target is not None and target is not g and g.known is None:
            target.mentions.extend(g.mentions)
        else:
            kept.append(g)
    return kept


def _merge_partial_person_names(groups: list[_Group]) -> list[_Group]:
    """ "Kim" and "Kim Jong" join "Kim Jong Un"; "Clinton" joins "Bill Clinton", even when the NER called
    the short form an organisation or place: the full name says it is a person. A short name that fits
    two full names ("Smith": "Anna Smith", "John Smith") joins neither."""
    parts = _name_parts(g for g in groups if g.kind == "person" and " " in g.key)
    kept = []
    for g in groups:
        fits = [] if g.known or (g.kind != "person" and " " in g.key) else parts.get(g.key, [])
        targets = [p for p in fits if p.key not in parts]  # full names only: "Kim Jong" is part of another
        if len(targets) == 1:
            for m in g.mentions:
                m.kind = "person"
            targets[0].mentions.extend(g.mentions)
        else:
            kept.append(g)
    return kept


def _name_parts(people: Iterable[_Group]) -> dict[str, list[_Group]]:
    """First and last words of each longer name, to the names: "kim", "kim jong", "jong un" of Kim Jong Un."""
    parts: dict[str, list[_Group]] = {}
    for p in people:
        words = p.key.split()
        for n in range(1, len(words)):
            for part in {" ".join(words[:n]), " ".join(words[-n:])}:
                parts.setdefault(part, []).append(p)
    return parts


def _actor(group: _Group, text: str, summary: Sequence[Sentence], most_mentions: int) -> Actor:
    name = _display_name(group)
    aliases = _aliases(group.names, name)
    first = min(m.start for m in group.mentions)
    in_summary = any(s.start <= m.start < s.end for m in group.mentions for s in summary)
    salience = (
        W_FREQUENCY * len(group.mentions) / most_mentions
        + W_EARLY * (1 - first / max(len(text), 1))
        + W_SUMMARY * in_summary
    )
    return Actor(name, group.kind, len(group.mentions), aliases, round(salience, 4))


def _aliases(names: list[str], name: str) -> tuple[str, ...]:
    """The other names, each once; a case variant is no other name ("SEOUL" in a dateline for Seoul)."""
    seen = {normalize(name).casefold()}
    aliases = []
    for n in names:
        if (key := normalize(n).casefold()) not in seen:
            seen.add(key)
            aliases.append(n)
    return tuple(aliases)


def _display_name(group: _Group) -> str:
    if group.known:
        return group.known.name
    counts = Counter(group.names)
    if group.kind == "person":  # the full name, however often the short one is used
        return max(counts, key=lambda n: (len(n.split()), not n.isupper(), counts[n]))
    # Written in mixed case over capitals ("Seoul" over a dateline's "SEOUL", a long form over its acronym).
    return max(counts, key=lambda n: (not n.isupper(), counts[n], len(n)))
