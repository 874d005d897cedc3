"""QueryIndex: returns exactly what checking every query would, while looking at few of them."""

from __future__ import annotations

import random
from collections.abc import Hashable

import pytest

from bot.alerts.matcher import QueryIndex, anchors_of, word_cost
from bot.alerts.query import Matchable, Query, parse_query

VOCABULARY = (
    "port strike tariff tariffs trade war summit missile budget election vote court ruling storm flood"
    " bank rate inflation union talks ceasefire border minister oil price vaccine virus the of and"
).split()
ACTORS = ["Kim Jong Un", "Merkel", "United States", "UN", "Unite"]


def brute_force(queries: dict[Hashable, Query], item: Matchable) -> set[Hashable]:
    return {key for key, query in queries.items() if query.matches(item)}


def random_term(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return f'actor:"{rng.choice(ACTORS)}"'
    if roll < 0.3:
        return '"' + " ".join(rng.sample(VOCABULARY, 2)) + '"'
    return rng.choice(VOCABULARY)


def random_branch(rng: random.Random) -> str:
    terms = [random_term(rng) for _ in range(rng.randint(1, 3))]
    terms += ["-" + random_term(rng) for _ in range(rng.randint(0, 1))]
    if rng.random() < 0.2:
        terms.append(f"({random_term(rng)} OR {random_term(rng)})")
    return " ".join(terms)


def random_query(rng: random.Random) -> str:
    return " OR ".join(random_branch(rng) for _ in range(rng.choice([1, 1, 1, 2, 3])))


def random_item(rng: random.Random, actors_known: bool) -> Matchable:
    title = " ".join(rng.choices(VOCABULARY, k=rng.randint(3, 8)))
    summary = " ".join(rng.choices(VOCABULARY, k=rng.randint(0, 20)))
    actors = rng.sample(ACTORS, rng.randint(0, 2)) if actors_known else None
    return Matchable.from_parts(title.capitalize(), summary, actors)


@pytest.mark.parametrize("actors_known", [False, True])
def test_index_returns_exactly_what_brute_force_returns(actors_known: bool) -> None:
    rng = random.Random(20261125)
    queries = {f"sub{i}": parse_query(random_query(rng)) for i in range(400)}
    index = QueryIndex()
    for key, query in queries.items():
        index.add(key, query)
    matched_any = 0
    for _ in range(300):
        item = random_item(rng, actors_known)
        expected = brute_force(queries, item)
        assert index.match(item) == expected
        matched_any += bool(expected)
    assert matched_any > 50  # the random data does exercise matches, not only misses


def test_candidates_are_a_small_share_for_rare_words() -> None:
    index = QueryIndex()
    for i in range(1000):
        index.add(i, f"topic{i} report")
    item = Matchable.from_parts("A report on topic7", None)
    assert {q.normalized() for q in index.candidates(item)} == {"report topic7"}
    assert index.match(item) == {7}


def test_and_anchors_on_the_rare_word_not_the_stop_word() -> None:
    assert anchors_of(parse_query("the ceasefire").root) == {("w", "ceasefire"), ("w", "ceasefires")}
    assert word_cost("the") > word_cost("ceasefire")


def test_or_anchors_on_every_branch() -> None:
    anchors = anchors_of(parse_query('"oil price" OR actor:OPEC').root)
    assert anchors == {("w", "price"), ("a", "opec")}


def test_and_prefers_a_word_anchor_to_an_actor() -> None:
    assert anchors_of(parse_query("actor:merkel budget").root) == {("w", "budget"), ("w", "budgets")}


def test_actor_only_query_passes_the_first_pass_only_when_the_name_is_in_the_text() -> None:
    index = QueryIndex()
    index.add("a", "actor:Merkel")
    assert index.match(Matchable.from_parts("Merkel visits Paris", None)) == {"a"}
    assert index.match(Matchable.from_parts("Rain in Paris", None)) == set()
    assert index.match(Matchable.from_parts("Rain in Paris", None, ["Paris"])) == set()
    assert index.match(Matchable.from_parts("Rain in Paris", None, ["Angela Merkel", "Merkel"])) == {"a"}


def test_equal_subscriptions_share_one_query() -> None:
    index = QueryIndex()
    index.add(("chan1", 1), "Port strike")
    index.add(("chan2", 7), "strike  port")
    assert len(index) == 2
    assert index.distinct_queries == 1
    assert index.match(Matchable.from_parts("Port strike ends", None)) == {("chan1", 1), ("chan2", 7)}


def test_remove_one_of_two_equal_subscriptions_keeps_the_other() -> None:
    index = QueryIndex()
    index.add("a", "port strike")
    index.add("b", "port strike")
    index.remove("a")
    assert index.match(Matchable.from_parts("Port strike", None)) == {"b"}


def test_remove_drops_the_anchors() -> None:
    index = QueryIndex()
    index.add("a", "port strike OR actor:Unite")
    index.remove("a")
    assert len(index) == 0
    assert "a" not in index
    assert index.candidates(Matchable.from_parts("Port strike", None)) == set()
    assert index.candidates(Matchable.from_parts("Port strike", None, ["Unite"])) == set()
    index.remove("a")  # twice is harmless


def test_add_with_an_existing_key_replaces_its_query() -> None:
    index = QueryIndex()
    index.add("a", "port")
    index.add("a", "airport")
    assert len(index) == 1
    assert index.match(Matchable.from_parts("Port strike", None)) == set()
    assert index.match(Matchable.from_parts("Airport strike", None)) == {"a"}


def test_random_add_and_remove_matches_brute_force() -> None:
    rng = random.Random(7)
    index = QueryIndex()
    live: dict[Hashable, Query] = {}
    for step in range(600):
        if live and rng.random() < 0.4:
            key = rng.choice(sorted(live, key=str))
            index.remove(key)
            del live[key]
        else:
            key = rng.randrange(200)
            live[key] = index.add(key, random_query(rng))
        if step % 20 == 0:
            item = random_item(rng, actors_known=rng.random() < 0.5)
            assert index.match(item) == brute_force(live, item)
    assert len(index) == len(live)
