"""Boilerplate filter: furniture goes, news stays."""

from __future__ import annotations

import pytest

from bot.briefing.boilerplate import furniture_role, is_boilerplate, repeats_headline, strip_dateline


@pytest.mark.parametrize(
    "text",
    [
        "Troops march during a night parade in the capital – Photo: REUTERS/KCNA",
        "The army has a new move, the allies prepare to meet - Photo 1.",
        "Photo 1",
        "Rescue workers search the rubble (Photo: AP)",
        "Image copyright Getty Images",
        "Pictured: the mayor at the opening",
        "By Jane Doe, Reuters",
        "By Jane Doe and John Roe",
        "Reporting by Jane Doe; Editing by John Roe",
        "Leave a Comment",
        "Share this article",
        "Read more: Floods hit the valley again",
        "READ MORE:",
        "Click here to see the full gallery",
        "Sign up for our newsletter",
        "© 2024 Example News. All rights reserved.",
        "What do you think?",
        "Scroll down for video",
        "The mayor's final speech .",  # a CNN/DailyMail caption remnant
    ],
)
def test_furniture_is_boilerplate(text: str) -> None:
    assert is_boilerplate(text)


@pytest.mark.parametrize(
    "text",
    [
        "The mayor said the bridge would reopen next week after repairs costing $2 million.",
        "By Monday, the floodwater had fallen by half, officials said.",
        "Photographers waited outside the court for hours.",
        '"What do you want from us?" the protesters asked the minister.',
        "Reuters news agency, citing sources, said troops had moved near the capital.",
        "She said her self-image: a fighter, had kept her going.",
        "Readers of the report will find more detail in its annex.",
        "Weapon systems of the army appear during the parade in January 2021.",
        "Share prices fell 3 percent on Tuesday.",
    ],
)
def test_news_is_not_boilerplate(text: str) -> None:
    assert not is_boilerplate(text)


def test_blank_text_is_boilerplate() -> None:
    assert is_boilerplate("  \n ")


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("SEOUL (Reuters) - Troops moved.", "Troops moved."),
        ("(CNN)Seventy ships sailed.", "Seventy ships sailed."),
        ("HARBOR CITY, Freedonia (CNN) -- The port closed.", "The port closed."),
        ("WASHINGTON (AP) — The vote passed.", "The vote passed."),
        ("The vote passed on Monday.", "The vote passed on Monday."),
        ("(CNN)", "(CNN)"),  # nothing left: keep the text rather than show an empty line
    ],
)
def test_strip_dateline(sentence: str, expected: str) -> None:
    assert strip_dateline(sentence) == expected


def test_a_short_paragraph_of_furniture_sentences_is_boilerplate() -> None:
    assert is_boilerplate("What do you think? Leave a Comment")


def test_a_paragraph_with_news_and_furniture_is_kept() -> None:
    assert not is_boilerplate("The council approved the plan on Tuesday. Leave a Comment")


def test_a_rhetorical_paragraph_is_not_a_reader_question() -> None:
    assert not is_boilerplate("Keep your hands off the harbour! Is nothing sacred?")


def test_a_long_paragraph_ending_like_a_caption_is_kept() -> None:
    # Pasted CNN/DailyMail text is one paragraph and often ends with a caption remnant " .".
    story = " ".join(["The council met on Tuesday and approved the harbour plan after a long debate."] * 5)
    assert not is_boilerplate(story + " The harbour at dawn .")
    assert not is_boilerplate(story + " Boats in the harbour – Photo: REUTERS/Jane Doe")


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("HELSINKI — Finland signed the deal.", "Finland signed the deal."),
        ("NEW YORK -- Stocks fell.", "Stocks fell."),
        ("KYIV, Ukraine — The talks ended.", "The talks ended."),
        ("US – China talks resumed on Monday.", "US – China talks resumed on Monday."),
        ("Helsinki — the capital — was quiet.", "Helsinki — the capital — was quiet."),
    ],
)
def test_strip_place_dateline(sentence: str, expected: str) -> None:
    assert strip_dateline(sentence) == expected


HEADLINE = "Microsoft moves to erase its carbon footprint"


