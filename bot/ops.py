"""The operator's endpoint (`[ops] listen`): /healthz for a load balancer or supervisor, /metrics for
Prometheus. Off by default; it serves nothing else and reads no request body."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import REGISTRY

log = logging.getLogger(__name__)


def ops_app(healthy: Callable[[], dict[str, bool]]) -> web.Application:
    """`healthy()` says, per part (each adapter), whether it works now: /healthz is 503 unless all do."""

    async def healthz(_: web.Request) -> web.Response:
        parts = healthy()
        ok = all(parts.values())
        return web.json_response({"ok": ok, "parts": parts}, status=200 if ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


@asynccontextmanager
async def serving(address: tuple[str, int], healthy: Callable[[], dict[str, bool]]) -> AsyncIterator[None]:
    runner = web.AppRunner(ops_app(healthy), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, *address).start()
        log.info("ops: /healthz and /metrics on http://%s:%d", *address)
        yield
    finally:
        await runner.cleanup()
