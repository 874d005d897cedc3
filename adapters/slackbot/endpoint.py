"""The HTTP-mode endpoint: checks a request's headers, encoding and signature before anything parses it.

slack-bolt's own aiohttp server parses the body before verifying it (so unsigned bytes that are not JSON
become a 500 with a traceback) and its verifier calls int() on the timestamp header ("abc" → 500). Here
malformed or unsigned requests get a 401 and unparseable signed ones a 400, each with a stable code and one
log line; only then does bolt dispatch the request (and verify it again, as it always does).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
MAX_CLOCK_SKEW_SECONDS = 5 * 60  # what Slack documents and bolt enforces
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # epoch seconds; ASCII digits only (int() takes more)
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")  # hmac.compare_digest refuses non-ASCII text with a TypeError


class Refused(Exception):
    """A request answered with an error status and a stable code, never passed to bolt."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


def slack_endpoint(
    app: AsyncApp, path: str, signing_secret: str, *, now: Callable[[], float] = time.time
) -> web.Application:
    """An aiohttp application serving Slack's signed POSTs at `path` with `app`."""
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.Response:
        try:
            bolt_request = await _verified(request, verifier, now())
        except Refused as refused:
            code, status = refused.code, refused.status
            log.warning("slack: refused a request from %s: %s (%d)", request.remote, code, status)
            return web.json_response({"error": refused.code}, status=refused.status)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    web_app = web.Application()
    web_app.router.add_post(path, handle)
    return web_app


async def _verified(request: web.Request, verifier: SignatureVerifier, now: float) -> AsyncBoltRequest:
    timestamp = _single_header(request, TIMESTAMP_HEADER)
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
        raise Refused(401, "bad_timestamp")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise Refused(401, "stale_timestamp")
    signature = _single_header(request, SIGNATURE_HEADER)
    if signature is None or not _SIGNATURE.fullmatch(signature):
        raise Refused(401, "bad_signature")
    try:
        body = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "bad_encoding") from None
    if not verifier.is_valid(body, timestamp, signature):
        raise Refused(401, "bad_signature")
    # One value each, for bolt.
    headers: dict[str, str | Sequence[str]] = {name: request.headers[name] for name in request.headers}
    try:
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
    except (ValueError, TypeError, AttributeError, KeyError):  # not JSON, or JSON of the wrong shape
        raise Refused(400, "bad_body") from None
    payload: object = bolt_request.body  # typed a dict; JSON that is not an object arrives as it is
    # An event that is not an object trips bolt's own middleware (AttributeError → 500).
    if not isinstance(payload, dict) or not payload or not isinstance(payload.get("event", {}), dict):
        raise Refused(400, "bad_body")
    return bolt_request


def _single_header(request: web.Request, name: str) -> str | None:
    """The header's value when it is sent exactly once (two copies could verify one and act on another)."""
    values = request.headers.getall(name, [])
    return values[0] if len(values) == 1 else None
