"""The Discord adapter: discord.py events and application commands in, ChatCore calls, embeds out.

What Discord users get:
- `/brief url:<link>` or `/brief text:<pasted article>`: a public briefing in the channel; `/brief` is help.
- `/brief-auto state:on|off` (Manage Channels by default, server admins can change who): automatic briefings
  of pasted links in this channel; without `state` it says what the setting is.
- `/brief-topics action:subscribe value:<query>` and unsubscribe, subscriptions, sources, source-add,
  source-remove (Manage Channels by default): the channel's topic alerts.
- "Brief this" (message menu → Apps): a briefing of the link in a message, or of its text, as a reply to it.
- A pasted link (needs the privileged message-content intent): the briefing as a reply to the message.
- A mention, "@briefbot <link>" or "@briefbot auto off": like /brief (works without the intent).

Pasted links get a *reply* rather than a new thread: a reply sits under the link wherever it was posted (a
channel, a thread, a forum post), needs no Create Threads permission and cannot fail because the message is
already in a thread; one thread per link would also bury busy channels in threads.

Slash commands are deferred ephemerally at once (Discord wants an answer within 3 s), because a deferred
response's visibility is fixed at defer time: a failure is then shown only to the person who asked (by
editing the private "thinking…" message), and a briefing is posted publicly as an ordinary channel message.
Every post goes through the Outbox, keyed by the channel, so a 429 delays replies and never loses one.

Topic alerts come from the alert watcher through `deliver` (its AlertSink): one message per alert, posted
through the same Outbox and returning only once Discord accepted it, with the message id as its reference.
`update` edits that message when other outlets of the story turn up later (its "Also reported by" line).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import discord
import yarl
from discord import app_commands

from adapters.discord_render import alert_content, briefing_embed, cut, notice_content
from bot.alerts.model import AlertContent, Delivery, StoryAlert
from bot.chat.commands import (
    AddSource,
    AlertCommand,
    Auto,
    BriefUrl,
    Command,
    Help,
    ListSources,
    ListSubscriptions,
    RemoveSource,
    Subscribe,
    Unsubscribe,
    parse,
)
from bot.chat.core import ChatCore
from bot.chat.links import find_links
from bot.chat.model import Notice, Outcome, Person, Place
from bot.chat.outbox import Outbox, RateLimited
from bot.config import DiscordSettings, Settings
from bot.errors import BadInputError, InternalError, InvalidUrlError, TooShortError
from bot.models import Briefing

log = logging.getLogger(__name__)

T = TypeVar("T")
PLATFORM = "discord"
DEFAULT_RETRY_AFTER = 1.0
SHUTDOWN_GRACE_SECONDS = 5.0  # queued replies still go out for this long after a stop
MAX_TEXT_OPTION = 6000  # Discord caps string options at 6000 characters anyway

HELP = """\
**briefbot** turns news articles into short briefings: a summary, the key actors and the key dates.
• `/brief url:<link>` or `/brief text:<pasted article>`: a briefing for everyone in the channel.
• Message menu → Apps → **Brief this**: a briefing of the link in that message (or of its text).
• Paste a link: I reply with a briefing when automatic briefings are on in the channel.
• Mention me with a link: same as `/brief`.
• `/brief-auto state:on|off` (channel managers): automatic briefings of pasted links in this channel.
• `/brief-topics action:subscribe value:<query>` (channel managers): a briefing for each new matching story.
Errors from `/brief` and **Brief this** are shown only to you."""

NO_PERMISSION = "Only people who can manage this channel can change that (use `/brief-auto`)."
COULD_NOT_POST = "Sorry, I couldn't post the briefing in this channel; please check my permissions here."
NONCE_BYTES = 12  # 24 hex digits: Discord takes nonces of at most 25 characters


class NotConnectedError(RuntimeError):
    """An alert arrived before the adapter logged in (or after it stopped); the watcher retries it later."""


class PostRefusedError(Exception):
    """Discord refused a post with a 4xx other than 429 (missing permission, deleted channel): sending the
    same request again would not help, so the outbox does not retry it."""

    def __init__(self, channel_key: str, error: discord.HTTPException) -> None:
        super().__init__(f"post refused in {channel_key}: HTTP {error.status}, code {error.code}")
        self.status = error.status
        self.code = error.code


def alert_nonce(key: str) -> str:
    """A short nonce that is the same every time the alert with this delivery key is sent."""
    return hashlib.blake2b(key.encode(), digest_size=NONCE_BYTES).hexdigest()


def point_discord_py_at(settings: DiscordSettings) -> None:
    """Send discord.py's REST calls and gateway connection to the configured endpoints.

    discord.py has no supported setting for either: REST URLs (interaction callbacks and webhook follow-ups
    included) are built from the class attribute Route.BASE at request time, and a plain Client opens
    DiscordWebSocket.DEFAULT_GATEWAY. Both are process-wide, which is fine: one process runs one Discord bot.
    """
    discord.http.Route.BASE = settings.api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
    # briefbot never joins voice channels: warnings about missing voice libraries would only mislead.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False


def retry_after_of(error: discord.HTTPException) -> float:
    """Seconds to wait after a 429 discord.py gave up on (it already retried it itself)."""
    headers = getattr(error.response, "headers", None) or {}
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        with contextlib.suppress(TypeError, ValueError):
            return max(float(headers.get(name)), 0.0)
    return DEFAULT_RETRY_AFTER


# `/brief-topics action:<choice> value:<text>` as the command each choice stands for.
TOPIC_ACTIONS: dict[str, Callable[[str], AlertCommand]] = {
    "subscribe": Subscribe.of,
    "unsubscribe": Unsubscribe,
    "subscriptions": lambda _: ListSubscriptions(),
    "sources": lambda _: ListSources(),
    "source-add": AddSource.of,
    "source-remove": RemoveSource.of,
}


def text_to_brief(text: str) -> Command | Notice:
    """`/brief text:` and "Brief this" ask for a briefing: text that reads as `help` or `auto …` is one or two
    words, too short to brief, and must not change a setting."""
    command = parse(text)
    if isinstance(command, Help | Auto):
        return Notice(TooShortError().message, code=TooShortError.code)
    return command


def _strip_mentions(text: str, user_id: int) -> str:
    return " ".join(re.sub(rf"<@!?{user_id}>", " ", text).split())


class DiscordAdapter:
    name = PLATFORM

    def __init__(
        self,
        settings: Settings,
        *,
        token: str,
        outbox: Outbox | None = None,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        self._settings = settings
        self._token = token
        self._outbox = outbox or Outbox()
        self._guild_ready_timeout = guild_ready_timeout
        self._handling: set[asyncio.Task[Any]] = set()
        self._awaited_posts: set[asyncio.Future[None]] = set()  # outbox futures someone is waiting on
        self._client: BriefbotClient | None = None
        self.ready = asyncio.Event()  # set once the gateway session is ready (tests and logs)

    @property
    def in_flight(self) -> int:
        """Events and commands being handled right now."""
        return len(self._handling)

    # --- lifecycle ----------------------------------------------------------------------------------

    async def check(self) -> str:
        """Log in over REST (GET /users/@me, then the application) without opening the gateway."""
        point_discord_py_at(self._settings.discord)
        async with discord.Client(intents=discord.Intents.none()) as client:
            await client.login(self._token)  # also fetches the application (GET /oauth2/applications/@me)
            application_id = client.application_id
            user = client.user
        intent = "on" if self._settings.discord.message_content_intent else "off"
        return (
            f"discord: connected as {user} (application id {application_id}) at "
            f"{self._settings.discord.api_base_url}; message content intent {intent}"
        )

    async def run(self, core: ChatCore, stop: asyncio.Event) -> None:
        point_discord_py_at(self._settings.discord)
        client = self._client = BriefbotClient(self, core)
        async with client:
            connection = asyncio.create_task(client.start(self._token), name="discord:client")
            stopping = asyncio.create_task(stop.wait(), name="discord:stop")
            await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            await self._shut_down(client)
            if not connection.done():
                connection.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connection  # re-raises a login failure or a fatal gateway error
        log.info("discord: stopped")

    async def _shut_down(self, client: discord.Client) -> None:
        """Abandon briefings in progress, let queued replies go out for a moment, then disconnect."""
        for task in list(self._handling):
            task.cancel()
        await asyncio.gather(*self._handling, return_exceptions=True)
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                await self._outbox.flush()
        except TimeoutError:
            log.warning("discord: replies still queued at shutdown were dropped")
        await self._outbox.close()
        for post in self._awaited_posts:  # closing the outbox leaves them pending: the waiter would hang
            if not post.done():
                post.set_exception(NotConnectedError("discord stopped before the post went out"))
        await client.close()

    def _track(self, what: str, work: Awaitable[None]) -> Awaitable[None]:
        """Run one event's work as an owned task: cancelled at shutdown, and any fault logged, never lost."""

        async def tracked() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._handling.add(task)
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("discord: handling %s failed", what)
            finally:
                self._handling.discard(task)

        return tracked()

    # --- delivery -----------------------------------------------------------------------------------

    async def _post(self, where: Place, send: Callable[[], Awaitable[T]]) -> T | None:
        """Queue one post on the channel's outbox and wait for it; None when Discord refused it or it was
        finally lost (both logged)."""
        try:
            return await self._send_queued(where, send)
        except PostRefusedError as refusal:
            log.warning("discord: %s", refusal)
        except Exception:
            log.warning("discord: a reply in %s was lost", where.channel_key, exc_info=True)
        return None

    async def _send_queued(self, where: Place, send: Callable[[], Awaitable[T]]) -> T:
        """Queue one post on the channel's outbox and return what Discord answered once it accepted it;
        raise PostRefusedError for a refusal, or whatever made the outbox give up."""
        posted: list[T] = []
        refused: list[discord.HTTPException] = []

        async def post() -> None:
            try:
                posted.append(await send())
            except discord.RateLimited as limited:  # longer than discord.py is willing to wait itself
                raise RateLimited(limited.retry_after) from limited
            except discord.HTTPException as error:
                if error.status == 429:  # discord.py retried 5 times; the outbox waits and tries again
                    raise RateLimited(retry_after_of(error)) from error
                if 400 <= error.status < 500:  # a refusal (permissions, deleted channel): retrying won't help
                    refused.append(error)
                    return
                raise

        sent = self._outbox.send(where.channel_key, post)
        self._awaited_posts.add(sent)
        try:
            await sent
        finally:
            self._awaited_posts.discard(sent)
        if refused:
            raise PostRefusedError(where.channel_key, refused[0]) from refused[0]
        return posted[0]

    # --- topic alerts -------------------------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> str:
        """Post one topic alert in `delivery.channel`; return the message id once Discord accepted it, raise
        otherwise.

        Raises NotConnectedError at once before the client logged in (a replay at start-up): the watcher
        keeps the alert queued and retries next round, which is simpler than waiting here while other
        alerts queue up behind this one. A crash between Discord's answer and the watcher marking the alert
        delivered is covered by the nonce: Discord returns the message sent with it instead of posting it
        again, but only within its nonce window ("a few minutes"); a replay after a longer outage posts a
        second copy. A replay Discord recognises returns the id of the message first posted.
        """
        channel = self._alert_channel(delivery)
        body = self._alert_body(delivery.content)
        nonce = alert_nonce(delivery.key)
        no_pings = discord.AllowedMentions.none()  # an alert quotes articles and queries: nobody is pinged
        posted = await self._send_queued(
            Place(PLATFORM, delivery.channel),
            lambda: channel.send(nonce=nonce, allowed_mentions=no_pings, **body),
        )
        return str(posted.id)

    async def update(self, delivery: Delivery, ref: str) -> None:
        """Edit the alert posted as message `ref` to show `delivery.content` as it is now (more outlets);
        return once Discord accepted the edit. Raises NotConnectedError like `deliver`, and PostRefusedError
        when Discord refuses it (the message was deleted: 404, code 10008)."""
        message = self._alert_channel(delivery).get_partial_message(int(ref))
        body = self._alert_body(delivery.content)
        # Whether embeds are suppressed is a message flag an edit leaves alone when it does not name it.
        body.pop("suppress_embeds", None)
        no_pings = discord.AllowedMentions.none()
        await self._send_queued(
            Place(PLATFORM, delivery.channel),
            lambda: message.edit(allowed_mentions=no_pings, **body),
        )

    def _alert_channel(self, delivery: Delivery) -> discord.PartialMessageable:
        """The alert's channel, or NotConnectedError at once when the client is not logged in."""
        client = self._client
        if client is None or not self.ready.is_set() or client.is_closed():
            raise NotConnectedError(f"discord is not connected; alert {delivery.key} stays queued")
        return client.get_partial_messageable(int(delivery.channel))

    def _alert_body(self, content: AlertContent) -> dict[str, Any]:
        body = self._body(content)
        if isinstance(content, Notice):  # e.g. a feed was disabled; the feed's link must not unfurl
            body["suppress_embeds"] = True
        return body

    # --- messages: pasted links and mentions --------------------------------------------------------

    def on_message(self, core: ChatCore, message: discord.Message) -> Awaitable[None]:
        return self._track(f"message {message.id}", self._handle_message(core, message))

    async def _handle_message(self, core: ChatCore, message: discord.Message) -> None:
        me = self._client.user if self._client else None
        if message.author.bot or me is None or message.author.id == me.id:
            return  # never answer bots, ourselves included: no loops
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return  # joins, pins and other system messages
        where = place_of_message(message)
        person = Person(str(message.author.id), can_manage=can_manage_channel(message))
        if me in message.mentions:
            await self._answer_mention(core, message, where, person, _strip_mentions(message.content, me.id))
            return
        if not self._settings.discord.message_content_intent:
            return  # without the intent Discord sends no content: nothing to find
        async for outcome in core.on_message(where, person, message.content):
            if outcome.private:  # Discord has no private replies to a message; a pasted link stays quiet
                log.info("discord: not posting a private notice for a pasted link in %s", where.channel_key)
                continue
            await self._reply(where, message, outcome)

    async def _answer_mention(
        self, core: ChatCore, message: discord.Message, where: Place, person: Person, text: str
    ) -> None:
        command = parse(text)
        if isinstance(command, Help):
            outcome = Outcome(Notice(HELP), private=True)
        elif isinstance(command, Auto) and command.value is not None and not can_manage_channel(message):
            outcome = Outcome(Notice(NO_PERMISSION, code="forbidden"), private=True)
        else:
            outcome = await core.handle(where, person, command)
        # A mention is a question asked in public: its answer, private or not, can only be a reply.
        await self._reply(where, message, outcome)

    async def _reply(self, where: Place, message: discord.Message, outcome: Outcome) -> None:
        reference = message.to_reference(fail_if_not_exists=False)
        await self._post(
            where,
            lambda: message.channel.send(
                reference=reference, mention_author=False, **self._body(outcome.reply)
            ),
        )

    def _body(self, reply: Briefing | Notice | StoryAlert) -> dict[str, Any]:
        """Any reply or topic alert as channel.send arguments."""
        if isinstance(reply, Notice):
            return {"content": notice_content(reply)}
        shown = self._settings.briefing
        briefing = reply.briefing if isinstance(reply, StoryAlert) else reply
        embed = briefing_embed(briefing, max_actors=shown.max_actors_shown, max_dates=shown.max_dates_shown)
        if isinstance(reply, StoryAlert):
            return {"embed": embed, "content": alert_content(reply)}
        return {"embed": embed}

    # --- application commands -----------------------------------------------------------------------

    def on_brief(
        self, core: ChatCore, interaction: discord.Interaction, url: str | None, text: str | None
    ) -> Awaitable[None]:
        return self._track("/brief", self._handle_brief(core, interaction, url, text))

    def on_brief_auto(
        self, core: ChatCore, interaction: discord.Interaction, state: str | None
    ) -> Awaitable[None]:
        return self._track("/brief-auto", self._answer(interaction, self._asking(core, Auto(state))))

    def on_brief_topics(
        self, core: ChatCore, interaction: discord.Interaction, action: str, value: str | None
    ) -> Awaitable[None]:
        command = TOPIC_ACTIONS[action]((value or "").strip())
        return self._track("/brief-topics", self._answer(interaction, self._asking(core, command)))

    def on_brief_this(
        self, core: ChatCore, interaction: discord.Interaction, target: discord.Message
    ) -> Awaitable[None]:
        request = what_to_brief(target)
        command = request if isinstance(request, Notice) else text_to_brief(request)
        return self._track("Brief this", self._answer(interaction, self._asking(core, command), target))

    async def _handle_brief(
        self, core: ChatCore, interaction: discord.Interaction, url: str | None, text: str | None
    ) -> None:
        if url is None and text is None:
            await interaction.response.send_message(HELP, ephemeral=True)
            return
        command: Command | Notice
        if url is not None:
            links = find_links(url, 1)
            command = (
                BriefUrl(links[0]) if links else Notice(InvalidUrlError().message, code=InvalidUrlError.code)
            )
        else:
            command = text_to_brief((text or "")[:MAX_TEXT_OPTION])
        await self._answer(interaction, self._asking(core, command))

    @staticmethod
    def _asking(core: ChatCore, command: Command | Notice) -> Callable[[Place, Person], Awaitable[Outcome]]:
        """The core's answer to a command, or a notice the adapter already knows is the answer."""

        async def ask(where: Place, person: Person) -> Outcome:
            if isinstance(command, Notice):
                return Outcome(command, private=True)
            return await core.handle(where, person, command)

        return ask

    async def _answer(
        self,
        interaction: discord.Interaction,
        ask: Callable[[Place, Person], Awaitable[Outcome]],
        reply_to: discord.Message | None = None,
    ) -> None:
        """Defer privately at once, ask the core, then post publicly or tell only the asker what failed."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        where = place_of_interaction(interaction)
        person = Person(str(interaction.user.id), can_manage=interaction.permissions.manage_channels)
        try:
            outcome = await ask(where, person)
        except Exception:
            log.exception("discord: a command failed in %s", where.channel_key)
            outcome = Outcome(Notice(InternalError().message, code=InternalError.code), private=True)
        if outcome.private:
            assert isinstance(outcome.reply, Notice)
            await self._tell_asker(interaction, where, notice_content(outcome.reply))
            return
        channel = self._channel_of(interaction)
        body = self._body(outcome.reply)
        if isinstance(outcome.reply, Notice):  # a public notice (a changed setting) says who changed it
            body["content"] = cut(f"{body['content']} ({interaction.user.mention})", 2000)
        else:
            body["content"] = f"Briefing requested by {interaction.user.mention}"
        reference = reply_to.to_reference(fail_if_not_exists=False) if reply_to else None
        posted = await self._post(where, lambda: channel.send(reference=reference, **body))  # type: ignore[arg-type]
        await self._tell_asker(interaction, where, f"Posted: {posted.jump_url}" if posted else COULD_NOT_POST)

    async def _tell_asker(self, interaction: discord.Interaction, where: Place, text: str) -> None:
        await self._post(where, lambda: interaction.edit_original_response(content=text))

    def _channel_of(self, interaction: discord.Interaction) -> discord.abc.Messageable:
        assert self._client is not None and interaction.channel_id is not None
        return self._client.get_partial_messageable(interaction.channel_id, guild_id=interaction.guild_id)


# --- neutral values from discord.py objects -------------------------------------------------------------


def place_of_message(message: discord.Message) -> Place:
    """Settings and limits belong to the channel a person sees: a thread counts as its parent channel."""
    channel = message.channel
    parent = getattr(channel, "parent_id", None) if isinstance(channel, discord.Thread) else None
    return Place(PLATFORM, str(parent or channel.id), thread=str(message.id))


def place_of_interaction(interaction: discord.Interaction) -> Place:
    channel = interaction.channel
    parent = channel.parent_id if isinstance(channel, discord.Thread) else None
    return Place(PLATFORM, str(parent or interaction.channel_id))


def can_manage_channel(message: discord.Message) -> bool:
    if message.guild is None or not isinstance(message.author, discord.Member):
        return False
    return message.channel.permissions_for(message.author).manage_channels  # type: ignore[union-attr]


def what_to_brief(message: discord.Message) -> str | Notice:
    """For "Brief this": the message's first link, else a link or text from its embeds, else its text."""
    links = find_links(message.content, 1)
    if links:
        return links[0]
    for embed in message.embeds:  # feed bots post articles as embeds with the link in embed.url
        if embed.url:
            return embed.url
    text = message.content or " ".join(e.description for e in message.embeds if e.description)
    return text if text.strip() else Notice(BadInputError().message, code=BadInputError.code)


