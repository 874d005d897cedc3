"""`briefbot batch`: JSON Lines in, one line out per row in input order, errors confined to their row."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes import BRIEFING_KEYS
from pageserver import PageServer

from bot.batch import run_batch
from bot.briefer import Briefer
from bot.config import FetchSettings, Settings
from bot.fetch import Fetcher
from bot.workers import BriefingWorkers

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_HTML = (ROOT / "examples" / "harbour_tunnel.html").read_text(encoding="utf-8")
BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))
STORY = (
    "The city council of Northbridge voted on Tuesday to close the old river bridge to cars from next "
    "month. Engineers found cracks in two of its supports in January 2024, the council said. Mayor Ellen "
    "Brook told reporters that buses and bicycles would still cross until repairs begin in the spring. "
    "Shop owners on Mill Street warned that the closure would cost them customers. The regional transport "
    "agency said a temporary ferry could run by June if the budget allows it."
)


def rows(page_server: PageServer) -> list[str]:
    article = page_server.page("/tunnel.html", EXAMPLE_HTML)
    missing = page_server.page("/gone", "<html><body>Not here</body></html>", status=404)
    return [
        json.dumps({"id": "text", "text": STORY, "published": "2024-03-05"}),
        json.dumps({"id": "html", "html": EXAMPLE_HTML}),
        "",  # blank lines are skipped, not answered
        json.dumps({"id": "url", "url": article}),
        json.dumps({"id": "gone", "url": missing}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "empty"}),
        json.dumps({"id": "bad-date", "text": STORY, "published": "5 March"}),
        json.dumps({"id": 7, "text": 42}),
        json.dumps({"id": "last", "text": STORY}),
    ]


def check_rows(out: list[dict]) -> None:
    assert [row["id"] for row in out] == [
        "text",
        "html",
        "url",
        "gone",
        None,
        None,
        "empty",
        "bad-date",
        7,
        "last",
    ]
    by_id = {row["id"]: row for row in out if row["id"] is not None}
    text = by_id["text"]
    assert set(text) == {"id"} | BRIEFING_KEYS
    assert text["truncated"] is False
    assert len(text["summary_spans"]) == len(text["summary"])
    for sentence, span in zip(text["summary"], text["summary_spans"], strict=True):
        assert " ".join(STORY[span["start"] : span["end"]].split()) == sentence, "spans index the input text"
    assert text["published"] == "2024-03-05"
    assert {"2024-01"} <= {d["value"] for d in text["dates"]}
    for d in text["dates"]:
        assert STORY[d["start"] : d["end"]] == d["text"], "offsets index the input text"
    assert "Ellen Brook" in {a["name"] for a in text["actors"]}
    assert (
        by_id["html"]["title"]
        == by_id["url"]["title"]
        == "Helsinki and Tallinn sign deal to study undersea rail tunnel"
    )
    assert by_id["url"]["url"].endswith("/tunnel.html")
    assert by_id["gone"]["error"]["code"] == "not_found"
    assert [row["error"]["code"] for row in out if row["id"] is None] == ["bad_input", "bad_input"]
    assert by_id["empty"]["error"]["code"] == "bad_input"
    assert by_id["bad-date"]["error"]["code"] == "bad_input"
    assert "published" in by_id["bad-date"]["error"]["message"]
    assert by_id[7]["error"]["code"] == "bad_input"
    assert by_id["last"]["summary"]


async def test_batch_in_process_keeps_order_and_isolates_errors(
    page_server: PageServer, fetch_settings: FetchSettings
) -> None:
    lines = rows(page_server)

    async def source() -> AsyncIterator[str]:
        for line in lines:
            yield line + "\n"

    out: list[dict] = []

    async def write(line: str) -> None:
        out.append(json.loads(line))

    settings = Settings(fetch=fetch_settings)
    async with Fetcher(fetch_settings) as fetcher, BriefingWorkers.in_thread(settings) as workers:
        count = await run_batch(source(), Briefer(fetcher, workers), write, window=3)
    assert count == len(out) == 10
    check_rows(out)


async def test_batch_command_uses_a_process_pool(page_server: PageServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n')
    process = await asyncio.create_subprocess_exec(
        BRIEFBOT, "batch", "--workers", "2", "--config", str(config),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    payload = ("\n".join(rows(page_server)) + "\n").encode()
    stdout, stderr = await asyncio.wait_for(process.communicate(payload), timeout=300)
    assert process.returncode == 0, stderr.decode()
    check_rows([json.loads(line) for line in stdout.decode().splitlines()])
    assert b"Traceback" not in stderr


# --- hostile rows: each gets a valid JSON line with its own code, never internal_error ---


def strict_json(line: str) -> dict:
    """A line as a strict JSON parser reads it: no NaN or Infinity, and valid UTF-8 once encoded."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    line.encode("utf-8")  # raises on a lone surrogate
    return json.loads(line, parse_constant=refuse)


