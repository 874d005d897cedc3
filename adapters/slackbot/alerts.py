"""Topic alerts in Slack: each posted once, whatever crashes or retries happen between posting and the
watcher marking it delivered; edited in place when the story gains outlets.

Every alert message carries its delivery key in the message metadata. Before posting, the channel's recent
history is searched for that key once per channel after start, and again whenever an earlier post of the
key may have gone through unconfirmed, so a crash between posting and marking delivered never posts twice.
Posts and edits go through the Outbox like replies (per-channel order, 429s waited out).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slackbot.render import Message, mentioning, reply_message
from adapters.slackbot.replies import refused
from bot.alerts.model import AlertNotNow, AlertRefused, Delivery
from bot.chat.model import Place
from bot.chat.outbox import Outbox, Post
from bot.config import BriefingSettings

log = logging.getLogger(__name__)

PLATFORM = "slack"
# Topic alerts carry their delivery key in the message metadata, so a restart can tell what it already posted.
ALERT_EVENT_TYPE = "briefbot_alert"
# Slack's clock against ours: history is searched from this long before an alert was queued.
_ALERT_CLOCK_SLACK_SECONDS = 300.0
_HISTORY_PAGE_SIZE = 200
_HISTORY_MAX_PAGES = 5
_REMEMBERED_ALERTS = 10_000  # keys known posted in this run (bounded: a long run posts many)


class AlertNotDelivered(AlertNotNow):
    """A topic alert did not reach Slack; it stays queued and the watcher tries again later."""


class AlertNotUpdated(Exception):
    """A posted alert could not be edited (deleted message, channel gone, not connected...)."""


@dataclass
class _AlertCall:
    """What one alert post or edit came to: the message's ts, or Slack's refusal (ok=false, not retried)."""

    ts: str | None = None
    refusal: str | None = None


def _alert_metadata(key: str) -> dict[str, Any]:
    """Every alert message carries its delivery key, so a restart can find what it already posted."""
    return {"event_type": ALERT_EVENT_TYPE, "event_payload": {"key": key}}


class SlackAlerts:
    def __init__(self, client: AsyncWebClient, outbox: Outbox, shown: BriefingSettings) -> None:
        self._client = client
        self._outbox = outbox
        self._shown = shown
        # Keys posted in this run, keys whose post may or may not have gone through, and per channel the
        # time from which its history was searched since start.
        self._posted: OrderedDict[str, str] = OrderedDict()  # key → ts of its message
        self._unconfirmed: set[str] = set()
        self._history_searched_from: dict[str, float] = {}

    async def deliver(self, delivery: Delivery) -> str:
        """Post the alert; return its message's ts once Slack accepted it (the ts of the earlier post when it
        was already there), else raise AlertNotDelivered."""
        if (ts := self._posted.get(delivery.key)) is not None:
            return ts  # posted earlier in this run; only its confirmation was lost
        call = _AlertCall()
        channel_key = Place(PLATFORM, delivery.channel).channel_key
        await self._outbox.send(channel_key, self._post(delivery, self._render(delivery), call))
        if call.refusal is not None:  # channel_not_found, is_archived, not_in_channel: the watcher parks it
            raise AlertRefused(call.refusal)  # Slack's own word for it, shown to the channel's people
        if call.ts is None:
            raise AlertNotDelivered(f"the alert did not reach slack in {channel_key}; it stays queued")
        return call.ts

    async def update(self, delivery: Delivery, ref: str) -> None:
        """Replace the alert posted as `ref` (its ts) with its content rendered afresh; raise AlertNotUpdated
        when Slack refuses. An edit is idempotent, so a retry after an unconfirmed attempt is harmless."""
        call = _AlertCall()
        channel_key = Place(PLATFORM, delivery.channel).channel_key
        await self._outbox.send(channel_key, self._edit(delivery, ref, self._render(delivery), call))
        if call.refusal is not None:
            raise AlertNotUpdated(
                f"slack refused to edit alert {delivery.key} in {channel_key}: {call.refusal}"
            )

    def _render(self, delivery: Delivery) -> Message:
        message = reply_message(
            delivery.content, max_actors=self._shown.max_actors_shown, max_dates=self._shown.max_dates_shown
        )
        return mentioning(message, delivery.mention)

    def _edit(self, delivery: Delivery, ref: str, message: Message, call: _AlertCall) -> Post:
        async def edit() -> None:
            try:
                await self._client.chat_update(
                    channel=delivery.channel,
                    ts=ref,
                    # chat.update keeps old blocks when sent none; a plain-text render must clear them.
                    blocks=message.get("blocks", []),
                    text=message["text"],
                    metadata=_alert_metadata(delivery.key),
                )
            except SlackApiError as error:
                if not refused(error):
                    raise
                call.refusal = str(error.response.get("error"))  # e.g. message_not_found: no retry

        return edit

    def _post(self, delivery: Delivery, message: Message, call: _AlertCall) -> Post:
        key = delivery.key

        async def post() -> None:
            if (ts := await self._posted_ts(delivery)) is not None:
                call.ts = ts
                return
            try:
                response = await self._client.chat_postMessage(
                    channel=delivery.channel,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata=_alert_metadata(key),
                    **message,
                )
            except SlackApiError as error:
                if not refused(error):  # a 5xx: it may have been posted
                    self._unconfirmed.add(key)
                    raise
                # ok=false: nothing was posted and retrying cannot help; deliver() raises it.
                call.refusal = str(error.response.get("error"))
                return
            except BaseException:  # a timeout, a lost connection, cancellation: it may have been posted
                self._unconfirmed.add(key)
                raise
            self._unconfirmed.discard(key)
            call.ts = str(response["ts"])
            self._remember(key, call.ts)

        return post

    def _remember(self, key: str, ts: str) -> None:
        self._posted[key] = ts
        while len(self._posted) > _REMEMBERED_ALERTS:
            self._posted.popitem(last=False)

    async def _posted_ts(self, delivery: Delivery) -> str | None:
        """The ts of the alert's message if it is in its channel already, else None. Asks Slack only when
        this run cannot know by itself."""
        if (ts := self._posted.get(delivery.key)) is not None:
            return ts
        since = delivery.created_at - _ALERT_CLOCK_SLACK_SECONDS
        searched_from = self._history_searched_from.get(delivery.channel)
        covered = searched_from is not None and searched_from <= since
        if covered and delivery.key not in self._unconfirmed and not delivery.handed_over:
            # Searched since start, and since then only this run posted it if anyone did: another replica
            # sharing the store that claimed it before would have handed it over.
            return None
        for key, ts in (await self._alerts_in_history(delivery.channel, since)).items():
            self._remember(key, ts)
        self._history_searched_from[delivery.channel] = (
            since if searched_from is None else min(since, searched_from)
        )
        self._unconfirmed.discard(delivery.key)
        return self._posted.get(delivery.key)

    async def _alerts_in_history(self, channel: str, since: float) -> dict[str, str]:
        """Alert key → message ts, from the metadata of the channel's messages since `since` (a bounded
        number of pages; newest first, so a key posted twice maps to its latest message)."""
        keys: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(_HISTORY_MAX_PAGES):
            try:
                page = await self._client.conversations_history(
                    channel=channel,
                    oldest=f"{since:.6f}",
                    limit=_HISTORY_PAGE_SIZE,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            except SlackApiError as error:
                if not refused(error):
                    raise
                # e.g. missing_scope: post anyway; a rare duplicate is better than alerts that never arrive.
                log.warning(
                    "slack: cannot search %s for posted alerts: %s", channel, error.response.get("error")
                )
                return keys
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == ALERT_EVENT_TYPE:
                    key = str((metadata.get("event_payload") or {}).get("key"))
                    keys.setdefault(key, str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
        return keys