# --- the discord.py client ------------------------------------------------------------------------------


class BriefbotClient(discord.Client):
    def __init__(self, adapter: DiscordAdapter, core: ChatCore) -> None:
        intents = discord.Intents.default()
        intents.message_content = adapter._settings.discord.message_content_intent
        intents.typing = intents.dm_typing = intents.guild_typing = False
        super().__init__(
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),  # briefings quote articles: never ping anyone
            chunk_guilds_at_startup=False,
            guild_ready_timeout=adapter._guild_ready_timeout,
        )
        self.adapter = adapter
        self.core = core
        self.tree = build_command_tree(self, adapter, core)

    async def setup_hook(self) -> None:
        # Discord only delivers commands an application registered; a bulk PUT is idempotent.
        synced = await self.tree.sync()
        log.info("discord: synced commands %s", ", ".join(c.name for c in synced))

    async def on_ready(self) -> None:
        log.info("discord: ready as %s in %d guild(s)", self.user, len(self.guilds))
        self.adapter.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(self.core, message)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("discord: unhandled error in %s", event_method)


def build_command_tree(
    client: discord.Client, adapter: DiscordAdapter, core: ChatCore
) -> app_commands.CommandTree:
    tree = app_commands.CommandTree(client)

    @tree.command(name="brief", description="Brief a news article: summary, key actors, key dates")
    @app_commands.describe(url="Link to the article", text="The article text, pasted")
    async def brief(
        interaction: discord.Interaction, url: str | None = None, text: str | None = None
    ) -> None:
        await adapter.on_brief(core, interaction, url, text)

    @tree.command(name="brief-auto", description="Brief links pasted in this channel automatically")
    @app_commands.describe(state="on or off; leave it out to see the current setting")
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def brief_auto(interaction: discord.Interaction, state: Literal["on", "off"] | None = None) -> None:
        await adapter.on_brief_auto(core, interaction, state)

    @tree.command(name="brief-topics", description="Topic alerts for this channel: subscribe, list, sources")
    @app_commands.describe(
        action="what to do",
        value='the query (e.g. "North Korea" missile -sports), a subscription number, or a feed url',
    )
    @app_commands.choices(action=[app_commands.Choice(name=name, value=name) for name in TOPIC_ACTIONS])
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def brief_topics(
        interaction: discord.Interaction, action: app_commands.Choice[str], value: str | None = None
    ) -> None:
        await adapter.on_brief_topics(core, interaction, action.value, value)

    @tree.context_menu(name="Brief this")
    async def brief_this(interaction: discord.Interaction, message: discord.Message) -> None:
        await adapter.on_brief_this(core, interaction, message)

    @tree.error
    async def on_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("discord: command failed", exc_info=error)

    return tree
