"""The process boundary in imports, read from the source (ast, nothing imported): bot/ never imports a chat
SDK, the pipeline in bot/briefing/ never imports asyncio or aiohttp, and the rest of bot/ reaches the
pipeline only through bot.worker_process, the worker side of the boundary."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
CHAT_SDKS = frozenset(["slack_bolt", "slack_sdk", "discord"])
EVENT_LOOP = frozenset(["asyncio", "aiohttp"])
IMPORT_CALLS = frozenset(["import_module", "__import__"])  # importlib.import_module("x"), __import__("x")


def imported_modules(source: str) -> Iterator[str]:
    """Every module the source imports, wherever the import sits: `import a.b`, `from a.b import c` (a.b and
    a.b.c: c may be a module), and a literal name passed to importlib.import_module or __import__."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in IMPORT_CALLS and isinstance(node.args[0].value, str):
                yield node.args[0].value


def forbidden(source: str, packages: frozenset[str]) -> list[str]:
    return sorted({m for m in imported_modules(source) if m.split(".")[0] in packages})


def violations(root: Path, packages: frozenset[str]) -> dict[str, list[str]]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        if bad := forbidden(path.read_text(encoding="utf-8"), packages):
            found[str(path.relative_to(BOT.parent))] = bad
    return found


def test_bot_never_imports_a_chat_sdk() -> None:
    assert violations(BOT, CHAT_SDKS) == {}


def test_the_pipeline_never_imports_the_event_loop() -> None:
    assert violations(BOT / "briefing", EVENT_LOOP) == {}


def test_the_bot_reaches_the_pipeline_only_through_the_worker_process() -> None:
    def imports_the_pipeline(path: Path) -> bool:
        modules = imported_modules(path.read_text(encoding="utf-8"))
        return any(m == "bot.briefing" or m.startswith("bot.briefing.") for m in modules)

    outside = [p for p in BOT.rglob("*.py") if BOT / "briefing" not in p.parents]
    importers = {str(p.relative_to(BOT.parent)) for p in outside if imports_the_pipeline(p)}
    assert importers == {"bot/worker_process.py"}


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio",
        "import aiohttp.web",
        "import os, asyncio as aio",
        "from asyncio import run",
        "from aiohttp.web import Application",
        "def later():\n    import asyncio",
        "try:\n    from aiohttp import ClientSession\nexcept ImportError:\n    pass",
        "import importlib\nimportlib.import_module('asyncio')",
        "__import__('aiohttp')",
    ],
)
def test_every_form_of_import_is_seen(source: str) -> None:
    assert forbidden(source, EVENT_LOOP)
    assert forbidden(source.replace("asyncio", "discord").replace("aiohttp", "slack_sdk"), CHAT_SDKS)


def test_lookalike_names_are_not_imports() -> None:
    assert (
        forbidden(
            "import asyncio_extras\nfrom bot.fetch import aiohttp_session\nx = 'import asyncio'", EVENT_LOOP
        )
        == []
    )
