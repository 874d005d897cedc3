"""The operator's endpoint (`[ops] listen`): /healthz for a load balancer or supervisor, /metrics for
Prometheus. Off by default; it serves nothing else and reads no request body."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import ALERT_QUEUE_AGE, ALERT_QUEUE_DEPTH, REGISTRY
from bot.store import Store

log = logging.getLogger(__name__)


async def read_alert_queue(store: Store, now: float) -> None:
    """Set the queue gauges from the store: the whole cluster's queue, not what this process claimed. NaN
    when the store does not answer, so a scrape shows "unknown" rather than an old value."""
    try:
        queue = await store.alert_queue()
    except Exception:  # the rest of the scrape still matters when the store is down
        log.warning("ops: could not read the alert queue", exc_info=True)
        ALERT_QUEUE_DEPTH.set(math.nan)
        ALERT_QUEUE_AGE.set(math.nan)
        return
    ALERT_QUEUE_DEPTH.set(queue.depth)
    oldest = queue.oldest_created_at
    ALERT_QUEUE_AGE.set(0.0 if oldest is None else max(now - oldest, 0.0))


def ops_app(healthy: Callable[[], dict[str, bool]], store: Store) -> web.Application:
    """`healthy()` says, per part (each adapter), whether it works now: /healthz is 503 unless all do."""

    async def healthz(_: web.Request) -> web.Response:
        parts = healthy()
        ok = all(parts.values())
        return web.json_response({"ok": ok, "parts": parts}, status=200 if ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        await read_alert_queue(store, time.time())  # one query per scrape, none per delivery
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


@asynccontextmanager
async def serving(
    address: tuple[str, int], healthy: Callable[[], dict[str, bool]], store: Store
) -> AsyncIterator[None]:
    runner = web.AppRunner(ops_app(healthy, store), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, *address).start()
        log.info("ops: /healthz and /metrics on http://%s:%d", *address)
        yield
    finally:
        await runner.cleanup()
