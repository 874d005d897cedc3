"""The alert query language: grammar, errors with positions, matching and canonical text."""

from __future__ import annotations

import pytest

from bot.alerts.query import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    ActorTerm,
    And,
    Matchable,
    Not,
    Or,
    Phrase,
    QueryError,
    Word,
    normalize_actor,
    parse_query,
    word_forms,
)

# --- grammar ------------------------------------------------------------------------------------------


def test_single_word_is_casefolded() -> None:
    assert parse_query("Tariffs").root == Word("tariffs")


def test_side_by_side_terms_are_and() -> None:
    assert parse_query("port strike").root == And((Word("port"), Word("strike")))


def test_explicit_and_is_the_same_as_side_by_side() -> None:
    assert parse_query("port AND strike") == parse_query("port strike")


def test_or_binds_looser_than_and() -> None:
    assert parse_query("a b OR c").root == Or((And((Word("a"), Word("b"))), Word("c")))


def test_parentheses_group_before_and() -> None:
    assert parse_query("(a OR b) c").root == And((Or((Word("a"), Word("b"))), Word("c")))


def test_lower_case_or_is_a_word() -> None:
    assert parse_query("this or that").root == And((Word("or"), Word("that"), Word("this")))


def test_phrase_keeps_word_order() -> None:
    assert parse_query('"Trade War"').root == Phrase(("trade", "war"))


def test_bare_term_with_inner_punctuation_is_a_phrase() -> None:
    assert parse_query("covid-19").root == Phrase(("covid", "19"))
    assert parse_query("U.S.").root == Phrase(("u", "s"))


def test_exclusions_of_each_kind() -> None:
    root = parse_query('budget -sports -"transfer window" -actor:Chelsea').root
    assert isinstance(root, And)
    assert set(root.terms) == {
        Word("budget"),
        Not(Word("sports")),
        Not(Phrase(("transfer", "window"))),
        Not(ActorTerm("chelsea")),
    }


def test_excluded_group() -> None:
    root = parse_query("budget -(sports OR music)").root
    assert root == And((Word("budget"), Not(Or((Word("music"), Word("sports"))))))


def test_hyphen_inside_a_word_is_not_an_exclusion() -> None:
    assert parse_query("well-known").root == Phrase(("well", "known"))


def test_actor_forms() -> None:
    assert parse_query("actor:Merkel").root == ActorTerm("merkel")
    assert parse_query('actor:"Kim  Jong Un"').root == ActorTerm("kim jong un")
    assert parse_query("ACTOR:merkel").root == ActorTerm("merkel")


def test_curly_quotes_from_phones_work() -> None:
    assert parse_query("“trade war”").root == Phrase(("trade", "war"))


def test_nesting_up_to_the_limit() -> None:
    text = "(" * MAX_DEPTH + "a OR b" + ")" * MAX_DEPTH + " c"
    assert parse_query(text) == parse_query("(a OR b) c")


# --- errors: message, position, caret ------------------------------------------------------------------

ERRORS = [
    ('budget "trade war', 7, "never closed"),
    ("(a OR b c", 0, "never closed"),
    ("a b) c", 3, "no matching"),
    (") a", 0, "no matching"),
    ("a OR", 2, "OR needs a term"),
    ("OR a", 0, "OR needs a term"),
    ("a OR OR b", 2, "OR needs a term"),
    ("(a OR) b", 3, "OR needs a term"),
    ("a AND", 2, "AND needs a term"),
    ("actor: merkel", 0, "actor: needs a name"),
    ('x actor:""', 2, "actor: needs a name"),
    ("a - b", 2, '"-" must be right before'),
    ("a -", 2, '"-" must be right before'),
    ("site:bbc.com brexit", 0, 'unknown filter "site:"'),
    ("-sports", 0, "exclusions alone"),
    ("brexit OR -sports", 10, "exclusions alone"),
    ("a ()", 2, "parentheses are empty"),
    ('a ""', 2, "no words between"),
    ("a !!", 2, "no letters or digits"),
    ("", 0, "empty"),
    ("   ", 0, "empty"),
    ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), MAX_DEPTH, "nested"),
]


