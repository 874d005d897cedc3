"""NER only where it pays (bot.briefing.focus): which sentences the NER reads, and the names it found there
matched in the others with the label it gave them."""

from bot.briefing import focus
from bot.briefing.nlp import annotate
from bot.briefing.sentences import split_sentences

TEXT = (
    "Barack Obama met Angela Merkel in Berlin. They spoke for an hour about trade. "
    "The talks went well, aides said. Obama said the two leaders agreed on most points. "
    "Merkel thanked him for coming to Berlin. He left the city after a dinner with business leaders."
)


def sentences(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in split_sentences(text)]


def chosen(text: str, read_first: int = 1) -> list[str]:
    spans = sentences(text)
    read = focus.read_words(text, spans[:read_first])
    return [text[a:b] for a, b in focus.choose(text, spans[read_first:], read, focus.lowercase_words(text))]


def test_the_ner_reads_a_sentence_only_for_a_new_name_or_a_date_cue() -> None:
    assert chosen(TEXT) == ["They spoke for an hour about trade."]  # "hour": a time
    text = "Officials met in Paris. Jane Doe spoke first. Doe spoke again. Paris agreed. Ann Lee did too."
    # Each new capitalised word is read once: "Doe" again, or "Paris", is not new.
    assert chosen(text) == ["Jane Doe spoke first.", "Ann Lee did too."]


def test_a_common_first_word_is_no_name_but_a_date_word_is_a_cue() -> None:
    text = "Police came. The crowd left. Nobody was hurt. The vote is in March. It ended in the 1990s."
    assert chosen(text) == ["The vote is in March. It ended in the 1990s."]  # one stretch for the NER


def test_in_a_long_sentence_the_ner_reads_a_window_around_the_new_name_and_all_of_the_name() -> None:
    text = (
        "It was agreed. In the end the members said that after long talks they had decided to back the plans "
        "of the new and old chief of Acme Holdings Group, who would lead the team, and that they would vote "
        "on it soon after the summer break ended and the committee had met again to discuss it."
    )
    name, summer = chosen(text)
    # Five words either side of the new name and of the cue ("summer"), widened over "of the" before "new"
    # and "the" after "lead" (a name may run across the edge): never the whole sentence.
    assert name == "of the new and old chief of Acme Holdings Group, who would lead the"
    assert summer == "on it soon after the summer break ended and the committee"


def test_names_the_ner_did_not_read_are_matched_with_the_label_it_gave() -> None:
    doc = annotate(TEXT)
    whole = annotate(TEXT, everywhere=True)
    later = TEXT.index("Obama said")
    found = {(e.text, e.label_) for e in doc.ents if e.start_char >= later}
    assert {("Obama", "PERSON"), ("Merkel", "PERSON"), ("Berlin", "GPE")} <= found
    names = {(e.text, e.label_, e.start_char) for e in doc.ents if e.label_ in {"PERSON", "GPE"}}
    # Every name the NER finds reading it all (and one more here: it missed the second "Merkel").
    assert names >= {(e.text, e.label_, e.start_char) for e in whole.ents if e.label_ in {"PERSON", "GPE"}}
    assert doc.text == TEXT


def test_a_persons_surname_is_matched_as_the_person() -> None:
    labels = focus.name_labels("Barack Obama", [(0, 12, "PERSON")])
    assert labels == {"Barack Obama": "PERSON", "Obama": "PERSON"}
    pattern = focus.name_pattern(labels)
    text = "Obama's plan. Obamacare stays."
    assert focus.matched_names(text, [(0, len(text))], pattern, labels) == [(0, 5, "PERSON")]


def test_known_words_in_a_new_combination_are_read_again() -> None:
    text = (
        "Delegates met at the National Congress of the Workers’ Party of Korea. It was long. "
        "Officials of the Workers’ Party of Korea spoke. Korea agreed."
    )
    assert chosen(text) == ["Officials of the Workers’ Party of Korea"]  # the new run, within six words
