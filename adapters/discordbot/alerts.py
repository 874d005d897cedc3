"""Topic alerts in Discord: one message per alert, posted through the Outbox and edited in place when other
outlets of the story turn up later (its "Also reported by" line).

A crash between Discord's answer and the watcher marking the alert delivered is covered by a nonce derived
from the delivery key: Discord returns the message sent with it instead of posting it again, but only within
its nonce window ("a few minutes"); a replay after a longer outage posts a second copy.
"""

from __future__ import annotations

import hashlib
from typing import Any

import discord

from adapters.discordbot.render import CONTENT_LIMIT, cut
from adapters.discordbot.replies import Posts
from bot.alerts.model import AlertContent, Delivery
from bot.chat.model import Mention, Notice, Place

PLATFORM = "discord"
NONCE_BYTES = 12  # 24 hex digits: Discord takes nonces of at most 25 characters


def alert_nonce(key: str) -> str:
    """A short nonce that is the same every time the alert with this delivery key is sent."""
    return hashlib.blake2b(key.encode(), digest_size=NONCE_BYTES).hexdigest()


def _alert_body(posts: Posts, content: AlertContent, mention: Mention | None) -> dict[str, Any]:
    body = posts.body(content)
    if isinstance(content, Notice):  # e.g. a feed was disabled; the feed's link must not unfurl
        body["suppress_embeds"] = True
    if mention is not None:
        # Whatever the content quotes ("@everyone" in a headline) is escaped: only the mention pings.
        quoted = discord.utils.escape_mentions(body.get("content", ""))
        body["content"] = cut(f"{_mention_markup(mention)} {quoted}", CONTENT_LIMIT)
    return body


def _mention_markup(mention: Mention) -> str:
    return "@here" if mention.group is None else f"<@&{mention.group}>"


def _pinging(mention: Mention | None) -> discord.AllowedMentions:
    """Only the subscription's mention may ping; an alert quotes articles and queries."""
    if mention is None:
        return discord.AllowedMentions.none()
    if mention.group is None:
        return discord.AllowedMentions(everyone=True, users=False, roles=False, replied_user=False)
    role = discord.Object(int(mention.group))
    return discord.AllowedMentions(everyone=False, users=False, roles=[role], replied_user=False)


async def post_alert(posts: Posts, channel: discord.PartialMessageable, delivery: Delivery) -> str:
    """Post the alert; return its message id once Discord accepted it (the id of the message first posted
    when Discord recognises the nonce), raise otherwise."""
    body = _alert_body(posts, delivery.content, delivery.mention)
    nonce = alert_nonce(delivery.key)
    pings = _pinging(delivery.mention)
    posted = await posts.send_queued(
        Place(PLATFORM, delivery.channel),
        lambda: channel.send(nonce=nonce, allowed_mentions=pings, **body),
    )
    return str(posted.id)


async def edit_alert(posts: Posts, channel: discord.PartialMessageable, delivery: Delivery, ref: str) -> None:
    """Edit the alert posted as message `ref` to show its content as it is now; raises PostRefusedError when
    Discord refuses (the message was deleted: 404, code 10008)."""
    message = channel.get_partial_message(int(ref))
    body = _alert_body(posts, delivery.content, delivery.mention)
    # Whether embeds are suppressed is a message flag an edit leaves alone when it does not name it.
    body.pop("suppress_embeds", None)
    no_pings = discord.AllowedMentions.none()  # the mention pinged when the alert was posted
    await posts.send_queued(
        Place(PLATFORM, delivery.channel),
        lambda: message.edit(allowed_mentions=no_pings, **body),
    )
