"""Discord events and application commands in, ChatCore requests out, replies back.

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
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import discord

from adapters.discordbot.render import cut, notice_content
from adapters.discordbot.replies import Posts
from adapters.shutdown import EventTasks
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
    parse_mention,
    with_group_mention,
)
from bot.chat.core import ChatCore
from bot.chat.links import find_links
from bot.chat.model import Mention, Notice, Outcome, Person, Place
from bot.errors import BadInputError, InternalError, InvalidUrlError, TooShortError

log = logging.getLogger(__name__)

PLATFORM = "discord"
MAX_TEXT_OPTION = 6000  # Discord caps string options at 6000 characters anyway

HELP = """\
**briefbot** turns news articles into short briefings: a summary, the key actors and the key dates.
• `/brief url:<link>` or `/brief text:<pasted article>`: a briefing for everyone in the channel.
• Message menu → Apps → **Brief this**: a briefing of the link in that message (or of its text).
• Paste a link: I reply with a briefing when automatic briefings are on in the channel.
• Mention me with a link: same as `/brief`.
• `/brief-auto state:on|off` (channel managers): automatic briefings of pasted links in this channel.
• `/brief-topics action:subscribe value:<query> [--mention @role]` (channel managers): a briefing for each new
  matching story, pinging that role (or `@here`).
Errors from `/brief` and **Brief this** are shown only to you."""

NO_PERMISSION = "Only people who can manage this channel can change that (use `/brief-auto`)."
COULD_NOT_POST = "Sorry, I couldn't post the briefing in this channel; please check my permissions here."

# `/brief-topics action:<choice> value:<text>` as the command each choice stands for.
TOPIC_ACTIONS: dict[str, Callable[[str], AlertCommand]] = {
    "subscribe": Subscribe.of,
    "unsubscribe": Unsubscribe,
    "subscriptions": lambda _: ListSubscriptions(),
    "sources": lambda _: ListSources(),
    "source-add": AddSource.of,
    "source-remove": RemoveSource.of,
}

Ask = Callable[[Place, Person], Awaitable[Outcome]]


def text_to_brief(text: str) -> Command | Notice:
    """`/brief text:` and "Brief this" ask for a briefing: text that reads as `help` or `auto …` is one or two
    words, too short to brief, and must not change a setting."""
    command = parse(text)
    if isinstance(command, Help | Auto):
        return Notice(TooShortError().message, code=TooShortError.code)
    return command


_ROLE = re.compile(r"<@&(\d{1,20})>")


def role_mention(written: str) -> Mention | None:
    """The role a `--mention` names, as Discord writes a role mention in a message or an option: <@&id>.
    Its label is that markup too: Discord shows it as the role's name, and nobody is pinged by a notice."""
    match = _ROLE.fullmatch(written)
    return Mention(match.group(1), written) if match else None


def _strip_mentions(text: str, user_id: int) -> str:
    return " ".join(re.sub(rf"<@!?{user_id}>", " ", text).split())


