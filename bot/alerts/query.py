"""Topic queries for alerts: a small, safe search language parsed into a frozen, hashable tree.

Grammar (terms are separated by whitespace; OR and AND are keywords only when written in upper case):

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary (["AND"] unary)*        writing terms side by side means AND; AND binds tighter than OR
    unary    := ["-"] primary                  "-" right before a term (no space) excludes it
    primary  := "(" or_expr ")"                at most MAX_DEPTH levels
              | '"' words '"'                  exact phrase: these words, consecutive, in this order
              | "actor:" name                  a key actor: actor:Merkel or actor:"Kim Jong Un"
              | word

Examples: `tariffs "trade war" -sports`, `(Merkel OR Macron) summit`, `actor:"Kim Jong Un" missile`.

Limits: MAX_LENGTH characters, MAX_TERMS terms, MAX_DEPTH levels of parentheses, and each alternative of an
OR needs at least one term that is not excluded (exclusions alone would match every story). No regular
expressions or wildcards are accepted, so matching cost stays linear in the item and the query.

Matching:
- Words match whole words, case-insensitively. A bare word also matches its simple English plural or
  singular ("tariff" ⇄ "tariffs", "country" ⇄ "countries"), nothing more. Snowball stemming (sumy's
  stemmer) was measured and rejected: on the 17k distinct words of 800 BBC dev articles it joined 2,757
  groups, and at least 7 of 60 sampled groups mixed meanings that matter for alerts (executive/execution,
  under/underlying, frank/frankly, oliver/olives, culture/cultured); it also costs ~12 µs per word plus a
  1.7 s import here. word_forms() joins 1,847 pairs of those words; 57 of 60 sampled were the same word
  (not: beside/besides, going/goings, musical/musicals).
  Quote a word to match it exactly: `"apple"` does not match "apples".
- Phrases match consecutive words exactly (case-insensitively); punctuation between them is ignored.
- A bare term with inner punctuation ("covid-19", "U.S.") is the phrase of its words.
- Actor terms compare the normalized name (case, dots, quotes, whitespace, a leading "the") with each key
  actor's name and aliases. When an item's actors are not known yet (first pass, on the feed's title and
  summary), actor terms are "unknown": the query rejects the item only if it fails whatever the actors are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.errors import BriefError

MAX_LENGTH = 300
MAX_TERMS = 20
MAX_DEPTH = 5
_POINTER_WIDTH = 72  # characters of the query shown around the error, so the caret line fits a chat message

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"'})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_BARE = re.compile(r'[^\s()"]+')
_FIELD = re.compile(r"([^\W\d_]+):")
_SPACES = re.compile(r"\s+")
# Words that end in "s" without being plurals of a shorter word.
_NOT_PLURAL = ("ss", "us", "is", "ws", "ous")
_SIBILANT = ("s", "x", "z", "ch", "sh")
# Common words whose plural-looking partner means something else ("new"/"news", "good"/"goods").
_NO_OTHER_FORM = frozenset("new news good goods mean means".split())


class QueryError(BriefError):
    """A query the user must fix; `position` is the 0-based character where the problem is."""

    code = "invalid_query"

    def __init__(self, message: str, position: int) -> None:
        self.reason = message
        self.position = position
        super().__init__(f"{message} (at character {position + 1})")

    def pointer(self, text: str) -> str:
        """Two lines: the query (or the part around the error) and a caret under the bad position."""
        start = max(0, min(self.position - _POINTER_WIDTH // 2, len(text) - _POINTER_WIDTH))
        shown = text[start : start + _POINTER_WIDTH]
        prefix = "…" if start > 0 else ""
        suffix = "…" if start + _POINTER_WIDTH < len(text) else ""
        caret = " " * (len(prefix) + self.position - start) + "^"
        return f"{prefix}{shown}{suffix}\n{caret}"


# --- text helpers shared with the matcher -----------------------------------------------------------


def words_of(text: str) -> list[str]:
    """Whole words of `text`, casefolded, straight apostrophes, possessive "'s" removed."""
    words = _WORD.findall(text.translate(_QUOTES).casefold())
    return [w[:-2] if w.endswith("'s") else w for w in words]


def normalize_actor(name: str) -> str:
    """The form actor names are compared in: "The U.S." equals "us"; curly and straight quotes are equal."""
    name = _SPACES.sub(" ", name.translate(_QUOTES).replace(".", "")).strip().casefold()
    return name[4:] if name.startswith("the ") else name


def word_forms(word: str) -> tuple[str, ...]:
    """`word` and its simple plural or singular; short words, numbers and words like "news" stay alone."""
    if len(word) < 3 or not word.isalpha() or word in _NO_OTHER_FORM:
        return (word,)
    if word.endswith("s") and not word.endswith(_NOT_PLURAL):
        singular = [word[:-1]]
        if word.endswith("ies") and len(word) > 4:
            singular.append(word[:-3] + "y")
        elif word.endswith(tuple(s + "es" for s in _SIBILANT)):
            singular.append(word[:-2])
        return (word, *singular)
    if word.endswith("y") and word[-2] not in "aeiou":
        return (word, word[:-1] + "ies")
    if word.endswith(_SIBILANT):
        return (word, word + "es")
    return (word, word + "s")


# --- the tree -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    word: str  # casefolded, as written

    @property
    def forms(self) -> tuple[str, ...]:
        return word_forms(self.word)


@dataclass(frozen=True, slots=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ActorTerm:
    name: str  # normalize_actor() form
    display: str = field(default="", compare=False)  # as written, for describe()


@dataclass(frozen=True, slots=True)
class Not:
    term: Node


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Node, ...]


Node = Word | Phrase | ActorTerm | Not | And | Or
Leaf = Word | Phrase | ActorTerm


@dataclass(frozen=True, slots=True)
class Matchable:
    """An item to match: title + summary text, and its key actors' names and aliases.

    `actors=None` means not known yet (first pass, from the feed): actor terms neither pass nor fail.
    Tokenize once (this object), then match it against any number of queries.
    """

    text: str
    actors: frozenset[str] | None = None
    tokens: tuple[str, ...] = field(init=False, compare=False, repr=False)
    words: frozenset[str] = field(init=False, compare=False, repr=False)
    first_positions: dict[str, list[int]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        tokens = tuple(words_of(self.text))
        positions: dict[str, list[int]] = {}
        for i, token in enumerate(tokens):
            positions.setdefault(token, []).append(i)
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "words", frozenset(positions))
        object.__setattr__(self, "first_positions", positions)
        if self.actors is not None:
            object.__setattr__(self, "actors", frozenset(normalize_actor(a) for a in self.actors))

    @classmethod
    def from_parts(
        cls, title: str | None, summary: str | None, actors: Iterable[str] | None = None
    ) -> Matchable:
        """`actors`: None when not known yet, else an iterable of names and aliases (any case or quotes)."""
        text = "\n".join(part for part in (title, summary) if part)
        return cls(text, None if actors is None else frozenset(actors))

    def has_phrase(self, words: tuple[str, ...]) -> bool:
        n = len(words)
        return any(self.tokens[p : p + n] == words for p in self.first_positions.get(words[0], ()))


def _actor_value(node: ActorTerm, item: Matchable) -> bool | None:
    if item.actors is not None:
        return node.name in item.actors
    # First pass (actors unknown): an item whose title and summary share no word with the actor's name is
    # very unlikely to have it as a key actor; rejecting it spares briefing every item for actor filters.
    return None if any(word in item.words for word in words_of(node.name)) else False


def _evaluate(node: Node, item: Matchable) -> bool | None:  # noqa: PLR0911 (one return per node kind)
    """Kleene three-valued logic: None is "depends on actors we do not know yet"."""
    match node:
        case Word():
            return any(form in item.words for form in node.forms)
        case Phrase():
            return item.has_phrase(node.words)
        case ActorTerm():
            return _actor_value(node, item)
        case Not():
            value = _evaluate(node.term, item)
            return None if value is None else not value
        case And():
            result: bool | None = True
            for term in node.terms:
                value = _evaluate(term, item)
                if value is False:
                    return False
                if value is None:
                    result = None
            return result
        case Or():
            result = False
            for term in node.terms:
                value = _evaluate(term, item)
                if value is True:
                    return True
                if value is None:
                    result = None
            return result
    raise TypeError(f"not a query node: {node!r}")


def _render(node: Node) -> str:
    match node:
        case Word():
            return node.word
        case Phrase():
            return '"' + " ".join(node.words) + '"'
        case ActorTerm():
            bare = node.name and not _SPACES.search(node.name) and _BARE.fullmatch(node.name)
            return f"actor:{node.name}" if bare else f'actor:"{node.name}"'
        case Not():
            inner = _render(node.term)
            return f"-({inner})" if isinstance(node.term, And | Or) else f"-{inner}"
        case And():
            return " ".join(f"({_render(t)})" if isinstance(t, Or) else _render(t) for t in node.terms)
        case Or():
            return " OR ".join(_render(t) for t in node.terms)
    raise TypeError(f"not a query node: {node!r}")


def _describe(node: Node, nested: bool = False) -> str:
    match node:
        case Word():
            return node.word
        case Phrase():
            return '"' + " ".join(node.words) + '"'
        case ActorTerm():
            return f"actor {node.display or node.name}"
        case Not():
            return f"not {_describe(node.term, nested=True)}"
        case And():
            text = " and ".join(_describe(t, nested=True) for t in node.terms)
        case Or():
            text = " or ".join(_describe(t, nested=True) for t in node.terms)
    return f"({text})" if nested else text


@dataclass(frozen=True, slots=True)
class Query:
    root: Node
    _hash: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The index hashes queries often; hashing the whole tree each time would cost more than matching.
        object.__setattr__(self, "_hash", hash(self.root))

    def __hash__(self) -> int:
        return self._hash

    def matches(self, item: Matchable) -> bool:
        """False only when the item cannot match: unknown actors (first pass) never reject it."""
        return _evaluate(self.root, item) is not False

    def normalized(self) -> str:
        """Canonical text: equal queries written differently give the same string; it parses back to self."""
        return _render(self.root)

    def describe(self) -> str:
        return "stories with " + _describe(self.root)

    def leaves(self) -> list[Leaf]:
        """Every word, phrase and actor term, excluded ones included."""
        return _leaves(self.root)

    def __str__(self) -> str:
        return self.normalized()


def _leaves(node: Node) -> list[Leaf]:
    match node:
        case Not():
            return _leaves(node.term)
        case And() | Or():
            return [leaf for term in node.terms for leaf in _leaves(term)]
    return [node]


# --- building canonical nodes ---------------------------------------------------------------------


def _combine(kind: type[And] | type[Or], terms: list[Node]) -> Node:
    """Flatten nested groups of the same kind, drop duplicates and sort, so that equal queries are equal."""
    flat: list[Node] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, kind) else (term,))
    # Exclusions go last so the canonical text reads like what people write: tariffs -sports.
    unique = sorted(
        {_render(t): t for t in flat}.items(), key=lambda pair: (isinstance(pair[1], Not), pair[0])
    )
    if len(unique) == 1:
        return unique[0][1]
    return kind(tuple(t for _, t in unique))


# --- lexer and parser -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "OR", "AND", "-", "term"
    pos: int
    node: Leaf | None = None


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[_Token] = []

    def run(self) -> list[_Token]:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char.isspace():
                self.pos += 1
            elif char in "()":
                self.tokens.append(_Token(char, self.pos))
                self.pos += 1
            elif char == "-" and self._starts_term():
                self._exclusion()
            elif char == '"':
                self._phrase()
            else:
                self._bare()
        return self.tokens

    def _starts_term(self) -> bool:
        return self.pos == 0 or self.text[self.pos - 1].isspace() or self.text[self.pos - 1] == "("

    def _exclusion(self) -> None:
        following = self.text[self.pos + 1 : self.pos + 2]
        if not following or following.isspace() or following in ")-":
            raise QueryError('"-" must be right before the term to exclude, as in -sports', self.pos)
        self.tokens.append(_Token("-", self.pos))
        self.pos += 1

    def _quoted(self) -> tuple[str, int]:
        """The text between the quote at self.pos and its closing quote; moves past the closing quote."""
        start = self.pos
        end = self.text.find('"', start + 1)
        if end < 0:
            raise QueryError("this quote is never closed", start)
        self.pos = end + 1
        return self.text[start + 1 : end], start

    def _phrase(self) -> None:
        inner, start = self._quoted()
        words = tuple(words_of(inner))
        if not words:
            raise QueryError("there are no words between these quotes", start)
        self.tokens.append(_Token("term", start, Phrase(words)))

    def _bare(self) -> None:
        start = self.pos
        match = _BARE.match(self.text, start)
        assert match is not None  # run() only calls this on a character _BARE accepts
        bare = match.group()
        self.pos = match.end()
        if bare in ("OR", "AND"):
            self.tokens.append(_Token(bare, start))
            return
        field_match = _FIELD.match(bare)
        if field_match:
            self._field(field_match.group(1), bare[field_match.end() :], start)
            return
        words = tuple(words_of(bare))
        if not words:
            raise QueryError(f'"{bare}" has no letters or digits to look for', start)
        self.tokens.append(_Token("term", start, Word(words[0]) if len(words) == 1 else Phrase(words)))

    def _field(self, name: str, value: str, start: int) -> None:
        if name.casefold() != "actor":
            raise QueryError(f'unknown filter "{name}:"; the only filter is actor:', start)
        if not value and self.text[self.pos : self.pos + 1] == '"':
            value, _ = self._quoted()
        display = _SPACES.sub(" ", value).strip()
        if not normalize_actor(display):
            raise QueryError('actor: needs a name, as in actor:"Kim Jong Un"', start)
        self.tokens.append(_Token("term", start, ActorTerm(normalize_actor(display), display)))


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _end_pos(self) -> int:
        return len(self.text.rstrip())

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("the query is empty; give at least one word to look for", 0)
        node = self._or_expr()
        token = self._peek()
        if token is not None:  # only a ")" can stop _or_expr early
            raise QueryError('this ")" has no matching "("', token.pos)
        return node

    def _or_expr(self) -> Node:
        branches = [self._and_expr()]
        while (token := self._peek()) is not None and token.kind == "OR":
            self.index += 1
            after = self._peek()
            if after is None or after.kind in (")", "OR", "AND"):
                raise QueryError("OR needs a term on both sides", token.pos)
            branches.append(self._and_expr())
        return _combine(Or, branches)

    def _and_expr(self) -> Node:
        first = self._peek()
        start = first.pos if first else self._end_pos()
        if first is not None and first.kind in ("OR", "AND"):
            raise QueryError(f"{first.kind} needs a term on both sides", first.pos)
        if first is not None and first.kind == ")" and self.depth == 0:
            raise QueryError('this ")" has no matching "("', start)
        if first is None or first.kind == ")":
            raise QueryError("expected a term here", start)
        terms = [self._unary()]
        while (token := self._peek()) is not None and token.kind not in (")", "OR"):
            if token.kind == "AND":
                self.index += 1
                after = self._peek()
                if after is None or after.kind in (")", "OR", "AND"):
                    raise QueryError("AND needs a term on both sides", token.pos)
                continue
            terms.append(self._unary())
        if all(isinstance(t, Not) for t in terms):
            raise QueryError("add a term to look for: exclusions alone would match every story", start)
        return _combine(And, terms)

    def _unary(self) -> Node:
        token = self.tokens[self.index]
        if token.kind == "-":
            self.index += 1
            return Not(self._primary())
        return self._primary()

    def _primary(self) -> Node:
        token = self.tokens[self.index]
        self.index += 1
        if token.kind == "term":
            assert token.node is not None
            return token.node
        if token.kind != "(":
            raise QueryError("expected a term here", token.pos)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"too many nested parentheses (at most {MAX_DEPTH} levels)", token.pos)
        after = self._peek()
        if after is None:
            raise QueryError('this "(" is never closed', token.pos)
        if after.kind == ")":
            raise QueryError("these parentheses are empty", token.pos)
        node = self._or_expr()
        closing = self._peek()
        if closing is None:
            raise QueryError('this "(" is never closed', token.pos)
        self.index += 1
        self.depth -= 1
        return node


def parse_query(text: str) -> Query:
    """Parse a subscription query; raises QueryError (message and position) when it is not valid."""
    text = text.translate(_QUOTES)  # curly quotes from phones and chat clients; same length, same positions
    if len(text) > MAX_LENGTH:
        raise QueryError(f"the query is too long ({len(text)} characters; at most {MAX_LENGTH})", MAX_LENGTH)
    tokens = _Lexer(text).run()
    terms = [t for t in tokens if t.kind == "term"]
    if len(terms) > MAX_TERMS:
        raise QueryError(f"too many terms (at most {MAX_TERMS})", terms[MAX_TERMS].pos)
    return Query(_Parser(text, tokens).parse())
