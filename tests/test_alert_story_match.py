"""The second match of a topic alert reads the whole story: the feed item's own title and description, the
article text, and its key actors under their names, aliases and demonyms. A table of realistic stories."""

from datetime import UTC, datetime

import pytest

from bot.alerts.feeds import FeedItem
from bot.alerts.query import parse_query
from bot.alerts.watcher import story_matchable
from bot.models import Actor, Briefing

NK = Actor("North Korea", "place", 8, aliases=("North Korean", "DPRK"))
US = Actor("United States", "place", 4, aliases=("U.S.", "US"))
KIM = Actor("Kim Jong Un", "person", 3, aliases=("Kim",))


def story(title: str, description: str, text: str | None, *actors: Actor) -> tuple[FeedItem, Briefing]:
    item = FeedItem(
        key="k", guid=None, link="https://news.example/a", title=title, summary=description,
        published=datetime(2026, 3, 1, tzinfo=UTC), source_url="https://news.example/feed.xml",
    )  # fmt: skip
    briefing = Briefing(
        title=f"{title} (as the page has it)", url=item.link, published=None,
        summary=["A summary sentence that names nobody in particular."], actors=list(actors), text=text,
    )  # fmt: skip
    return item, briefing


CASES = [
    # phrase in the headline only: the article and summary say "North Korean" and "Pyongyang"
    (
        '"North Korea"',
        story("North Korea fires missile", "", "Pyongyang fired a North Korean rocket."),
        True,
    ),
    # in the article only
    ('"North Korea"', story("Missile alarms Japan", "Sirens sounded.", "It came from North Korea."), True),
    # only as a key actor found through a demonym: the words "North Korea" appear nowhere
    ('"North Korea"', story("Missile alarms Japan", "", "A North Korean missile flew over.", NK), True),
    ("Korea", story("Missile alarms Japan", "", "A DPRK missile flew over.", NK), True),
    # an alias: "U.S." in the text, "United States" in the query
    ('"United States"', story("U.S. imposes tariffs", "", "The U.S. said on Monday.", US), True),
    ('"United States"', story("US imposes tariffs", "", "Washington said on Monday."), False),
    # exclusions count wherever they are, the article included
    ("missile -test", story("Missile alarms Japan", "", "It was a test, officials said.", NK), False),
    ("missile -test", story("Missile alarms Japan", "", "Officials said it flew 900 km.", NK), True),
    # actor: is strict: a key actor, not a word in the text
    ('actor:"Kim Jong Un"', story("Kim Jong Un visits factory", "", "Kim Jong Un toured it."), False),
    ('actor:"Kim Jong Un"', story("Leader visits factory", "", "He toured it.", KIM), True),
    ('actor:"North Korea" missile', story("Missile launch", "", "A North Korean missile.", NK), True),
    # nothing about the topic anywhere
    ('"North Korea"', story("Floods in Spain", "Valencia under water.", "Rain fell for days."), False),
    # no article (the briefing is the feed's own teaser): the feed item's words still count
    ('"North Korea"', story("North Korea talks resume", "Envoys met.", None), True),
]


@pytest.mark.parametrize(("query", "parts", "expected"), CASES)
def test_the_second_match_reads_the_whole_story(
    query: str, parts: tuple[FeedItem, Briefing], expected: bool
) -> None:
    item, briefing = parts
    assert parse_query(query).matches(story_matchable(item, briefing)) is expected
