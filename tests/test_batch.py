"""`briefbot batch`: JSON Lines in, one line out per row in input order, errors confined to their row."""

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

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
    assert set(text) == {"id", "title", "url", "published", "summary", "actors", "dates"}
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
