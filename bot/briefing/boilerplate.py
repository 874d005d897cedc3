"""Page furniture and datelines: the one home of the rules that tell news from the page around it.

Furniture is what is not news: captions, photo credits, bylines, calls to action, reader questions, time
stamps and copyright lines. The pipeline hides short furniture paragraphs and never summarizes captions
(`furniture_role`), the summarizer skips furniture sentences (`is_boilerplate`), actors drop names in
credits and bylines, dates skip furniture lines. Datelines ("SEOUL (Reuters) - ") are cut from summary
lines, name the story's place for actors and its day for dates.

Extraction calls `is_boilerplate` on every paragraph and the summarizer on every sentence, so each rule is
anchored (whole text, or its start or end) and most are limited to short texts: a false positive would
drop a real news paragraph, which is worse than letting one caption through.
"""

from __future__ import annotations

import re
from typing import Literal

import nupunkt

SHORT_WORDS = 12  # a call to action or a byline is a short line
QUESTION_WORDS = 15
CAPTION_WORDS = 40  # a caption or credit line; longer paragraphs are news even if one rule matches them
FURNITURE_MAX_WORDS = 8  # short boilerplate lines ("Photo 1.", "Leave a Comment") are hidden from every stage

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
# What a site says about itself, in any length of line: sign-ups, paywall prompts, app and social links,
# reprint and licence notices, advertiser disclosures, letters calls, related-story pointers, page meta.
_RULES_PROMO = [
    re.compile(
        r"\bnewsletters?\b.{0,80}\bsign(?:ing)?[ -]?up\b|\bsign(?:ing)?[ -]?up\b.{0,80}\bnewsletters?\b", _I
    ),
    re.compile(r"^start your (?:day|morning|week) with\b", _I),
    # a newsletter box ending on its button: "Get our Daily Edition by email ... Free Sign Up"
    re.compile(r"\b(?:by e-?mail|(?:to|in) your inbox)\b.{0,80}\bsign[ -]?up\b|\bsign[ -]?up\s*$", _I),
    re.compile(r"\bsubscribe (?:now |today )?(?:to|for) our\b|\bsubscribe\b.{0,40}\bthe full story\b", _I),
    re.compile(r"^(?:to (?:view|read|see|continue reading)\b.{0,40}\bsubscri|already a subscriber\b)", _I),
    re.compile(r"^if you(?:'|’| a)?re (?:seeing this|already a subscriber)\b", _I),
    re.compile(
        r"^follow (?:us|the \w+|\w+) on (?:twitter|facebook|instagram|x|whatsapp|telegram|tiktok)\b", _I
    ),
    re.compile(r"\bdownload (?:the|our)\b.{0,40}\bapps?\b", _I),
    re.compile(r"^(?:send us (?:a message|your)|contact us (?:at|on|via)|we want to hear\b)", _I),
    re.compile(r"\b(?:submit|send|write) (?:a|your) letter to the editor\b|^read more letters\b", _I),
    re.compile(r"\bfor your personal,? non-?commercial use only\b|^to order presentation-ready copies\b", _I),
    re.compile(
        r"\bcopyrighted property of\b|\bwritten permission\b.{0,40}\b(?:reprint|reproduc|republish)", _I
    ),
    re.compile(
        r"^this (?:post|article|page|story) (?:contains|may contain|includes) (?:affiliate )?"
        r"(?:links|references to products)\b",
        _I,
    ),
    re.compile(r"\bwe may (?:receive|earn) (?:a )?(?:commission|compensation)\b", _I),
    re.compile(
        r"^(?:our standards|category|categories|tags|filed under|news date|release date|"
        r"last (?:modified|updated))\s*:",
        _I,
    ),
    re.compile(r"^also on \S+\.\w+", _I),
    re.compile(r"\|\s*(?:categories|tags|filed under)\s*:", _I),
    # a caption placing the people in the photo: "Senator Hill (right) looks on as ..."
    re.compile(r"\((?:left|right|centre|center|far left|far right|from left|l|r)\)", _I),
    re.compile(r"^you can (?:view|read|find|see) (?:our|the) .{0,60}\bhere\s*[.!]?$", _I),
    # a caption with its credit glued on: "... outside a co-working space in New York.Reuters"
    re.compile(r"[a-z]\.(?:Reuters|AP|AFP|Getty(?: Images)?|EPA|Bloomberg|Xinhua|Shutterstock|PA Media)\s*$"),
]
# Another page's excerpt, cut short: "... it would probably be […]", "... as opposed to macropolitics …" (more
# stories, related posts, cross-references). Any length: an excerpt runs as long as the card allows. A
# writer's own ellipsis sits on its word ("and then…"), and an elided quote goes on ("[…] and more").
_TRUNCATED = re.compile(r"(?:\[\s*(?:…|\.\.\.)\s*\]|\s(?:…|\.\.\.))\s*$")
# A link's hover card flattened into the text: "Gov. Kristi NoemKristi Lynn NoemSouth Dakota governor ...":
# a name glued to the first name it just followed.
_HOVER_CARD = re.compile(r"\b([A-Z][a-z]+) [A-Z][a-z]+\1\b")
# A standfirst or byline stamp: a clock time with a date or a "by" and hardly anything else.
_CLOCK_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_BYLINE_STAMP_WORDS = re.compile(
    r"\b(?:by|on|at|am|pm|a\.m\.|p\.m\.|[A-Z]{2,4}T|GMT|UTC|updated|published|posted|"
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|\d[\d/:.,-]*)\b",
    _I,
)
STAMP_MAX_WORDS = 15
STAMP_NAME_WORDS = 4  # what is left of "By Evan Symon, August 14, 2020 2:30 pm" is a name

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