class Listeners:
    """What each event and command is handled as; every handler runs as an owned task (see EventTasks)."""

    def __init__(
        self,
        client: discord.Client,
        core: ChatCore,
        posts: Posts,
        tasks: EventTasks,
        *,
        message_content_intent: bool,
        max_links: int,
    ) -> None:
        self._client = client
        self._max_links = max_links
        self._core = core
        self._posts = posts
        self._tasks = tasks
        self._message_content_intent = message_content_intent

    # --- messages: pasted links and mentions --------------------------------------------------------

    def on_message(self, message: discord.Message) -> Awaitable[None]:
        return self._tasks.track(f"message {message.id}", self._handle_message(message))

    async def _handle_message(self, message: discord.Message) -> None:
        me = self._client.user
        if message.author.bot or me is None or message.author.id == me.id:
            return  # never answer bots, ourselves included: no loops
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return  # joins, pins and other system messages
        where = place_of_message(message)
        person = Person(str(message.author.id), can_manage=can_manage_channel(message))
        if me in message.mentions:
            await self._answer_mention(message, where, person, _strip_mentions(message.content, me.id))
            return
        if not self._message_content_intent:
            return  # without the intent Discord sends no content: nothing to find
        async for outcome in self._core.on_message(where, person, message.content):
            if outcome.private:  # Discord has no private replies to a message; a pasted link stays quiet
                log.info("discord: not posting a private notice for a pasted link in %s", where.channel_key)
                continue
            await self._posts.reply(where, message, outcome)

    async def _answer_mention(
        self, message: discord.Message, where: Place, person: Person, text: str
    ) -> None:
        # "@briefbot can you brief <link> please?" briefs the link, as on Slack (bot.chat.commands).
        for written in parse_mention(text, self._max_links):
            command = with_group_mention(written, role_mention)
            if isinstance(command, Help):
                outcome = Outcome(Notice(HELP), private=True)
            elif isinstance(command, Auto) and command.value is not None and not can_manage_channel(message):
                outcome = Outcome(Notice(NO_PERMISSION, code="forbidden"), private=True)
            else:
                outcome = await self._core.handle(where, person, command)
            # A mention is a question asked in public: its answer, private or not, can only be a reply.
            await self._posts.reply(where, message, outcome)

    # --- application commands -----------------------------------------------------------------------

    def on_brief(
        self, interaction: discord.Interaction, url: str | None, text: str | None
    ) -> Awaitable[None]:
        return self._tasks.track("/brief", self._handle_brief(interaction, url, text))

    def on_brief_auto(self, interaction: discord.Interaction, state: str | None) -> Awaitable[None]:
        return self._tasks.track("/brief-auto", self._answer(interaction, self._asking(Auto(state))))

    def on_brief_topics(
        self, interaction: discord.Interaction, action: str, value: str | None
    ) -> Awaitable[None]:
        command = with_group_mention(TOPIC_ACTIONS[action]((value or "").strip()), role_mention)
        return self._tasks.track("/brief-topics", self._answer(interaction, self._asking(command)))

    def on_brief_this(self, interaction: discord.Interaction, target: discord.Message) -> Awaitable[None]:
        request = what_to_brief(target)
        command = request if isinstance(request, Notice) else text_to_brief(request)
        return self._tasks.track("Brief this", self._answer(interaction, self._asking(command), target))

    async def _handle_brief(
        self, interaction: discord.Interaction, url: str | None, text: str | None
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
        await self._answer(interaction, self._asking(command))

    def _asking(self, command: Command | Notice) -> Ask:
        """The core's answer to a command, or a notice the adapter already knows is the answer."""

        async def ask(where: Place, person: Person) -> Outcome:
            if isinstance(command, Notice):
                return Outcome(command, private=True)
            return await self._core.handle(where, person, command)

        return ask

    async def _answer(
        self, interaction: discord.Interaction, ask: Ask, reply_to: discord.Message | None = None
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
        body = self._posts.body(outcome.reply)
        if isinstance(outcome.reply, Notice):  # a public notice (a changed setting) says who changed it
            body["content"] = cut(f"{body['content']} ({interaction.user.mention})", 2000)
        else:
            body["content"] = f"Briefing requested by {interaction.user.mention}"
        if reply_to is not None:  # "Brief this" answers under the message it was asked about
            body["reference"] = reply_to.to_reference(fail_if_not_exists=False)
        posted = await self._posts.post(where, lambda: channel.send(**body))
        await self._tell_asker(interaction, where, f"Posted: {posted.jump_url}" if posted else COULD_NOT_POST)

    async def _tell_asker(self, interaction: discord.Interaction, where: Place, text: str) -> None:
        await self._posts.post(where, lambda: interaction.edit_original_response(content=text))

    def _channel_of(self, interaction: discord.Interaction) -> discord.abc.Messageable:
        assert interaction.channel_id is not None
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
    return message.channel.permissions_for(message.author).manage_channels


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
