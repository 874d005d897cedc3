"""`briefbot batch`: JSON Lines in, one JSON line out per input, in input order.

Input rows: {"id", "text"?, "html"?, "url"?, "published"?: "YYYY-MM-DD"}. Output rows: the briefing
fields, or {"id", "error": {"code", "message"}} for that row alone. Benchmarks drive the core through this
contract: keep it stable.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

from bot.briefer import Briefer
from bot.errors import BadInputError, BriefError, InternalError
from bot.models import Briefing

log = logging.getLogger(__name__)


def _published(row: dict[str, Any]) -> date | None:
    value = row.get("published")
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadInputError(f'"published" must be a date like 2021-09-01, not {value!r}.') from None


def _field(row: dict[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is not None and not isinstance(value, str):
        raise BadInputError(f'"{name}" must be a string.')
    return value


async def _brief_row(briefer: Briefer, row: dict[str, Any]) -> Briefing:
    published = _published(row)
    html, text, url = _field(row, "html"), _field(row, "text"), _field(row, "url")
    if html is not None:
        return await briefer.brief_html(html, url=url, published=published)
    if text is not None:
        return await briefer.brief_text(text, published=published)
    if url is not None:
        return await briefer.brief_url(url, published=published)
    raise BadInputError('Each row needs "text", "html" or "url".')


async def brief_line(briefer: Briefer, line: str, line_number: int) -> dict[str, Any]:
    row_id: Any = None
    try:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise BadInputError(f"Line {line_number} is not valid JSON.") from None
        if not isinstance(row, dict):
            raise BadInputError(f"Line {line_number} is not a JSON object.")
        row_id = row.get("id")
        briefing = await _brief_row(briefer, row)
    except BriefError as error:
        log.info("batch row %s (line %d): %s", row_id, line_number, error.code)
        return {"id": row_id, "error": error.to_dict()}
    except Exception:
        log.exception("batch row %s (line %d) failed", row_id, line_number)
        return {"id": row_id, "error": InternalError().to_dict()}
    return {"id": row_id, **briefing.to_dict()}


async def run_batch(
    lines: AsyncIterator[str], briefer: Briefer, write: Callable[[str], Awaitable[None]], *, window: int = 16
) -> int:
    """Brief every non-empty line; up to `window` rows are in flight, results leave in input order."""
    pending: deque[asyncio.Task[dict[str, Any]]] = deque()
    count = 0
    line_number = 0
    async for line in lines:
        line_number += 1
        if not line.strip():
            continue
        pending.append(asyncio.create_task(brief_line(briefer, line, line_number)))
        if len(pending) >= window:
            await write(json.dumps(await pending.popleft(), ensure_ascii=False))
            count += 1
    while pending:
        await write(json.dumps(await pending.popleft(), ensure_ascii=False))
        count += 1
    return count
