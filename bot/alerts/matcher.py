"""Which subscriptions match an item, without looping over all of them: an inverted index of anchor terms.

Each distinct query is filed under a few "anchor" terms such that any item it matches must contain at least
one of them: for an AND, the anchors of its cheapest positive part (a rare, long word rather than a stop
word); for an OR, the union of its branches' anchors; a phrase anchors on its rarest word; an actor term on
the actor's name. An item then looks up each of its distinct words (and actors) once, and only the queries
found that way are verified in full. Cost per item grows with the number of candidates, not of queries.

Actors are unknown on the first pass (Matchable.actors is None), so a query that can only be anchored on an
actor is a candidate for every first-pass item; verification then keeps only items whose feed text shares a
word with the actor's name (Query.matches). ANDs prefer word anchors. Equal subscriptions (same canonical
query) are stored and verified once.

Everything here is plain CPU work with no I/O: for large batches call `match` from a worker thread. A
QueryIndex is not thread-safe; keep all calls on one thread (or behind one lock).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from bot.alerts.query import ActorTerm, And, Matchable, Node, Not, Or, Phrase, Query, Word, parse_query
from bot.stopwords import stop_words

# An anchor is ("w", word) for a word the item must contain, or ("a", name) for a key actor.
Anchor = tuple[str, str]
_STOP_WORD_COST = 100.0


def word_cost(word: str) -> float:
    """Rough share of items containing `word`: stop words are everywhere, longer words are rarer (Zipf)."""
    if word in stop_words("english"):
        return _STOP_WORD_COST
    return 8.0 / max(len(word), 1)


def _cost(anchors: frozenset[Anchor]) -> float:
    return sum(word_cost(value) if kind == "w" else 1.0 for kind, value in anchors)


def _has_actor(anchors: frozenset[Anchor]) -> bool:
    return any(kind == "a" for kind, _ in anchors)


def anchors_of(node: Node) -> frozenset[Anchor] | None:  # noqa: PLR0911 (one return per node kind)
    """Terms one of which every matching item contains; None if the node can match without any (exclusion)."""
    match node:
        case Word():
            return frozenset(("w", form) for form in node.forms)
        case Phrase():
            return frozenset({("w", min(node.words, key=word_cost))})
        case ActorTerm():
            return frozenset({("a", node.name)})
        case Not():
            return None
        case Or():
            union: set[Anchor] = set()
            for term in node.terms:
                anchors = anchors_of(term)
                if anchors is None:
                    return None
                union |= anchors
            return frozenset(union)
        case And():
            options = [a for a in map(anchors_of, node.terms) if a is not None]
            if not options:
                return None
            # Word anchors work on both passes; an actor anchor makes the query a candidate for every
            # first-pass item, so it is used only when there is no other choice.
            return min(options, key=lambda a: (_has_actor(a), _cost(a)))
    raise TypeError(f"not a query node: {node!r}")


class QueryIndex:
    """Subscriptions (any hashable key → Query), matched against items by anchor terms."""

    def __init__(self) -> None:
        self._query_of: dict[Hashable, Query] = {}
        self._keys_of: dict[Query, set[Hashable]] = {}
        self._by_word: dict[str, set[Query]] = {}
        self._by_actor: dict[str, set[Query]] = {}
        self._actor_anchored: set[Query] = set()  # candidates for every item whose actors are unknown

    def __len__(self) -> int:
        return len(self._query_of)

    def __contains__(self, key: object) -> bool:
        return key in self._query_of

    @property
    def distinct_queries(self) -> int:
        return len(self._keys_of)

    def add(self, key: Hashable, query: Query | str) -> Query:
        """File `query` under `key` (replacing what `key` had); returns the parsed query."""
        if isinstance(query, str):
            query = parse_query(query)
        if key in self._query_of:
            self.remove(key)
        self._query_of[key] = query
        keys = self._keys_of.get(query)
        if keys is None:
            self._keys_of[query] = {key}
            self._file(query)
        else:
            keys.add(key)
        return query

    def remove(self, key: Hashable) -> None:
        """Forget `key`; a missing key is ignored (unsubscribing twice is harmless)."""
        query = self._query_of.pop(key, None)
        if query is None:
            return
        keys = self._keys_of[query]
        keys.discard(key)
        if not keys:
            del self._keys_of[query]
            self._unfile(query)

    def candidates(self, item: Matchable) -> set[Query]:
        """Queries that may match `item` (each to be verified): those sharing an anchor with it."""
        found: set[Query] = set()
        for word in item.words:
            queries = self._by_word.get(word)
            if queries:
                found |= queries
        if item.actors is None:
            found |= self._actor_anchored
        else:
            for actor in item.actors:
                queries = self._by_actor.get(actor)
                if queries:
                    found |= queries
        return found

    def match(self, item: Matchable) -> set[Hashable]:
        """Keys of the subscriptions whose query matches `item`."""
        return {key for query in self.candidates(item) if query.matches(item) for key in self._keys_of[query]}

    def queries(self) -> Iterator[tuple[Hashable, Query]]:
        return iter(self._query_of.items())

    def _postings(self, query: Query) -> Iterator[tuple[dict[str, set[Query]], str]]:
        anchors = anchors_of(query.root)
        assert anchors is not None, "parse_query() only builds queries with a positive term"
        for kind, value in anchors:
            yield (self._by_word if kind == "w" else self._by_actor), value

    def _file(self, query: Query) -> None:
        for postings, value in self._postings(query):
            postings.setdefault(value, set()).add(query)
            if postings is self._by_actor:
                self._actor_anchored.add(query)

    def _unfile(self, query: Query) -> None:
        for postings, value in self._postings(query):
            queries = postings[value]
            queries.discard(query)
            if not queries:
                del postings[value]
        self._actor_anchored.discard(query)
