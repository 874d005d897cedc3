"""The Slack adapter: slack-bolt's AsyncApp over Socket Mode (default) or signed HTTP requests.

It only translates, and wires the parts that do: `listeners` turn Slack events into ChatCore calls,
`replies` post the core's Outcomes as Block Kit through the per-channel Outbox, `alerts` post and edit topic
alerts for the watcher. Each delivery is acted on once, whatever Slack retries or anyone replays (`dedupe`);
in HTTP mode, requests are checked before bolt parses them (`endpoint`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import ClientError, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.shutdown import EventTasks, shut_down
from adapters.slackbot.alerts import AlertNotDelivered, AlertNotUpdated, SlackAlerts
from adapters.slackbot.dedupe import DeliveryDedupe
from adapters.slackbot.endpoint import slack_endpoint
from adapters.slackbot.listeners import Listeners
from adapters.slackbot.replies import Replies
from bot.alerts.model import Delivery
from bot.chat.core import ChatCore
from bot.chat.outbox import Outbox
from bot.config import Settings
from bot.store import Store

log = logging.getLogger(__name__)


class SlackAdapter:
    name = "slack"

    def __init__(
        self,
        settings: Settings,
        *,
        bot_token: str,
        app_token_or_secret: str,
        outbox: Outbox | None = None,
    ) -> None:
        self._slack = settings.slack
        self._store_url = settings.store.url  # where handled deliveries are remembered across restarts
        self._max_links = settings.chat.max_links_per_message
        self._bot_token = bot_token
        self._app_token_or_secret = app_token_or_secret
        # No rate-limit retry handler here: a 429 becomes RateLimited and the Outbox waits, so one slow
        # channel never blocks a task and per-channel order holds. (The SDK's default connection-error
        # retry handler stays.)
        self._client = AsyncWebClient(token=bot_token, base_url=self._slack.api_base_url)
        self._outbox = outbox or Outbox()
        self._tasks = EventTasks(self.name)
        self._replies = Replies(self._client, self._outbox, settings.briefing)
        self._alerts = SlackAlerts(self._client, self._outbox, settings.briefing)
        self.ready = asyncio.Event()  # set once connected (Socket Mode) or listening (HTTP mode)
        self.http_port: int | None = None  # the bound port in HTTP mode (the config may say 0 in tests)

    # ----- ChatAdapter ----------------------------------------------------------------------------------

    async def check(self) -> str:
        """auth.test through the configured base URL (and, in Socket Mode, the app token)."""
        try:
            identity = await self._client.auth_test()
            line = f"slack: connected as @{identity['user']} (team {identity['team_id']})"
            if self._slack.mode == "socket":
                await self._client.apps_connections_open(app_token=self._app_token_or_secret)
                line += ", Socket Mode app token accepted"
        except SlackApiError as error:
            raise RuntimeError(f"Slack refused the token: {error.response.get('error')}") from None
        except (ClientError, TimeoutError) as error:
            url = self._slack.api_base_url
            raise RuntimeError(f"cannot reach {url} ({type(error).__name__})") from None
        return line

    async def run(self, core: ChatCore, stop: asyncio.Event) -> None:
        try:
            # Its own connection to the bot's store (SQLite's WAL lets the core's connection share the file).
            async with await Store.open(self._store_url) as store:
                app = self._build_app(core, DeliveryDedupe(store))
                async with self._connected(app):
                    self.ready.set()
                    where = f" on port {self.http_port}" if self.http_port is not None else ""
                    log.info("slack: listening (%s mode%s)", self._slack.mode, where)
                    await stop.wait()
        finally:
            self.ready.clear()
            await shut_down(self.name, self._tasks, self._outbox)

    async def wait_idle(self) -> None:
        """Wait until every event being handled is done and its replies have left (tests, shutdown)."""
        await self._tasks.wait()
        await self._outbox.flush()

    # ----- topic alerts (AlertSink) ---------------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> str:
        """Post one queued alert in its channel; return its message's ts once Slack accepted it, else raise
        AlertNotDelivered. Raises at once when the adapter is not connected (e.g. the watcher's replay at
        start-up): the alert stays queued and the watcher retries."""
        if problem := self._cannot_send_alert(delivery):
            raise AlertNotDelivered(f"{problem}; the alert stays queued")
        return await self._alerts.deliver(delivery)

    async def update(self, delivery: Delivery, ref: str) -> None:
        """Replace the posted alert `ref` (its ts) with `delivery.content` rendered afresh, e.g. with a longer
        "Also reported by" line; return once Slack accepted the edit, else raise AlertNotUpdated."""
        if problem := self._cannot_send_alert(delivery):
            raise AlertNotUpdated(problem)
        await self._alerts.update(delivery, ref)

    def _cannot_send_alert(self, delivery: Delivery) -> str | None:
        if delivery.platform != self.name:
            return f"slack: an alert for {delivery.platform} was routed here"
        if not self.ready.is_set():
            return "slack: not connected yet"
        return None

    # ----- connection -----------------------------------------------------------------------------------

    def _build_app(self, core: ChatCore, dedupe: DeliveryDedupe) -> AsyncApp:
        http = self._slack.mode == "http"
        app = AsyncApp(
            # The token, not our client: bolt also reads SLACK_BOT_TOKEN itself and warns when given both.
            token=self._bot_token,
            # Bolt verifies signatures (and timestamps) of HTTP requests; Socket Mode needs no secret.
            signing_secret=self._app_token_or_secret if http else "",
            request_verification_enabled=http,
            logger=log.getChild("bolt"),
        )
        app.client.base_url = self._slack.api_base_url  # bolt has no such setting; the SDK client's is public
        app.middleware(dedupe.middleware)  # before every listener: copies are acked, not acted on
        listeners = Listeners(
            core,
            self._replies,
            self._tasks,
            self._client,
            managers=self._slack.managers,
            max_links=self._max_links,
        )
        listeners.register(app)
        return app

    @asynccontextmanager
    async def _connected(self, app: AsyncApp) -> AsyncIterator[None]:
        if self._slack.mode == "socket":
            handler = AsyncSocketModeHandler(app, self._app_token_or_secret)
            await handler.connect_async()
            try:
                yield
            finally:
                await handler.close_async()
            return
        endpoint = slack_endpoint(app, self._slack.http_path, self._app_token_or_secret)
        runner = web.AppRunner(endpoint, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._slack.http_host, self._slack.http_port).start()
            self.http_port = runner.addresses[0][1]
            yield
        finally:
            await runner.cleanup()