def _is_stamp(text: str, word_count: int) -> bool:
    if word_count > STAMP_MAX_WORDS or not _CLOCK_TIME.search(text):
        return False
    rest = _BYLINE_STAMP_WORDS.sub(" ", text)
    names = re.findall(r"[^\W\d_]+", rest)
    return len(names) <= STAMP_NAME_WORDS and all(name[0].isupper() for name in names)


def is_promo(text: str) -> bool:
    """A line of what a site says about itself (sign-ups, paywall prompts, reprint notices...)."""
    return any(rule.search(text) for rule in _RULES_PROMO)


def _is_furniture_line(text: str, word_count: int) -> bool:
    if word_count > CAPTION_WORDS:
        return False
    if any(rule.search(text) for rule in _RULES_ANY_LENGTH) or is_promo(text):
        return True
    if _HOVER_CARD.search(text) or _is_stamp(text, word_count):
        return True
    if word_count <= QUESTION_WORDS and _READER_QUESTION.match(text):
        return True
    return word_count <= SHORT_WORDS and any(rule.search(text) for rule in _RULES_SHORT)


def is_boilerplate(text: str) -> bool:
    """True when a paragraph or sentence is page furniture rather than news.

    A short paragraph of several sentences ("What do you think? Leave a Comment") is furniture when each
    of its sentences is."""
    text = " ".join(text.split())
    if not text or _TRUNCATED.search(text):
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


def leading_dateline(text: str) -> str:
    """The dateline `strip_dateline` would drop from the start of `text` ("HAVANA, August 7 (Xinhua) --"),
    or "" if none."""
    return text[: len(text) - len(strip_dateline(text))]


FurnitureRole = Literal["hidden", "caption"]


def furniture_role(paragraph: str) -> FurnitureRole | None:
    """What the pipeline does with a paragraph that is furniture: short lines are hidden from every stage,
    longer ones (captions) stay visible to actors and dates but are never summarized. None: news."""
    if not is_boilerplate(paragraph):
        return None
    # What a site says about itself and other pages' excerpts name no actor of the story: hidden like a
    # short line, at any length.
    flat = " ".join(paragraph.split())
    if len(paragraph.split()) <= FURNITURE_MAX_WORDS or is_promo(flat) or _TRUNCATED.search(flat):
        return "hidden"
    return "caption"


# Credits and bylines: a name in them is the photographer's or the reporter's, not an actor of the story.
_FURNITURE_NAME_WORDS = frozenset(
    "photo photos photograph image images picture video comment comments click share subscribe newsletter "
    "advertisement caption getty".split()
)
BYLINE_MAX_WORDS = 12  # a "By ..." line longer than this is prose, not a byline
CREDIT_WINDOW = 80  # characters before a name searched for "Photo:" or "Reporting by"
_CREDIT = re.compile(r"\b(?:photo|photograph|picture|image|video|credit)s?\s*(?::|by\b)", re.IGNORECASE)
_BYLINE_START = re.compile(r"^\W*(?:by|written by|reported by)\s", re.IGNORECASE)
# A byline flattened into the first line of the text: "By . Daily Mail Reporter . PUBLISHED: ..."
_BYLINE_LEAD = re.compile(r"\W*(?:by|written by|reported by)[\s.]+", re.IGNORECASE)
_CONTRIBUTOR = re.compile(
    r"\b(?:reporting|writing|editing|edited|compiled|additional reporting)\s+by\b", re.IGNORECASE
)


def has_furniture_word(name: str) -> bool:
    """A "name" with a word of page furniture in it ("Getty Images", "Photo Gallery") names no actor."""
    return any(w.lower() in _FURNITURE_NAME_WORDS for w in name.split())


