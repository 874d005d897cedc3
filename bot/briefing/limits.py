"""Caps on the work one briefing may cost, applied before the expensive stages (strangers paste links).

Each stage's cost grows with its input: trafilatura with the number of elements (~45 µs each), spaCy and
the summarizer with the text, spaCy's tokenizer with the square of a space-free run's length. The caps sit
far above real news (the real-page dev set peaks at ~4k tags and no article has a 100-character "word"), so
they change nothing for an article and bound the cost of everything else (bench/cost.py).
"""

from __future__ import annotations

import re

MAX_HTML_CHARS = 5_000_000  # the download cap; batch input can hand over more
MAX_HTML_TAGS = 50_000  # ~2 s of extraction
MAX_TEXT_WORDS = 20_000  # a news article is rarely longer
MAX_TEXT_CHARS = 150_000  # 20k words of ordinary prose fit; long "words" don't stretch the cap
MAX_RUN_CHARS = 100  # longer space-free runs are URLs, base64 or junk: masked, never tokenized

_TAG = re.compile(r"<")
_WORD = re.compile(r"\S+")
LONG_RUN = re.compile(rf"\S{{{MAX_RUN_CHARS + 1},}}")


def html_cut(html: str) -> int:
    """Where to cut a page so it has at most MAX_HTML_TAGS tags and MAX_HTML_CHARS characters."""
    end = min(len(html), MAX_HTML_CHARS)
    for count, tag in enumerate(_TAG.finditer(html, 0, end)):
        if count == MAX_HTML_TAGS:
            return tag.start()
    return end


def text_cut(text: str) -> int:
    """Where to cut a text so it has at most MAX_TEXT_WORDS words and MAX_TEXT_CHARS characters; the cut
    falls between words, so the kept text is a prefix and every offset into it stays valid."""
    for count, word in enumerate(_WORD.finditer(text, 0, MAX_TEXT_CHARS)):
        if count == MAX_TEXT_WORDS:
            return word.start()
    if len(text) <= MAX_TEXT_CHARS:
        return len(text)
    last_space = max(text.rfind(" ", 0, MAX_TEXT_CHARS), text.rfind("\n", 0, MAX_TEXT_CHARS))
    return last_space if last_space > 0 else MAX_TEXT_CHARS
