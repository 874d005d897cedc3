"""`/brief subscribe|unsubscribe|subscriptions|sources|source …`: a channel's topic alerts, as chat commands.

Only people who manage the channel may change them; anyone may list them. Queries are parsed (never run as
regular expressions) and stored in their normalized form, so the same topic written twice is one subscription.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.alerts.catalogue import Catalogue
from bot.alerts.query import Query, QueryError, parse_query
from bot.chat.commands import (
    AddSource,
    AlertCommand,
    ListSources,
    ListSubscriptions,
    RemoveSource,
    Subscribe,
    Unsubscribe,
)
from bot.chat.links import canonical_url
from bot.chat.model import Mention, Notice, Outcome, Person, Place
from bot.config import AlertSettings
from bot.errors import BriefError
from bot.store import Store

_DIGEST_VALUE = re.compile(r"^daily@([01]\d|2[0-3]):([0-5]\d)$")
PAUSED = (
    "Paused: the platform refuses my alerts here ({refusal}). They resume by themselves once I can post "
    "here again (check that I'm still in the channel and may post); nothing queued is lost."
)
BAD_MENTION = (
    "I can't mention `{written}`: use `--mention @here`, or mention a user group (Slack) or a role (Discord) "
    "so that it shows as a mention when you type it."
)
MANAGERS_ONLY = "Only people who manage this channel can change its subscriptions and sources."


MAX_SOURCES_NAMED = 6  # a confirmation names this many sources, then counts the rest


def _sources_in_words(feeds: list[str], catalogue: Catalogue) -> str:
    """ "3 sources (BBC News, World (`bbc-world`); ...)" for a confirmation."""
    named = [catalogue.describe(url) for url in feeds[:MAX_SOURCES_NAMED]]
    more = len(feeds) - len(named)
    listed = "; ".join(named) + (f"; and {more} more" if more else "")
    return f"{len(feeds)} source{'s' if len(feeds) != 1 else ''} ({listed})"


def _mention_of(command: Subscribe) -> Mention | None:
    """Who the subscribe asks to ping: the group the adapter found, @here, or None (nobody, or not usable)."""
    if command.mention is not None:
        return command.mention
    written = (command.mention_written or "").lower()
    return Mention() if written in ("@here", "here", "@channel", "@everyone") else None


def _checked(command: Subscribe) -> tuple[Query, Mention | None] | Outcome:
    """The subscribe's parsed query and mention, or the private answer saying what is wrong with it."""
    if command.digest is not None and not _DIGEST_VALUE.match(command.digest):
        return _private("Use `--digest daily@HH:MM`, e.g. `--digest daily@08:00`.", "bad_input")
    mention = _mention_of(command)
    if command.mention_written and mention is None:
        return _private(BAD_MENTION.format(written=command.mention_written.replace("`", "'")), "bad_input")
    rest = command.query
    if not rest.strip():
        return _private('Tell me what to watch for, e.g. `/brief subscribe "North Korea" missile -sports`.')
    try:
        return parse_query(rest), mention
    except QueryError as error:
        return _private(
            f"That query has a problem: {error.reason}.\n```\n{error.pointer(rest)}\n```", error.code
        )


def _private(text: str, code: str | None = None) -> Outcome:
    return Outcome(Notice(text, code=code), private=True)