def in_credit_or_byline(text: str, start: int, end: int, *, person: bool) -> bool:
    """Whether the name at text[start:end] sits in a photo credit, a byline or a contributor line
    ("Reporting by", which only people are named in: `person`)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    # The cue sits just before the name; a whole one-paragraph article is one "line" (and quadratic).
    before = text[max(line_start, start - CREDIT_WINDOW) : start]
    if _CREDIT.search(before) or (person and _CONTRIBUTOR.search(before)):
        return True
    if _BYLINE_LEAD.fullmatch(text, line_start, start):
        return True
    return bool(_BYLINE_START.match(line)) and len(line.split()) <= BYLINE_MAX_WORDS


# A wire dateline opens the story with its place in capitals: "BELGRADE 1996-08-30", "BONN, Aug 30
# (Reuters) -", "WASHINGTON — Officials said". The NER misses most capitalised places or calls them ORG.
_DATELINE_PLACE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’-]*(?: [A-Z][A-Z.'’-]*){0,3})(?:\s*,\s*[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2})?"
    r"\s*(?:\d{4}-\d\d-\d\d|,?\s*(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d"
    r"|\([^)\n]{1,40}\)\s*[-–—]"  # "(Reuters) -"
    r"|(?:—|–|--)(?=[^\n]* [a-z]{2,} )(?: +[^ \n]+){8})",  # a bare dash (AP, newspapers) only before prose
    re.MULTILINE,
)
_SLUGS = frozenset("BREAKING EXCLUSIVE UPDATE ANALYSIS FACTBOX INSIGHT COLUMN OPINION CORRECTED".split())
DATELINE_LINES = 3  # the dateline is the first or second line (after a headline)


def dateline_place(text: str) -> tuple[str, int] | None:
    """The place of the story's dateline as written ("NEW YORK") and where it starts, if there is one."""
    head_end = -1
    for _ in range(DATELINE_LINES):
        head_end = text.find("\n", head_end + 1)
        if head_end < 0:
            head_end = len(text)
            break
    match = _DATELINE_PLACE.search(text, 0, head_end)
    if match is None:
        return None
    name = match["place"].rstrip(".'’-")
    if name in _SLUGS:
        return None
    return name, match.start("place")


# Time stamps and copyright: when the page changed and who owns it, not what the article speaks of. A line
# that starts so, or the part of a line after "| Updated" or a ©. "The report, published in 2019," is news.
_STAMP_WORDS = r"updated|published|posted|last (?:updated|modified)|modified"
_STAMP_LINE = re.compile(rf"\W*(?:{_STAMP_WORDS}|copyright|©|\(c\))", re.IGNORECASE)
# A time stamp inside running text: "PUBLISHED: . 10:39 EST, 3 March 2014" (copied pages keep them inline).
_CLOCK = r"\d{1,2}[:.]\d\d\s*(?:[ap]\.?m\.?\s*)?(?:[a-z]{2,4}\b)?[\s,]*"


def _stamp(words: str) -> str:
    return rf"\b(?:{words})\s*:[\s.|]*(?:{_CLOCK})?"


_STAMP_BEFORE = re.compile(
    rf"(?:[|•·]\s*(?:{_STAMP_WORDS})\b[^|•·\n]*|(?:©|\(c\)|copyright)\s*|{_stamp(_STAMP_WORDS)})$",
    re.IGNORECASE,
)
STAMP_REACH_CHARS = 60
# "Published: 3 March 2014": ends where the page's own publication date starts.
PUBLISHED_STAMP = re.compile(_stamp("published|posted"), re.IGNORECASE)


def in_stamp_line(text: str, position: int) -> bool:
    """Whether `position` is in a time stamp or copyright line (or the stamp part of a line)."""
    line_start = text.rfind("\n", 0, position) + 1
    reach = max(line_start, position - STAMP_REACH_CHARS)
    return bool(_STAMP_LINE.match(text, line_start) or _STAMP_BEFORE.search(text, reach, position))


_TITLE_SEPARATOR = re.compile(r"\s+[|–—-]+\s+|\s*[|·]\s*")  # "Headline - Site", "Headline | Site"
_HEADLINE_WORD = re.compile(r"[^\W_]+")
_PROSE_END = re.compile(r"""[.!?]["'”’)]*$""")
MIN_HEADLINE_WORDS = 3  # "micropolitics" as a title says nothing about a sentence that uses the word
HEADING_SHARE = 0.8  # an unclosed line made this much of the headline's words is the headline again


def _headline_words(text: str) -> list[str]:
    return [word.lower() for word in _HEADLINE_WORD.findall(text)]


def _contains(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def repeats_headline(sentence: str, title: str | None) -> bool:
    """The headline again, shown above the summary already: the title (or its part before " | Site") as a
    sentence, or a heading-like line (no closing stop) built from it ("How to Care for Hydrangeas to Get
    the Most Beautiful Blooms"). A sentence that opens with the headline's words and ends like prose
    ("t-SNE is a machine learning algorithm ... .") is news and stays."""
    if not title:
        return False
    words = _headline_words(sentence)
    if not words:
        return False
    heading = not _PROSE_END.search(sentence.rstrip())
    for part in {title, *_TITLE_SEPARATOR.split(title)}:
        head = _headline_words(part)
        if len(head) < MIN_HEADLINE_WORDS:
            continue
        if words == head:
            return True
        if heading and (
            _contains(words, head) or len(set(words) & set(head)) >= HEADING_SHARE * len(set(words))
        ):
            return True
    return False
