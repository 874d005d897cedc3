"""Act on each Slack delivery once: event retries and replayed commands or shortcuts are acked, not acted on.

Slack resends an event (same `event_id`, `X-Slack-Retry-Num` / Socket Mode `retry_attempt`) when an ack is
late, and anyone who captured a signed request can replay it within the five minutes its timestamp is
accepted. Every delivery is claimed in the store before a listener sees it; a copy finds its id claimed and
gets an empty 200, which is the ack in HTTP and in Socket Mode alike. Claims are durable, so a copy that
arrives after a restart is caught too, and pruned after a day, long after Slack stops retrying.

A claim is taken on arrival (at most once): if the bot dies between the claim and its reply, Slack's retry
of that delivery is not answered. Slack only retries deliveries that were not acked, and ours are acked at
once, so that trade is a rare lost reply against a certain double post.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.engines import DatabaseError

log = logging.getLogger(__name__)

PLATFORM = "slack"
RETENTION_SECONDS = 24 * 3600.0  # Slack retries for minutes and signed requests expire after 5
_PRUNE_EVERY_SECONDS = 3600.0


class InboundClaims(Protocol):
    """The store's part used here (bot.store.Store implements it)."""

    async def claim_inbound_delivery(self, platform: str, delivery_id: str, at: float) -> bool: ...
    async def forget_inbound_deliveries(self, before: float) -> int: ...


def delivery_id(body: Mapping[str, Any], team: str | None) -> str | None:
    """What makes one delivery unique, whatever its retries and replays share; None for requests that are
    never acted on (url_verification, ssl_check) or that carry no id.

    Events have `event_id`; slash commands and interactive payloads (shortcuts, actions, view submissions)
    have a `trigger_id` made afresh for each invocation. Ids are keyed by workspace, as Slack scopes them.
    """
    if body.get("type") == "event_callback":
        kind, value = "event", body.get("event_id")
    elif "command" in body:
        kind, value = "command", body.get("trigger_id")
    else:
        kind, value = "interactive", body.get("trigger_id")
    if not isinstance(value, str) or not value:
        return None
    return f"{kind}:{team or '-'}:{value}"


class DeliveryDedupe:
    """A global slack-bolt middleware: claims each delivery's id; a copy is acked and goes no further."""

    def __init__(self, claims: InboundClaims, *, now: Callable[[], float] = time.time) -> None:
        self._claims = claims
        self._now = now
        self._pruned_at: float | None = None

    async def middleware(
        self,
        body: dict[str, Any],
        context: AsyncBoltContext,
        # bolt passes arguments by name; `next_` spares the builtin.
        next_: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        key = delivery_id(body, context.team_id or context.enterprise_id)
        if key is None or await self._first_time(key):
            return await next_()
        log.info("slack: %s was already handled; acknowledged, not acted on again", key)
        return BoltResponse(status=200, body="")

    async def _first_time(self, key: str) -> bool:
        now = self._now()
        try:
            await self._prune(now)
            return await self._claims.claim_inbound_delivery(PLATFORM, key, now)
        except DatabaseError as error:
            # Acting twice on a rare retry beats dropping every request while the store is unwell.
            log.warning("slack: cannot record %s (%s); handling it anyway", key, type(error).__name__)
            return True

    async def _prune(self, now: float) -> None:
        if self._pruned_at is not None and now - self._pruned_at < _PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        forgotten = await self._claims.forget_inbound_deliveries(now - RETENTION_SECONDS)
        if forgotten:
            log.info("slack: forgot %d handled deliveries older than a day", forgotten)
