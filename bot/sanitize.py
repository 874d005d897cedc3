"""Text from outside as valid Unicode: lone surrogates become U+FFFD, the replacement character.

JSON's `\\udcae` escapes and Python's surrogateescape (undecodable bytes in argv or a C-locale stdin) give
strings holding lone surrogates. They cannot be encoded as UTF-8, so every later stage that encodes (the
NLP model, lxml, hashing, JSON output, a chat platform) would fail on them; replacing them where text enters
the core is what a UTF-8 decoder does with bytes it can't read.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a str holds pairs as one code point: any left is lone


def scrub(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD; the same object when it has none."""
    if text.isascii() or _LONE_SURROGATE.search(text) is None:
        return text
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


def scrub_optional(text: str | None) -> str | None:
    return None if text is None else scrub(text)
