"""Page furniture that is not news: captions, photo credits, bylines, calls to action, reader questions.

Extraction calls `is_boilerplate` on every paragraph and the summarizer on every sentence, so each rule is
anchored (whole text, or its start or end) and most are limited to short texts: a false positive would
drop a real news paragraph, which is worse than letting one caption through.
"""

from __future__ import annotations

import re

import nupunkt

SHORT_WORDS = 12  # a call to action or a byline is a short line
QUESTION_WORDS = 15
CAPTION_WORDS = 40  # a caption or credit line; longer paragraphs are news even if one rule matches them

_I = re.IGNORECASE
_CREDIT_WORD = r"(?:photos?|photograph|image|picture|video|source|credits?|footage|graphic|illustration)"
_BYLINE_TOKEN = r"(?:[A-Z][\w.'’-]*|and|&|for|in|of|at|,|\|)"  # names, agencies and their connectors
_RULES_ANY_LENGTH = [
    # "... – Photo: REUTERS/KCNA", "... | Image: Getty", "... (Photo: AP)": a credit closes a caption.
    re.compile(rf"(?:\s[–—|-]+\s*|\(\s*){_CREDIT_WORD}\s*(?:by|credit)?\s*:\s*[^.!?]{{1,60}}\)?\s*\.?$", _I),
    # "... prepares to meet - Photo 1." (the caption of a numbered photo)
    re.compile(rf"\s[–—|-]+\s*{_CREDIT_WORD}\s*\d+\s*\.?$", _I),
    re.compile(r"\b(?:image|photo|picture)\s+(?:copyright|caption)\b", _I),
    re.compile(r"\ball rights reserved\b", _I),
    re.compile(r"^\(?\s*(?:additional\s+)?(?:reporting|writing|editing)\s+by\b", _I),
    re.compile(r"(?:^|[.!?]\s+)click here\b", _I),
    re.compile(r"^sign up\b.{0,40}\bnewsletters?\b", _I),
    # CNN/DailyMail caption remnants: a line without a closing mark got " ." appended ("Anne Frank's final
    # entry ."), and DailyMail bylines were split into "By .", "PUBLISHED: ." fragments.
    re.compile(r"\s\.$"),
    re.compile(r"^(?:read more|related|see also|more on this|watch|listen|advertisement)\s*:", _I),
    re.compile(r"^scroll down for (?:video|more)\b", _I),
]
_RULES_SHORT = [
    re.compile(r"^(?:photo|image|picture|video|gallery|slide)\s*\d+(?:\s*(?:of|/)\s*\d+)?\s*[.:]?$", _I),
    re.compile(rf"^{_CREDIT_WORD}\s*(?:by|credit)?\s*:", _I),
    re.compile(r"^pictured\s*:", _I),
    re.compile(r"^(?:©|\(c\)|copyright\b)", _I),
    re.compile(r"^(?:getty images|reuters|ap|afp|epa|pa)(?:\s*/\s*\S+)*\.?$", _I),
    re.compile(
        r"^(?:leave a comment|comments?|share(?: this(?: article| story| page)?)?|read more|"
        r"advertisement|sponsored|related(?: articles| stories)?|most read|follow us\b.*|"
        r"share (?:on|via) \w+|tweet|email|print|subscribe\b.*|have your say)\s*[.:!]?$",
        _I,
    ),
    re.compile(r"\b(?:let us know|tell us)\b.{0,40}\b(?:comments?|think)\b", _I),
    # A byline: "By Jane Doe, Reuters", "By Jane Doe and John Roe | Updated ...". Every word capitalised.
    re.compile(rf"^By\s+{_BYLINE_TOKEN}(?:\s*{_BYLINE_TOKEN})*$"),
]
# A question put to the reader ("What do you think?"), not a quoted one.
_READER_QUESTION = re.compile(r"^[^\"“”.!?]*\b(?:you|your)\b[^\"“”.!?]*\?$", _I)

_INNER_SENTENCE_END = re.compile(r"[.!?][\"”’)]*\s+\S")

# "SEOUL (Reuters) - ", "Marseille, France (CNN)", "NEW YORK, March 3 (Reuters) -"
_AGENCY_DATELINE = (
    r"(?:[A-Z][A-Za-z.'’-]*(?:[ ,]+[A-Z0-9][A-Za-z0-9.'’-]*){0,5}\s*)?"
    r"\((?:CNN|Reuters|AP|AFP|UPI|Bloomberg|dpa|Xinhua|Yonhap|EFE|ANSA|CNS|BBC)\)\s*(?:[-–—]+\s*)?"
)
# "HELSINKI — ", "KYIV, Ukraine -- ": a place in capitals and a long dash, no agency (AP and newspaper style).
_PLACE_DATELINE = (
    r"[A-Z][A-Z.'’-]{2,}(?:\s+[A-Z][A-Z.'’-]+)*"  # HELSINKI, NEW YORK; 3+ capitals: not "US – China"
    r"(?:,\s*[A-Z][A-Za-z0-9. ]{1,30})?\s+(?:—|–|--)\s*"
)
_DATELINE = re.compile(rf"^(?:{_AGENCY_DATELINE}|{_PLACE_DATELINE})")


def _is_furniture_line(text: str, word_count: int) -> bool:
    if word_count > CAPTION_WORDS:
        return False
    if any(rule.search(text) for rule in _RULES_ANY_LENGTH):
        return True
    if word_count <= QUESTION_WORDS and _READER_QUESTION.match(text):
        return True
    return word_count <= SHORT_WORDS and any(rule.search(text) for rule in _RULES_SHORT)


def is_boilerplate(text: str) -> bool:
    """True when a paragraph or sentence is page furniture rather than news.

    A short paragraph of several sentences ("What do you think? Leave a Comment") is furniture when each
    of its sentences is."""
    text = " ".join(text.split())
    if not text:
        return True
    word_count = len(text.split())
    if _is_furniture_line(text, word_count):
        return True
    if word_count > CAPTION_WORDS or not _INNER_SENTENCE_END.search(text):
        return False
    parts = [text[start:end].strip() for start, end in nupunkt.sent_spans(text)]
    return len(parts) > 1 and all(_is_furniture_line(part, len(part.split())) for part in parts)


def strip_dateline(sentence: str) -> str:
    """Drop a leading news-agency dateline ("SEOUL (Reuters) - ", "(CNN)") from text shown to people."""
    stripped = _DATELINE.sub("", sentence, count=1)
    return stripped if stripped.strip() else sentence
