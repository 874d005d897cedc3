"""This process as one replica of several sharing a store: its id, and the heartbeat that shows it alive."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time

from bot.store import Store

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
ALIVE_SECONDS = 60.0  # a replica not seen for this long is not counted alive (`briefbot run --check`)
FORGET_SECONDS = 7 * 24 * 3600.0  # rows of replicas gone this long are dropped


def new_replica_id() -> str:
    """host:pid:random, made once per run: a restarted process is a new replica (its old leases and claims
    are not its own any more, they expire)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


async def heartbeat(store: Store, replica: str, *, every: float = HEARTBEAT_SECONDS) -> None:
    """Record `replica` as seen, every `every` seconds until cancelled; a store hiccup skips one beat."""
    started = time.time()
    beats = 0
    while True:
        try:
            await store.heartbeat(replica, started_at=started, now=time.time())
            if beats % 1000 == 0:  # now and then: rows of long-gone replicas go
                await store.forget_replicas(time.time() - FORGET_SECONDS)
        except Exception:
            log.warning("replica heartbeat failed; trying again in %.0f s", every, exc_info=True)
        beats += 1
        await asyncio.sleep(every)
