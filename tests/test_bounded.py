"""Bounded work per briefing: pages and texts are cut to the caps before the expensive stages, the cut is
reported, ordinary articles are untouched, and the real `briefbot batch` answers a row that overruns its time
limit with `timeout` and goes on with the next."""

import json
import subprocess
import sys
from pathlib import Path

from bot.briefing import limits
from bot.briefing.nlp import WHOLE_CHARS, annotate, get_pipeline
from bot.briefing.pipeline import brief_source
from bot.config import Settings
from bot.models import Briefing, Source
from bot.render import TRUNCATED_NOTE, format_text

ROOT = Path(__file__).resolve().parents[1]
BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))
BBC = ROOT.parent / "shared" / "bench" / "data" / "summ_bbc_news_summary.jsonl"
EXAMPLE_HTML = (ROOT / "examples" / "harbour_tunnel.html").read_text(encoding="utf-8")


def articles(count: int) -> list[str]:
    with BBC.open(encoding="utf-8") as rows:
        return [json.loads(next(rows))["text"] for _ in range(count)]


def test_html_cut_keeps_at_most_the_tag_cap() -> None:
    page = "<p>a</p>" * limits.MAX_HTML_TAGS  # twice the cap in tags
    cut = limits.html_cut(page)
    assert page[:cut].count("<") == limits.MAX_HTML_TAGS
    assert limits.html_cut(EXAMPLE_HTML) == len(EXAMPLE_HTML)
    assert limits.html_cut("x" * (limits.MAX_HTML_CHARS + 10)) == limits.MAX_HTML_CHARS


def test_text_cut_keeps_a_prefix_of_whole_words() -> None:
    text = " ".join(f"w{i}" for i in range(limits.MAX_TEXT_WORDS + 500))
    cut = limits.text_cut(text)
    assert len(text[:cut].split()) == limits.MAX_TEXT_WORDS
    assert text[:cut].split() == text.split()[: limits.MAX_TEXT_WORDS]
    many_words = "word " * 100_000
    assert many_words[limits.text_cut(many_words) - 1] == " ", "cut before a word, never inside one"
    long_words = ("x" * 29 + " ") * 10_000  # fewer words than the cap, more characters
    cut = limits.text_cut(long_words)
    assert limits.MAX_TEXT_CHARS - 30 < cut <= limits.MAX_TEXT_CHARS
    assert long_words[cut] == " ", "cut after a word, never inside one"
    assert limits.text_cut("no space at all".replace(" ", "") * 20_000) == limits.MAX_TEXT_CHARS


def test_an_ordinary_article_is_not_truncated() -> None:
    briefing = brief_source(Source(html=EXAMPLE_HTML), Settings())
    assert briefing.truncated is False
    assert briefing.to_dict()["truncated"] is False
    assert TRUNCATED_NOTE not in format_text(briefing)


def test_a_text_past_the_word_cap_is_briefed_from_its_start_and_says_so() -> None:
    pieces = articles(150)
    text = "\n\n".join(pieces)
    assert len(text.split()) > limits.MAX_TEXT_WORDS
    briefing = brief_source(Source(text=text), Settings())
    assert briefing.truncated is True
    assert briefing.to_dict()["truncated"] is True
    assert TRUNCATED_NOTE in format_text(briefing)
    kept = text[: limits.text_cut(text)]
    assert all(sentence.split()[0] in kept for sentence in briefing.summary)
    for mention in briefing.dates:
        assert mention.end <= len(kept)
        assert text[mention.start : mention.end] == mention.text, "offsets still index the caller's text"
    assert Briefing.from_dict(briefing.to_dict()).truncated is True


def test_a_page_of_a_million_elements_is_cut_before_extraction() -> None:
    page = "<html><body><article>" + "<p>a</p>" * 1_000_000 + "</article></body></html>"
    briefing = brief_source(Source(html=page), Settings())
    assert briefing.truncated is True


def test_an_endless_word_is_masked_not_tokenized() -> None:
    first, second = articles(2)
    # A 30 KB "word" alone would make the text look like another language and cost seconds in spaCy.
    text = f"{first}\n\n{'ab-' * 10_000}\n\n{second}"
    briefing = brief_source(Source(text=text), Settings())
    assert briefing.truncated is False
    assert not any("ab-ab" in sentence for sentence in briefing.summary)
    assert not any("ab-ab" in actor.name for actor in briefing.actors)
    assert all(text[d.start : d.end] == d.text for d in briefing.dates)


def test_a_long_text_is_annotated_in_pieces_as_one_doc() -> None:
    text = "\n\n".join(articles(30))
    assert len(text) > WHOLE_CHARS
    doc = annotate(text, everywhere=True)  # the NER reading all of it, as the pieces cut it
    assert doc.text == text
    whole = {(e.start_char, e.end_char) for e in get_pipeline()(text).ents}
    pieces = {(e.start_char, e.end_char) for e in doc.ents}
    assert len(whole & pieces) >= 0.98 * len(whole), "a cut between paragraphs moves almost nothing"
    assert all(text[e.start_char : e.end_char] == e.text for e in doc.ents)


def test_batch_answers_an_overrun_with_timeout_and_goes_on(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[briefing]\ntime_limit_seconds = 1.0\n")
    story = articles(1)[0]
    rows = [
        {"id": "huge", "html": "<html><body>" + "<p>a</p>" * 1_000_000 + "</body></html>"},
        {"id": "next", "text": story},
        {"id": "huge-again", "html": "<html><body>" + "<p>b</p>" * 1_000_000 + "</body></html>"},
        {"id": "last", "text": story},
    ]
    done = subprocess.run(
        [BRIEFBOT, "batch", "--workers", "1", "--config", str(config)],
        input="\n".join(json.dumps(row) for row in rows) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["huge", "next", "huge-again", "last"]
    assert answers[0]["error"]["code"] == answers[2]["error"]["code"] == "timeout"
    assert answers[1]["summary"] and answers[3]["summary"] == answers[1]["summary"]
    assert "time limit" in done.stderr
    assert "Traceback" not in done.stderr