def hostile_rows(page_server: PageServer) -> list[tuple[str, str | int | None, str]]:
    """(line, id echoed, code or "ok")."""
    page = (
        "<html><head><title>Bridge \\udcae news</title></head><body><p>"
        + STORY
        + " \\udcae</p></body></html>"
    )
    odd_path = page_server.page("/p\ufffd", f"<html><body><p>{STORY}</p></body></html>")
    assert odd_path.endswith("\ufffd")
    long_id = "9" * 4000  # under Python's 4300-digit limit: read and echoed as it is
    return [
        ('{"id": "text", "text": "' + STORY + ' \\udcae"}', "text", "ok"),
        ('{"id": "html", "html": "' + page.replace('"', '\\"') + '"}', "html", "ok"),
        ('{"id": "url", "url": "' + odd_path.removesuffix("\ufffd") + '\\udcae"}', "url", "ok"),
        ('{"id": "sur\\udcaerogate", "text": "' + STORY + '"}', "sur\ufffdrogate", "ok"),
        (json.dumps({"id": "dawn", "text": STORY, "published": "0001-01-01"}), "dawn", "ok"),
        (json.dumps({"id": "dusk", "text": STORY, "published": "9999-12-31"}), "dusk", "ok"),
        (json.dumps({"id": "label", "url": "http://" + "a" * 64 + ".localhost/"}), "label", "invalid_url"),
        (json.dumps({"id": "dots", "url": "http://a..localhost/"}), "dots", "invalid_url"),
        (json.dumps({"id": "port", "url": "http://localhost:99999/"}), "port", "invalid_url"),
        ('{"id": ' + "1" * 5000 + ', "text": "x"}', None, "bad_input"),
        ('{"id": ' + "[" * 2000 + "]" * 2000 + ', "text": "x"}', None, "bad_input"),
        ('{"id": NaN, "text": "x"}', None, "bad_input"),
        ('{"id": -Infinity, "text": "x"}', None, "bad_input"),
        ('{"id": 1e400, "text": "' + STORY + '"}', None, "bad_input"),
        ('{"id": ' + long_id + ', "text": "x y"}', int(long_id), "too_short"),
        ('{"id": "deep", "text": ' + "[" * 500 + "]" * 500 + "}", "deep", "bad_input"),
        ('{"id": "when", "text": "x", "published": ' + "[" * 500 + "]" * 500 + "}", "when", "bad_input"),
        ('{"id": "last", "text": "' + STORY + '"}', "last", "ok"),
    ]


def check_hostile(out_lines: list[str], expected: list[tuple[str, str | int | None, str]]) -> None:
    out = [strict_json(line) for line in out_lines]
    assert len(out) == len(expected)
    got = [(row["id"], row.get("error", {}).get("code", "ok")) for row in out]
    assert got == [(row_id, code) for _, row_id, code in expected]
    by_id = {row["id"]: row for row in out if isinstance(row["id"], str)}
    assert by_id["text"]["summary"] and by_id["sur\ufffdrogate"]["summary"]
    assert by_id["html"]["title"] == "Bridge \ufffd news"
    assert by_id["url"]["url"].endswith("/p%EF%BF%BD")
    assert (by_id["dawn"]["published"], by_id["dusk"]["published"]) == ("0001-01-01", "9999-12-31")
    assert all(d["value"][:4] != "0000" for row in (by_id["dawn"], by_id["dusk"]) for d in row["dates"])
    assert "host name" in by_id["label"]["error"]["message"]


async def test_hostile_rows_each_get_their_own_code(
    page_server: PageServer, fetch_settings: FetchSettings
) -> None:
    expected = hostile_rows(page_server)

    async def source() -> AsyncIterator[str]:
        for line, _, _ in expected:
            yield line + "\n"

    out: list[str] = []

    async def write(line: str) -> None:
        out.append(line)

    settings = Settings(fetch=fetch_settings)
    async with Fetcher(fetch_settings) as fetcher, BriefingWorkers.in_thread(settings) as workers:
        await run_batch(source(), Briefer(fetcher, workers), write, window=4)
    check_hostile(out, expected)


@pytest.mark.parametrize(
    "locale_env",
    [{"PYTHONIOENCODING": "utf-8:strict", "LANG": "en_US.UTF-8"}, {"LC_ALL": "C.UTF-8"}],
    ids=["strict-utf8", "c-utf8"],
)
async def test_batch_command_writes_valid_utf8_json_whatever_the_locale(
    page_server: PageServer, tmp_path: Path, locale_env: dict[str, str]
) -> None:
    # Before: a strict stdout ended the whole batch at the first lone surrogate (exit 1, one line out);
    # C.UTF-8's surrogateescape wrote it as a raw 0xAE byte. Bytes that are not UTF-8 on stdin likewise.
    config = tmp_path / "config.toml"
    config.write_text(f'[fetch]\nallow_private_networks = ["{page_server.network}"]\n')
    expected = hostile_rows(page_server)
    payload = "".join(line + "\n" for line, _, _ in expected).encode("utf-8")
    payload += b'{"id": "latin-1", "text": "Caf\xe9 ' + STORY.encode() + b'"}\n'
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LC_ALL", "LANG")}
    process = await asyncio.create_subprocess_exec(
        BRIEFBOT, "batch", "--workers", "1", "--config", str(config), env={**env, **locale_env},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(payload), timeout=300)
    assert process.returncode == 0, stderr.decode()
    lines = stdout.decode("utf-8").splitlines()  # strict: raises on any byte that is not UTF-8
    check_hostile(lines[:-1], expected)
    last = strict_json(lines[-1])
    assert last["id"] == "latin-1" and last["summary"], last
    assert b"Traceback" not in stderr
