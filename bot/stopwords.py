"""Stop-word lists (sumy's), loaded once per process and shared: the summarizer, the pipeline's language
check, alert matching and story dedupe all read them from here."""

from __future__ import annotations

import functools

from sumy.utils import get_stop_words


@functools.cache
def stop_words(language: str) -> frozenset[str]:
    """sumy's stop words for `language` ("english", "german", ...)."""
    return frozenset(get_stop_words(language))
