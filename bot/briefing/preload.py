"""Import everything a briefing needs and load its models, leanly (see bot.briefing.forkserver for sharing
them between worker processes)."""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import types
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _blocked(module: str) -> Iterator[None]:
    """Within the block `import module` raises ImportError (unless it is already imported)."""
    if module in sys.modules:
        yield
        return
    sys.modules[module] = None  # type: ignore[assignment]  # the import system's "known missing"
    try:
        yield
    finally:
        if sys.modules.get(module, ...) is None:
            del sys.modules[module]


def _spacy_info(*args: Any, **kwargs: Any) -> Any:
    """`spacy.info`, imported when called."""
    from spacy.cli.info import info  # noqa: PLC0415

    return info(*args, **kwargs)


@contextlib.contextmanager
def _spacy_cli_deferred() -> Iterator[None]:
    """Within the block, `import spacy` finds a stand-in for spacy.cli.info: spacy/__init__ imports it only
    to offer `spacy.info()`, and with it the whole CLI (typer, click, rich, httpx, weasel), ~0.25 s and
    ~10 MB per process that a briefing never uses. Afterwards the stand-in is gone, so `import spacy.cli`
    gets the real one, and `spacy.info()` still works (it imports the real one when called)."""
    if "spacy" in sys.modules:
        yield
        return
    package, module = types.ModuleType("spacy.cli"), types.ModuleType("spacy.cli.info")
    package.__path__ = []
    module.info = _spacy_info  # type: ignore[attr-defined]
    sys.modules["spacy.cli"], sys.modules["spacy.cli.info"] = package, module
    try:
        yield
    finally:
        for name, stand_in in (("spacy.cli", package), ("spacy.cli.info", module)):
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


def import_lean() -> None:
    """sumy's stemmer imports nltk, whose collocation, parser and alignment modules import scipy (stats,
    sparse) for what we never run: ~75 MB and ~0.6 s per process. nltk guards each of those imports and
    does without scipy; it stays importable by anything else afterwards. spaCy comes without its CLI."""
    with _blocked("scipy"):
        importlib.import_module("nltk")
    with _spacy_cli_deferred():
        importlib.import_module("spacy")


def load() -> None:
    """Import the pipeline and load its models (idempotent)."""
    import_lean()
    from bot.briefing import pipeline  # noqa: PLC0415

    pipeline.warm_up()