class AlertCommands:
    def __init__(
        self,
        store: Store,
        settings: AlertSettings,
        *,
        now: Callable[[], float] = time.time,  # epoch seconds
        on_change: Callable[[], Awaitable[None]] | None = None,
        check_feed: Callable[[str], Awaitable[str]] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._now = now
        self._on_change = on_change  # the watcher reloads subscriptions and feeds
        self._check_feed = check_feed  # fetches the feed once (safe fetcher) and returns its title

    async def handle(self, where: Place, person: Person, command: AlertCommand) -> Outcome:
        if command.needs_manager and not person.can_manage:
            return _private(MANAGERS_ONLY, "forbidden")
        match command:
            case ListSubscriptions():
                return await self._list(where)
            case ListSources():
                return await self._sources(where)
            case Subscribe():
                outcome = await self._subscribe(where, person, command)
            case Unsubscribe():
                outcome = await self._unsubscribe(where, command.target)
            case AddSource() | RemoveSource():
                outcome = await self._source(where, person, command)
        if not outcome.private and self._on_change is not None:  # something changed
            await self._on_change()
        return outcome

    async def _feeds_for(self, where: Place) -> list[str]:
        own = [f.url for f in await self._store.channel_feeds(where.platform, where.channel)]
        return list(dict.fromkeys([*self._settings.default_feed_urls, *own]))

    async def _subscribe(self, where: Place, person: Person, command: Subscribe) -> Outcome:
        checked = _checked(command)
        if isinstance(checked, Outcome):
            return checked
        query, mention = checked
        existing = await self._store.subscriptions(where.platform, where.channel)
        same = [s for s in existing if s.query == query.normalized()]
        if same and mention is not None and same[0].mention != mention:
            # Subscribing again with another --mention changes who is pinged; nothing else changes.
            await self._store.set_subscription_mention(same[0].id, mention)
            return Outcome(
                Notice(f"#{same[0].id} `{same[0].query}` now mentions {mention.label} with each alert.")
            )
        if len(existing) >= self._settings.max_subscriptions_per_channel:
            return _private("This channel has as many subscriptions as it may; remove one first.", "too_many")
        digest = command.digest
        added = await self._store.add_subscription(
            where.platform, where.channel, query.normalized(),
            created_by=person.user, created_at=self._now(), digest=digest, mention=mention,
        )  # fmt: skip
        if added is None:
            return _private(f"This channel already follows `{query.normalized()}`.")
        feeds = await self._feeds_for(where)
        when = (
            f"a daily digest at {digest.split('@')[1]} ({self._settings.timezone})"
            if digest
            else "each new story"
        )
        watched = "no sources yet: add one with `/brief source add <name>`"
        if feeds:
            watched = _sources_in_words(feeds, self._settings.catalogue)
        pinging = f", mentioning {mention.label}" if mention else ""
        return Outcome(
            Notice(f"Subscribed (#{added.id}): {query.describe()}. I'll post {when}{pinging} from {watched}, "
                   "starting with stories published from now on.")
        )  # fmt: skip

    async def _unsubscribe(self, where: Place, rest: str) -> Outcome:
        target = rest.strip().lstrip("#")
        subscriptions = await self._store.subscriptions(where.platform, where.channel)
        if target.isdigit():
            chosen = [s for s in subscriptions if s.id == int(target)]
        else:
            try:
                normalized = parse_query(target).normalized() if target else ""
            except QueryError:
                normalized = target
            chosen = [s for s in subscriptions if s.query == normalized]
        if not chosen:
            return _private(
                "No such subscription here; `/brief subscriptions` lists them with their numbers."
            )
        await self._store.remove_subscription(where.platform, where.channel, chosen[0].id)
        return Outcome(Notice(f"Unsubscribed #{chosen[0].id}: `{chosen[0].query}`."))

    async def _list(self, where: Place) -> Outcome:
        subscriptions = await self._store.subscriptions(where.platform, where.channel)
        if not subscriptions:
            return _private("This channel has no subscriptions. Try `/brief subscribe <words>`.")
        feeds = await self._feeds_for(where)
        lines = [f"Subscriptions here (watching {len(feeds)} source{'s' if len(feeds) != 1 else ''}):"]
        refusal = (await self._store.paused_channels()).get((where.platform, where.channel))
        if refusal is not None:
            lines.insert(0, PAUSED.format(refusal=refusal))
        for s in subscriptions:
            since = datetime.fromtimestamp(s.created_at).date().isoformat()
            digest = f", digest {s.digest}" if s.digest else ""
            pings = f", mentions {s.mention.label}" if s.mention else ""
            lines.append(
                f"#{s.id} `{s.query}`: {s.alerts} alert{'s' if s.alerts != 1 else ''} since {since}"
                f"{digest}{pings}"
            )
        return _private("\n".join(lines))

    async def _sources(self, where: Place) -> Outcome:
        own = {f.url for f in await self._store.channel_feeds(where.platform, where.channel)}
        feeds = await self._feeds_for(where)
        lines = ["Sources watched for this channel:"] if feeds else ["No sources watched here yet."]
        catalogue = self._settings.catalogue
        lines += [
            f"• {catalogue.describe(url)}{' (added here)' if url in own else ' (default)'}" for url in feeds
        ]
        offered = [feed for feed in catalogue.feeds if feed.url not in feeds]
        if offered:
            lines += ["", "Add one by name with `/brief source add <name>`, or any RSS/Atom feed by its URL:"]
            lines += [f"• `{feed.name}`: {feed.title}" for feed in offered]
        return _private("\n".join(lines))

    async def _source(self, where: Place, person: Person, command: AddSource | RemoveSource) -> Outcome:
        url = self._settings.catalogue.url(command.source) if command.source else None
        if url is None:
            return _private(
                "Use `/brief source add <feed url or name>` or `/brief source remove <feed url or name>`; "
                "`/brief sources` lists the names.",
                "bad_input",
            )
        url = canonical_url(url)
        if isinstance(command, RemoveSource):
            if await self._store.remove_channel_feed(where.platform, where.channel, url):
                return Outcome(Notice(f"Removed the source {url}."))
            return _private(
                "That feed is not one of this channel's own sources (`/brief sources` lists them)."
            )
        return await self._add_source(where, person, url)

    async def _add_source(self, where: Place, person: Person, url: str) -> Outcome:
        if (
            len(await self._store.channel_feeds(where.platform, where.channel))
            >= self._settings.max_feeds_per_channel
        ):
            return _private(
                "This channel has as many sources of its own as it may; remove one first.", "too_many"
            )
        title = url
        if self._check_feed is not None:
            try:
                title = await self._check_feed(url) or url
            except BriefError as error:
                return _private(f"I can't use that feed: {error.message}", error.code)
        if not await self._store.add_channel_feed(where.platform, where.channel, url, added_by=person.user,
                                                  at=self._now()):  # fmt: skip
            return _private("This channel already watches that feed.")
        described = self._settings.catalogue.describe(url)
        named = described if described != url else (url if title == url else f"{title} ({url})")
        return Outcome(Notice(f"Added the source {named}; it is checked every "
                              f"{round(self._settings.poll_interval_seconds / 60)} minutes."))  # fmt: skip