@pytest.mark.parametrize(
    ("sentence", "title", "repeats"),
    [
        (HEADLINE, HEADLINE, True),
        ("A Letter on Justice and Open Debate", "A Letter on Justice and Open Debate | Harper's", True),
        ("Amazon Liable for Defective Products", "Amazon Liable for Defective Products - The Globe", True),
        ("How to Care for Hydrangeas to Get the Most Beautiful Blooms", "How to Care for Hydrangeas", True),
        ("Make your social media shine bright!", "Make your social media shine bright!", True),
        # prose that opens with the headline's words and ends with a stop is news
        ("T-distributed Stochastic Neighbor Embedding (t-SNE) is an algorithm.", "T-distributed SNE", False),
        ('"The Water-Making Spell conjures water from the wand."', "Water-Making Spell", False),
        ("Microsoft said on Monday it moves to erase its carbon footprint.", f"{HEADLINE} in a push", False),
        # a one-word title says nothing about a sentence using the word
        ("micropolitics noun: the use of power by individuals and groups", "micropolitics", False),
        ("Anything at all", None, False),
    ],
)
def test_a_sentence_repeating_the_headline_is_known(sentence: str, title: str | None, repeats: bool) -> None:
    assert repeats_headline(sentence, title) is repeats


@pytest.mark.parametrize(
    "line",
    [
        "5:45 AM PST 11/19/2019 by Patrick Shanley",
        "November 20, 2019 - 11:28 AMT",
        "By Evan Symon, August 14, 2020 2:30 pm",
        "This copy is for your personal, non-commercial use only. To order presentation-ready copies visit",
        "Start your day with the Opening Bell powered by Example.",
        "Also on rt.com US sanctions hit",
        "You can view our June 2018 open thread here.",
        "The WeWork logo is displayed outside of a co-working space in New York.Reuters",
        "Gov. Kristi NoemKristi Lynn NoemSouth Dakota governor doubles down on lockdowns",
        "Subscribe now to our eNation edition for the full story.",
        "Follow The Gleaner on Twitter and Instagram @jamaicagleaner.",
        "This post contains references to products from one or more of our advertisers.",
        "Submit your letter to the editor via this form.",
        "PC Gamer Newsletter Sign up to get the best content of the week",
        "January 13, 2020 at 08:45 AM | categories: Python, Mercurial | View Comments",
        "Senator Aubyn Hill (right), looks on as the chief executive speaks.",
        "Get The Daily Post's Daily Edition by email and never miss our top stories Free Sign Up",
        "The best stories of the week, delivered to your inbox. Sign up",
    ],
)
def test_what_a_site_says_about_itself_is_furniture(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "sentence",
    [
        "The meeting began at 10:30 on Tuesday and ended with a vote by the council on the new budget plan.",
        "Kim Jong Un met Moon Jae-in at 9:30 am.",
        "McDonald's and YouTube said they would follow the rules.",
        "The company will subscribe to the standard for unlimited access to data by 2030, officials said.",
        "Readers who sign up early get a discount, the firm said in a statement on its new service.",
        "Residents can sign up by email until Friday, the council said.",
        "The government urged residents to sign up.",
    ],
)
def test_news_that_mentions_times_or_subscriptions_is_not_furniture(sentence: str) -> None:
    assert not is_boilerplate(sentence)


EXCERPT = (
    "Want to build your own website? Even for a modest personal site, it was once assumed you might wait for "
    "days or weeks while a web designer hammered through arcane code for you. That all sounds a little "
    "ridiculous today. And if you had to thank one company for that, it would probably be […]"
)


@pytest.mark.parametrize(
    "line",
    [
        EXCERPT,
        "micropolitics — noun The use of formal and informal power by individuals, as opposed to …",
        "The good folks at the choir are still doing their thing, and now two stars play along [...]",
    ],
)
def test_another_pages_excerpt_cut_short_is_hidden_at_any_length(line: str) -> None:
    assert is_boilerplate(line)
    assert furniture_role(line) == "hidden"


@pytest.mark.parametrize(
    "sentence",
    [
        "He paused, looked at the river and said he would think about it…",
        "The letter read: “We regret […] the delay in the payments to the families,” the minister said.",
    ],
)
def test_a_writers_own_ellipsis_is_news(sentence: str) -> None:
    assert not is_boilerplate(sentence)