@pytest.mark.parametrize(("text", "position", "message"), ERRORS)
def test_error_position_and_message(text: str, position: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert caught.value.position == position
    assert message in str(caught.value)


def test_error_is_one_friendly_line_with_a_code() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("a OR")
    assert str(caught.value) == "OR needs a term on both sides (at character 3)"
    assert "\n" not in str(caught.value)
    assert caught.value.to_dict()["code"] == "invalid_query"


def test_pointer_puts_the_caret_under_the_bad_character() -> None:
    text = 'brexit "trade deal'
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert caught.value.pointer(text) == 'brexit "trade deal\n       ^'


def test_pointer_on_a_long_query_shows_the_part_around_the_error() -> None:
    text = "word " * 40 + "site:x"
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    shown, caret = caught.value.pointer(text).split("\n")
    assert len(shown) < len(text)
    assert shown[caret.index("^") :].startswith("site:x")


def test_too_long() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("a" * (MAX_LENGTH + 1))
    assert caught.value.position == MAX_LENGTH
    assert "too long" in str(caught.value)


def test_too_many_terms_points_at_the_first_extra_term() -> None:
    words = [f"w{i}" for i in range(MAX_TERMS + 1)]
    text = " ".join(words)
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert caught.value.position == text.index(words[MAX_TERMS])
    parse_query(" ".join(words[:MAX_TERMS]))  # the limit itself is fine


# --- matching -----------------------------------------------------------------------------------------


def item(text: str, actors: list[str] | None = None) -> Matchable:
    return Matchable.from_parts(text, None, actors)


def matches(query: str, text: str, actors: list[str] | None = None) -> bool:
    return parse_query(query).matches(item(text, actors))


def test_whole_words_only() -> None:
    assert matches("port", "Strike closes the port")
    assert not matches("port", "Airport reopens")
    assert not matches("port", "Exports fall")


def test_case_insensitive() -> None:
    assert matches("NATO", "nato leaders meet")


def test_possessive_matches_the_name() -> None:
    assert matches("merkel", "Merkel's coalition")
    assert matches("merkel", "Merkel’s coalition")


def test_simple_plurals_both_ways() -> None:
    assert matches("tariff", "New tariffs announced")
    assert matches("tariffs", "A new tariff announced")
    assert matches("country", "Two countries agree")
    assert matches("church", "Churches reopen")


def test_no_stemming_beyond_plurals() -> None:
    assert not matches("executive", "The execution was delayed")
    assert not matches("new", "The news today")


def test_quoted_word_is_exact() -> None:
    assert not matches('"tariff"', "New tariffs announced")
    assert matches('"tariff"', "A tariff announced")


def test_phrase_needs_consecutive_words_in_order() -> None:
    assert matches('"trade war"', "Fears of a trade war grow")
    assert matches('"trade war"', "Fears of a trade-war grow")
    assert not matches('"trade war"', "War on trade")
    assert not matches('"trade war"', "Trade talks, not war")


def test_phrase_found_at_a_later_occurrence_of_its_first_word() -> None:
    assert matches('"trade war"', "Trade talks stall as trade war looms")


def test_and_needs_every_term() -> None:
    assert matches("port strike", "Port workers strike")
    assert not matches("port strike", "Port reopens")


def test_exclusion() -> None:
    assert matches("budget -sports", "Budget for schools")
    assert not matches("budget -sports", "Sports budget cut")


def test_or_groups() -> None:
    query = "(merkel OR macron) summit"
    assert matches(query, "Macron at the summit")
    assert matches(query, "Merkel arrives for summit talks")
    assert not matches(query, "Merkel speaks in Berlin")


def test_actor_second_pass_is_strict() -> None:
    assert matches('actor:"Kim Jong Un"', "Missile launch", ["Kim Jong Un", "Kim"])
    assert not matches('actor:"Kim Jong Un"', "Kim Jong Un mentioned", ["Moon Jae-in"])
    assert not matches('actor:"Kim Jong Un"', "Missile launch", [])


def test_actor_first_pass_needs_a_word_of_the_name_in_the_feed_text() -> None:
    # Actors are unknown before briefing: any word of the name keeps the item for the strict second pass.
    assert matches('actor:"Kim Jong Un"', "Kim inspects a missile launch", None)
    assert not matches('actor:"Kim Jong Un"', "Missile launch", None), "else every item would be briefed"
    assert matches("missile -actor:Trump", "Missile launch", None)
    assert matches("summit OR actor:Putin", "Putin meets Xi", None)
    assert not matches("summit OR actor:Putin", "Rain in Paris", None)


def test_actor_first_pass_still_rejects_on_words() -> None:
    assert not matches('actor:"Kim Jong Un" missile', "Rain in Paris", None)
    assert not matches("missile -sports -actor:Trump", "Sports missile", None)


def test_actor_names_compare_normalized() -> None:
    assert matches("actor:US", "Tariffs", ["U.S."])
    assert matches('actor:"the united states"', "Tariffs", ["United States"])
    assert matches("actor:o'neill", "Talks", ["O’Neill"])
    assert not matches("-actor:merkel tariffs", "Tariffs", ["MERKEL"])


def test_matchable_from_parts_joins_title_and_summary() -> None:
    found = Matchable.from_parts("Port strike", "Workers walk out", ["Unite"])
    assert found.words >= {"port", "strike", "workers"}
    assert found.actors == frozenset({"unite"})
    assert Matchable.from_parts("Port strike", None).actors is None


def test_word_forms() -> None:
    assert word_forms("tariff") == ("tariff", "tariffs")
    assert "country" in word_forms("countries")
    assert word_forms("news") == ("news",)
    assert word_forms("g20") == ("g20",)


def test_normalize_actor() -> None:
    assert normalize_actor("  The  U.S. ") == "us"
    assert normalize_actor("Kim Jong\u00a0Un") == "kim jong un"


# --- canonical text ---------------------------------------------------------------------------------

EQUAL = [
    ("Port strike", "strike port"),
    ("port AND strike", "strike  port"),
    ("a OR b", "b OR a"),
    ("a (b c)", "c a b"),
    ("(a OR b) OR c", "a OR (c OR b)"),
    ("a a", "a"),
    ('actor:"Kim  Jong Un"', 'actor:"kim jong un"'),
    ("actor:U.S.", "actor:us"),
    ('"Trade War"', "“trade war”"),
    ("-sports budget", "budget -sports"),
    ("((a))", "a"),
]


@pytest.mark.parametrize(("first", "second"), EQUAL)
def test_equal_queries_normalize_the_same(first: str, second: str) -> None:
    assert parse_query(first).normalized() == parse_query(second).normalized()
    assert parse_query(first) == parse_query(second)
    assert hash(parse_query(first)) == hash(parse_query(second))


def test_different_queries_normalize_differently() -> None:
    assert parse_query("a b OR c").normalized() != parse_query("a (b OR c)").normalized()


@pytest.mark.parametrize(
    "text",
    [
        "budget -sports",
        "(merkel OR macron) summit -(rain OR snow)",
        'actor:"Kim Jong Un" OR "trade war" covid-19',
        "actor:merkel",
        "this or that",
    ],
)
def test_normalized_text_parses_back_to_the_same_query(text: str) -> None:
    query = parse_query(text)
    assert parse_query(query.normalized()) == query


def test_normalized_text_reads_naturally() -> None:
    assert parse_query("-sports  Budget").normalized() == "budget -sports"
    assert parse_query("(Merkel OR Macron) summit").normalized() == "(macron OR merkel) summit"


def test_describe() -> None:
    text = parse_query('actor:"Kim Jong Un" (missile OR rocket) -test').describe()
    assert text == "stories with actor Kim Jong Un and (missile or rocket) and not test"
