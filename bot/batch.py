"""`briefbot batch`: JSON Lines in, one JSON line out per input, in input order.

Input rows: {"id", "text"?, "html"?, "url"?, "published"?: "YYYY-MM-DD"}. Output rows: the briefing
fields, or {"id", "error": {"code", "message"}} for that row alone. Benchmarks drive the core through this
contract: keep it stable.

Whatever a line holds, its answer is one line of valid JSON: `id` is echoed as given (lone surrogates as
U+FFFD), or null when the line is no JSON object or its id can't be written back as JSON (1e400 reads as
Infinity, which JSON has no word for); such rows get `bad_input`.
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
from bot.sanitize import scrub

log = logging.getLogger(__name__)

SHOWN_VALUE_CHARS = 40  # of a bad value quoted back in an error message or a log line


class _UnreadableNumber(ValueError):
    """A number the line spells validly (or nearly) that Python won't read; raised inside json.loads."""


def _read_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # Python reads at most 4300 digits (sys.get_int_max_str_digits): a DoS guard
        raise _UnreadableNumber(f"it has a number of {len(text)} digits, more than I read") from None


def _refuse_constant(name: str) -> Any:
    raise _UnreadableNumber(f"{name} is not a JSON number")


def parse_row(line: str, line_number: int) -> dict[str, Any]:
    """The JSON object on one line; BadInputError for anything else, however malformed."""
    try:
        row = json.loads(line, parse_int=_read_int, parse_constant=_refuse_constant)
    except _UnreadableNumber as exc:
        raise BadInputError(f"Line {line_number} is not valid JSON: {exc}.") from None
    except json.JSONDecodeError:
        raise BadInputError(f"Line {line_number} is not valid JSON.") from None
    except RecursionError:  # the C scanner's guard against deep nesting
        raise BadInputError(f"Line {line_number} nests too deeply.") from None
    if not isinstance(row, dict):
        raise BadInputError(f"Line {line_number} is not a JSON object.")
    return row


def _echoable_id(value: Any) -> Any:
    """The row's id, if JSON can carry it back; raises BadInputError otherwise."""
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, RecursionError):
        raise BadInputError('"id" must be a string or a number JSON can write back (not Infinity).') from None
    return value


def _shown(value: Any) -> str:
    """A short quote of a value for messages and logs (never the repr of a deep or huge structure)."""
    text = repr(value) if isinstance(value, str | int | float | bool) else type(value).__name__
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 1] + "…"


def _published(row: dict[str, Any]) -> date | None:
    value = row.get("published")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise BadInputError(f'"published" must be a date like 2021-09-01, not {_shown(value)}.')


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


async def brief_line(
    briefer: Briefer, line: str, line_number: int, *, with_text: bool = False
) -> dict[str, Any]:
    row_id: Any = None
    try:
        row = parse_row(line, line_number)
        row_id = _echoable_id(row.get("id"))
        briefing = await _brief_row(briefer, row)
    except BriefError as error:
        log.info("batch row %s (line %d): %s", _shown(row_id), line_number, error.code)
        return {"id": row_id, "error": error.to_dict()}
    except Exception:
        log.exception("batch row %s (line %d) failed", _shown(row_id), line_number)
        return {"id": row_id, "error": InternalError().to_dict()}
    return {"id": row_id, **briefing.to_dict(with_text=with_text)}


def to_json_line(row: dict[str, Any]) -> str:
    """One output line: strict JSON (no NaN), and valid UTF-8 once encoded (no lone surrogate anywhere)."""
    return scrub(json.dumps(row, ensure_ascii=False, allow_nan=False))


async def run_batch(
    lines: AsyncIterator[str],
    briefer: Briefer,
    write: Callable[[str], Awaitable[None]],
    *,
    window: int = 16,
    with_text: bool = False,
) -> int:
    """Brief every non-empty line; up to `window` rows are in flight, results leave in input order.
    `with_text` adds each article's text (what summary spans and date offsets index) to its line."""
    pending: deque[asyncio.Task[dict[str, Any]]] = deque()
    count = 0
    line_number = 0
    async for line in lines:
        line_number += 1
        if not line.strip():
            continue
        pending.append(asyncio.create_task(brief_line(briefer, line, line_number, with_text=with_text)))
        if len(pending) >= window:
            await write(to_json_line(await pending.popleft()))
            count += 1
    while pending:
        await write(to_json_line(await pending.popleft()))
        count += 1
    return count
