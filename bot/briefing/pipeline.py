"""The briefing pipeline: Source → Briefing. Pure, blocking work: callers run it in a worker.

Offsets stay valid: text input is never rewritten, only masked (the title line and page furniture become
spaces), so every date's start/end slices the caller's own text.
"""

from __future__ import annotations

import bisect
import re
from datetime import date

from bot.briefing.actors import find_actors
from bot.briefing.boilerplate import furniture_role, repeats_headline, strip_dateline
from bot.briefing.dates import find_dates, stamped_publication
from bot.briefing.extract import extract_article
from bot.briefing.limits import LONG_RUN, html_cut, text_cut
from bot.briefing.nlp import annotate, get_pipeline
from bot.briefing.sentences import split_sentences, trimmed_paragraphs
from bot.briefing.summarize import summarize
from bot.config import Settings
from bot.errors import BadInputError, TooShortError, UnsupportedLanguageError
from bot.models import Article, Briefing, Sentence, Source, SummarySpan
from bot.stopwords import stop_words

# Fewer words than this on a page means extraction found no article; pasted text may be a short wire item
# (a 20-word result still has actors and dates worth listing).
MIN_PAGE_WORDS = 40
MIN_TEXT_WORDS = 10
# English prose runs at ~0.45 of sumy's English stop words. Below CLEARLY_ENGLISH the text is English only
# if no other language's stop words do better: English result tables and lists score ~0.06-0.2 with every
# other list lower, while German, French, Dutch... prose scores higher on its own list or ~0 on English.
CLEARLY_ENGLISH = 0.2
MIN_ENGLISH_SHARE = 0.05
OTHER_LANGUAGES = (
    "french",
    "german",
    "spanish",
    "portuguese",
    "italian",
    "swedish",
    "polish",
    "czech",
    "slovak",
)
MAX_TITLE_CHARS = 200

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_ENGLISH_STOP_WORDS = stop_words("english")
_OTHER_STOP_WORDS = tuple(stop_words(language) for language in OTHER_LANGUAGES)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out spans with spaces (newlines kept) so offsets into the text do not move."""
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _looks_like_title(paragraph: str, rest_exists: bool) -> bool:
    return (
        rest_exists
        and "\n" not in paragraph
        and len(paragraph) <= MAX_TITLE_CHARS
        and not paragraph.rstrip().endswith((".", "!", "?", '"', "”"))
    )


def _check_language(words: list[str]) -> None:
    lowered = [w.lower() for w in words]

    def share(stop_words: frozenset[str]) -> float:
        return sum(w in stop_words for w in lowered) / len(lowered)

    english = share(_ENGLISH_STOP_WORDS)
    if english >= CLEARLY_ENGLISH:
        return
    if english < MIN_ENGLISH_SHARE or any(share(other) > english for other in _OTHER_STOP_WORDS):
        raise UnsupportedLanguageError()


def _spans(starts: list[int], chosen: list[Sentence]) -> list[SummarySpan]:
    """Where each summary line is in the article text (its dateline left out, as in the line), and the index
    of its paragraph among all of the text's paragraphs (`starts`: hidden ones included, as in the text)."""
    spans = []
    for s in chosen:
        start = s.start + len(s.text) - len(strip_dateline(s.text))  # the summary line drops the dateline
        spans.append(SummarySpan(start, s.end, bisect.bisect_right(starts, s.start) - 1))
    return spans


def brief_article(
    article: Article, settings: Settings, *, title_in_text: bool = False, min_words: int = MIN_PAGE_WORDS
) -> Briefing:
    cut = text_cut(article.text)
    text = article.text[:cut]  # a prefix: offsets into it are offsets into the caller's text
    paragraphs = trimmed_paragraphs(text)
    starts = [start for start, _ in paragraphs]  # before the title's paragraph is taken out
    title = article.title
    # masked for every stage; over-long space-free runs cost spaCy's tokenizer quadratic time
    hidden: list[tuple[int, int]] = [run.span() for run in LONG_RUN.finditer(text)]
    not_summary: list[tuple[int, int]] = []  # visible to actors and dates, never summarized (captions)
    if title_in_text and paragraphs and title is None:
        first = text[slice(*paragraphs[0])]
        if _looks_like_title(first, len(paragraphs) > 1):
            title = first.strip()
            hidden.append(paragraphs.pop(0))
    for span in paragraphs:
        role = furniture_role(text[slice(*span)])
        if role == "hidden":
            hidden.append(span)
        elif role == "caption":
            not_summary.append(span)
    masked = _mask(text, hidden)

    visible = split_sentences(masked)
    words = [w for s in visible for w in _WORD.findall(s.text)]
    if len(words) < min_words:
        raise TooShortError()
    _check_language(words)

    # Captions are never summary lines, unless the text is nothing but caption-like lines (a wire item
    # whose every sentence was copied with a detached " ." looks like that).
    sentences = [s for s in visible if not any(start <= s.start < end for start, end in not_summary)]
    sentences = [s for s in sentences if not repeats_headline(s.text, title)]  # the title shows above it
    chosen = summarize(
        sentences or visible, max_sentences=settings.summary.sentences, max_chars=settings.summary.max_chars
    )
    summary = [" ".join(strip_dateline(s.text).split()) for s in chosen]
    doc = annotate(masked, [(s.start, s.end) for s in chosen], sentences=visible)
    published = article.published or stamped_publication(masked)
    return Briefing(
        title=title,
        url=article.url,
        published=published,
        summary=summary,
        actors=find_actors(doc, chosen),
        dates=find_dates(doc, published or date.today()),
        truncated=article.truncated or cut < len(article.text),
        summary_spans=_spans(starts, chosen),
        text=text,
    )


def brief_source(source: Source, settings: Settings) -> Briefing:
    """Brief pasted text or a fetched page; the one entry point workers run."""
    if source.html is not None:
        cut = html_cut(source.html)
        article = extract_article(source.html[:cut], url=source.url)
        article.truncated = cut < len(source.html)
        if source.published:
            article.published = source.published
        return brief_article(article, settings)
    if source.text is not None and source.text.strip():
        article = Article(text=source.text, url=source.url, published=source.published)
        return brief_article(article, settings, title_in_text=True, min_words=MIN_TEXT_WORDS)
    raise BadInputError()


def warm_up() -> None:
    """Load the NLP model and run the pipeline once on a tiny text so lazy imports happen now."""
    get_pipeline()
    find_dates(get_pipeline()("It happened on 3 March 2020."), date(2020, 3, 4))
