"""Block Kit rendering and Slack markup translation (no network)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from adapters.slackbot.render import (
    FALLBACK_CHARS,
    MAX_BLOCKS,
    SECTION_CHARS,
    TITLE_CHARS,
    alert_message,
    briefing_message,
    escape,
    fit,
    from_slack_markup,
    group_mention,
    mentioning,
    notice_message,
    strip_mention,
)
from bot.alerts.model import StoryAlert
from bot.chat.model import Mention, Notice
from bot.models import Actor, Briefing, DateMention

URL = "https://news.example.org/2024/05/harbour-bridge?a=1&b=2"


def small_briefing() -> Briefing:
    return Briefing(
        title="Harbour bridge reopens after <repairs> & tests",
        url=URL,
        published=date(2024, 5, 3),
        summary=["The bridge reopened on Friday.", "Traffic was light & slow."],
        actors=[Actor("Port Authority", "organization", 3), Actor("Maria Lopez", "person", 2)],
        dates=[
            DateMention("Friday", "2024-05-03", 30, 36),
            DateMention("last October", "2023-10", 80, 92),
            DateMention("May 3", "2024-05-03", 120, 125),  # same date again: shown once
        ],
    )


def all_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [element["text"] for element in block.get("elements", [])]
    return texts


def test_briefing_has_linked_title_summary_actors_dates_and_source() -> None:
    message = briefing_message(small_briefing())
    title, summary, actors, dates, source = message["blocks"]

    assert title["text"]["text"] == (
        "*<https://news.example.org/2024/05/harbour-bridge?a=1&amp;b=2|"
        "Harbour bridge reopens after &lt;repairs&gt; &amp; tests>*"
    )
    assert summary["text"]["text"] == "• The bridge reopened on Friday.\n• Traffic was light &amp; slow."
    assert actors["text"]["text"] == "*Key actors:* Port Authority (organization), Maria Lopez (person)"
    assert dates["text"]["text"] == (
        "*Key dates:*\n• 3 May 2024 (2024-05-03): “Friday”\n• October 2023 (2023-10): “last October”"
    )
    assert source["type"] == "context"
    assert source["elements"][0]["text"].endswith("|news.example.org> · Published 3 May 2024")


def test_fallback_text_is_plain_escaped_and_complete() -> None:
    text = briefing_message(small_briefing())["text"]
    assert text.startswith("Harbour bridge reopens after &lt;repairs&gt; &amp; tests\n")
    assert "• Traffic was light &amp; slow." in text
    assert "3 May 2024 (2024-05-03)" in text
    assert "<" not in text and ">" not in text


def test_huge_briefing_stays_within_slack_limits() -> None:
    huge = Briefing(
        title="Very long headline " * 200,
        url="https://news.example.org/" + "x" * 5000,
        published=date(2024, 5, 3),
        summary=[f"Sentence {i} says that <prices> & costs rose again. " * 20 for i in range(200)],
        actors=[Actor(f"Actor & Co {i} " * 50, "organization", 1) for i in range(100)],
        dates=[DateMention("a very long date phrase " * 40, f"20{i:02d}-01", 0, 1) for i in range(100)],
    )
    message = briefing_message(huge, max_actors=100, max_dates=100)

    assert len(message["blocks"]) <= MAX_BLOCKS
    assert len(message["text"]) <= FALLBACK_CHARS
    texts = all_texts(message["blocks"])
    assert all(len(text) <= SECTION_CHARS for text in texts)
    assert any(text.endswith("…") for text in texts)  # cut, and the cut is marked
    # A cut never leaves half an entity behind, and the title keeps to the header limit.
    assert not any(re.search(r"&[a-z]{0,3}$", text.removesuffix("…")) for text in texts)
    assert len(texts[0]) <= TITLE_CHARS + 2  # the bold markers; the too-long URL is not linked
    assert "<" not in texts[0]


def test_fit_never_splits_an_entity() -> None:
    assert fit("abc", 10) == "abc"
    assert fit("abcd &amp; efgh", 8) == "abcd…"
    assert len(fit("x" * 5000, 3000)) == 3000


def test_briefing_without_url_title_or_extras() -> None:
    message = briefing_message(Briefing(title=None, url=None, published=None, summary=["Only this."]))
    assert [block["text"]["text"] for block in message["blocks"]] == ["*Briefing*", "• Only this."]


def test_notice_is_escaped_mrkdwn() -> None:
    assert notice_message(Notice("`/brief <link>`: *help* & more")) == {
        "text": "`/brief &lt;link&gt;`: *help* &amp; more"
    }
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_slack_markup_becomes_plain_text() -> None:
    text = (
        "look <https://news.example.org/a?x=1&amp;y=2|Harbour bridge> and <https://b.example/>, "
        "cc <@U0BOB> in <#C0GENERAL|general> <!here> &lt;3 &amp;amp;"
    )
    assert from_slack_markup(text) == (
        "look https://news.example.org/a?x=1&y=2 and https://b.example/, cc @U0BOB in #general @here <3 &amp;"
    )


def test_strip_mention_removes_only_the_bot() -> None:
    assert strip_mention("<@U0BOT> brief <https://a.example/x> for <@U0BOB>", "U0BOT") == (
        "brief <https://a.example/x> for <@U0BOB>"
    )


def test_a_group_mention_is_read_from_the_escaped_command_text() -> None:
    markup = "subscribe floods --mention <!subteam^S0ONCALL|@oncall> for <!subteam^S0OTHER|@other>"
    group_of = group_mention(markup)
    assert group_of("@oncall") == Mention("S0ONCALL", "@oncall")
    assert group_of("@other") == Mention("S0OTHER", "@other")
    assert group_of("@nobody") is None  # typed as plain text: no group behind it
    assert group_mention("--mention @oncall")("@oncall") is None


def test_a_mention_pings_first_and_nothing_quoted_can_ping() -> None:
    alert = StoryAlert(
        3, "floods", Briefing("<!channel> Floods", "https://n.example/a", None, ["<!here> x."])
    )
    plain = alert_message(alert)
    assert "<!" not in plain["text"] + str(plain["blocks"])
    pinged = mentioning(plain, Mention("S0ONCALL", "@oncall"))
    assert pinged["text"].startswith("<!subteam^S0ONCALL> New story for `floods` (#3)")
    assert pinged["blocks"][0]["text"]["text"] == "<!subteam^S0ONCALL>"
    assert pinged["blocks"][1:] == plain["blocks"]
    here = mentioning({"text": "Daily digest"}, Mention())
    assert here == {"text": "<!here> Daily digest"}
    assert mentioning(plain, None) is plain
