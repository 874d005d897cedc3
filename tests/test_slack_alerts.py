"""Topic alerts on Slack: SlackAdapter.deliver (real SDK against the local emulator) and their rendering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from emulators.slack import JsonDict, SlackEmulator, slack_emulator_fixture  # noqa: F401 (the fixture)
from fakes import FakeBriefer
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slackbot.adapter import SlackAdapter
from adapters.slackbot.alerts import ALERT_EVENT_TYPE, AlertNotDelivered, AlertNotUpdated
from adapters.slackbot.render import ALSO_MAX_SOURCES, MAX_BLOCKS, SECTION_CHARS, alert_message
from bot.alerts.model import AlertRefused, Delivery, StoryAlert
from bot.chat.core import ChatCore
from bot.chat.model import Notice
from bot.chat.outbox import Outbox
from bot.config import Settings, SlackSettings, StoreSettings
from bot.models import Actor, Briefing
from bot.store import Store

STORY = "https://news.example.org/2024/05/harbour-bridge"
OTHERS = ["https://wire.example.com/harbour", "https://daily.example.net/a/bridge?id=7"]
CREATED_AT = 1_700_000_000.0  # the emulator's message timestamps start just after this


def briefing(title: str = "Harbour bridge reopens") -> Briefing:
    return Briefing(
        title=title,
        url=STORY,
        published=None,
        summary=["The bridge reopened on Monday after repairs."],
        actors=[Actor("Port Authority", "organization", 3)],
    )


def alert(
    key: str, *, channel: str = "C0GENERAL", also: list[str] | None = None, title: str = ""
) -> Delivery:
    content = StoryAlert(7, 'bridge -"toll road"', briefing(title or f"Story {key}"), tuple(also or ()))
    return Delivery(key, "slack", channel, content, CREATED_AT)


def story(delivery: Delivery) -> StoryAlert:
    assert isinstance(delivery.content, StoryAlert)
    return delivery.content


def alert_key(post: Any) -> str:
    metadata = post.args["metadata"]
    assert metadata["event_type"] == ALERT_EVENT_TYPE
    return str(metadata["event_payload"]["key"])


def make_adapter(slack: SlackEmulator, database: Path | None = None) -> SlackAdapter:
    # A running adapter keeps handled event ids in the store file: the test's own, not one in the cwd.
    store = StoreSettings(f"sqlite:///{database}") if database else StoreSettings()
    settings = Settings(store=store, slack=SlackSettings(mode="socket", api_base_url=slack.base_url))
    # No backoff between failed attempts: the tests count attempts, never time.
    outbox = Outbox(failure_backoff=0.0)
    return SlackAdapter(
        settings, bot_token=slack.bot_token, app_token_or_secret=slack.app_token, outbox=outbox
    )


@pytest_asyncio.fixture
async def adapter(slack_emulator: SlackEmulator, tmp_path: Path) -> AsyncIterator[SlackAdapter]:
    """A connected SlackAdapter (Socket Mode against the emulator), stopped cleanly afterwards."""
    running = make_adapter(slack_emulator, tmp_path / "bot.sqlite3")
    async with await Store.open(tmp_path / "bot.sqlite3") as store:
        # Alerts arrive already briefed; the chat core is only there because run() needs one.
        unused = FakeBriefer(unused="alerts are not briefed by the adapter")
        core = ChatCore(unused, store, Settings().chat)
        stop = asyncio.Event()
        run = asyncio.create_task(running.run(core, stop))
        ready = asyncio.create_task(running.ready.wait())
        await asyncio.wait([run, ready], timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert running.ready.is_set(), run.exception() if run.done() else "adapter never got ready"
        try:
            yield running
        finally:
            stop.set()
            await asyncio.wait_for(run, 10)


# ----- delivery ------------------------------------------------------------------------------------------
async def test_alert_is_posted_with_header_briefing_and_other_sources(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ts = await adapter.deliver(alert("7:abc", also=OTHERS))

    [post] = slack_emulator.posts  # recorded before deliver returned: no waiting needed
    assert ts == post.response["ts"]  # the reference the watcher keeps for later edits
    assert post.args["channel"] == "C0GENERAL"
    assert "thread_ts" not in post.args
    assert (post.args["unfurl_links"], post.args["unfurl_media"]) == (False, False)
    assert alert_key(post) == "7:abc"
    blocks = post.args["blocks"]
    assert blocks[0]["text"]["text"] == 'New story for `bridge -"toll road"` (#7)'
    assert blocks[1]["text"]["text"] == f"*<{STORY}|Story 7:abc>*"
    assert "The bridge reopened on Monday" in blocks[2]["text"]["text"]
    assert blocks[-1]["elements"][0]["text"] == (
        f"Also reported by: <{OTHERS[0]}|wire.example.com>, <{OTHERS[1]}|daily.example.net>"
    )
    assert post.args["text"].startswith('New story for `bridge -"toll road"` (#7)\nStory 7:abc')


async def test_notice_is_posted_as_plain_text(adapter: SlackAdapter, slack_emulator: SlackEmulator) -> None:
    text = "I stopped checking the feed https://feeds.example.org/rss: it failed too many times."
    await adapter.deliver(Delivery("disabled:x", "slack", "C0GENERAL", Notice(text), CREATED_AT))

    [post] = slack_emulator.posts
    assert post.args["text"] == text
    assert "blocks" not in post.args
    assert alert_key(post) == "disabled:x"


async def test_burst_of_429s_delivers_every_alert_in_order(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.rate_limit("chat.postMessage", times=5, retry_after=0)
    keys = [f"7:story{n}" for n in range(4)]
    sending = [asyncio.create_task(adapter.deliver(alert(key))) for key in keys]

    for n, task in enumerate(sending):
        await task
        # deliver returned only after Slack recorded this alert (and, in order, the ones before it).
        assert [alert_key(post) for post in slack_emulator.posts][: n + 1] == keys[: n + 1]
    assert [alert_key(post) for post in slack_emulator.posts] == keys
    statuses = [call.status for call in slack_emulator.calls_to("chat.postMessage")]
    assert statuses == [429] * 5 + [200] * 4


async def test_refused_post_raises_and_is_not_retried(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    with pytest.raises(AlertRefused, match="channel_not_found"):  # refused for good: the watcher parks it
        await adapter.deliver(alert("7:abc", channel="C0NOWHERE"))

    [attempt] = slack_emulator.calls_to("chat.postMessage")
    assert attempt.response["error"] == "channel_not_found"
    assert slack_emulator.posts == []


async def test_alert_already_in_the_channel_is_not_posted_again(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    # What a previous run posted before it crashed, without marking the alert delivered.
    metadata = {"event_type": ALERT_EVENT_TYPE, "event_payload": {"key": "7:abc"}}
    earlier = slack_emulator.add_message("C0GENERAL", "New story for `bridge`", metadata=metadata)

    assert await adapter.deliver(alert("7:abc")) == earlier["ts"]
    await adapter.deliver(alert("7:def"))

    assert [alert_key(post) for post in slack_emulator.posts] == ["7:def"]
    [search] = slack_emulator.calls_to("conversations.history")  # once per channel after start
    assert search.args["channel"] == "C0GENERAL"
    assert search.args["include_all_metadata"] == "1"


async def test_alert_another_replica_posted_after_the_search_is_not_posted_again(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    """Replicas sharing a store: this one searched the channel at its first post; another then claimed an
    alert, posted it and died before marking it delivered. Handed over, it is looked up, not posted again."""
    await adapter.deliver(alert("7:first"))  # the channel's history is searched once, here
    metadata = {"event_type": ALERT_EVENT_TYPE, "event_payload": {"key": "7:abc"}}
    elsewhere = slack_emulator.add_message("C0GENERAL", "New story for `bridge`", metadata=metadata)

    assert await adapter.deliver(replace(alert("7:abc"), handed_over=True)) == elsewhere["ts"]
    assert [alert_key(post) for post in slack_emulator.posts] == ["7:first"]
    assert len(slack_emulator.calls_to("conversations.history")) == 2


async def test_alert_posted_this_run_is_not_posted_again(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    first = await adapter.deliver(alert("7:abc"))
    again = await adapter.deliver(alert("7:abc"))  # e.g. the store failed to mark it delivered

    assert [alert_key(post) for post in slack_emulator.posts] == ["7:abc"]
    assert again == first


async def test_post_whose_answer_was_lost_is_found_in_history_not_posted_twice(
    adapter: SlackAdapter, slack_emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_message = slack_emulator._post_message

    def posted_then_failed(args: JsonDict) -> JsonDict:
        monkeypatch.undo()  # once: the message is stored, but the bot gets an HTTP 500
        post_message(args)
        raise RuntimeError("emulated crash after posting")

    monkeypatch.setattr(slack_emulator, "_post_message", posted_then_failed)
    ts = await adapter.deliver(alert("7:abc"))  # the Outbox retries; the retry finds the post in history

    in_channel = await AsyncWebClient(
        token=slack_emulator.bot_token, base_url=slack_emulator.base_url
    ).conversations_history(channel="C0GENERAL", include_all_metadata=True)
    keys = [m["metadata"]["event_payload"]["key"] for m in in_channel["messages"]]
    assert keys == ["7:abc"]
    assert ts == in_channel["messages"][0]["ts"]  # the reference comes from history: the answer was lost
    assert len(slack_emulator.calls_to("conversations.history")) == 3  # start, after the lost answer, test


async def test_deliver_before_connecting_raises_so_the_alert_stays_queued(
    slack_emulator: SlackEmulator,
) -> None:
    with pytest.raises(AlertNotDelivered, match="not connected"):
        await make_adapter(slack_emulator).deliver(alert("7:abc"))
    assert slack_emulator.calls == []


async def test_alert_for_another_platform_is_refused(adapter: SlackAdapter) -> None:
    other = Delivery("7:abc", "discord", "123", alert("7:abc").content, CREATED_AT)
    with pytest.raises(AlertNotDelivered, match="discord"):
        await adapter.deliver(other)


# ----- editing a posted alert (another outlet reported the story) ----------------------------------------
def also_line(message: JsonDict) -> str:
    return str(message["blocks"][-1]["elements"][0]["text"])


async def test_update_edits_the_posted_message_to_list_the_new_outlet(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ts = await adapter.deliver(alert("7:abc", also=OTHERS[:1]))

    await adapter.update(alert("7:abc", also=OTHERS), ts)

    [edit] = slack_emulator.calls_to("chat.update")
    assert (edit.args["channel"], edit.args["ts"]) == ("C0GENERAL", ts)
    message = slack_emulator.message("C0GENERAL", ts)
    assert message is not None
    assert also_line(message) == (
        f"Also reported by: <{OTHERS[0]}|wire.example.com>, <{OTHERS[1]}|daily.example.net>"
    )
    assert "daily.example.net" in message["text"]  # the notification / fallback text follows
    assert message["metadata"]["event_payload"]["key"] == "7:abc"  # a restart still recognizes it
    assert len(slack_emulator.posts) == 1  # edited in place, nothing new posted


async def test_update_waits_out_429s(adapter: SlackAdapter, slack_emulator: SlackEmulator) -> None:
    ts = await adapter.deliver(alert("7:abc"))
    slack_emulator.rate_limit("chat.update", times=3, retry_after=0)

    await adapter.update(alert("7:abc", also=OTHERS[1:]), ts)

    assert [call.status for call in slack_emulator.calls_to("chat.update")] == [429] * 3 + [200]
    message = slack_emulator.message("C0GENERAL", ts)
    assert message is not None
    assert also_line(message) == f"Also reported by: <{OTHERS[1]}|daily.example.net>"


async def test_update_of_a_deleted_message_raises_without_retrying(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ts = await adapter.deliver(alert("7:abc"))
    slack_emulator.delete_message("C0GENERAL", ts)

    with pytest.raises(AlertNotUpdated, match="message_not_found"):
        await adapter.update(alert("7:abc", also=OTHERS), ts)
    assert len(slack_emulator.calls_to("chat.update")) == 1


async def test_update_of_an_unknown_message_raises(adapter: SlackAdapter) -> None:
    with pytest.raises(AlertNotUpdated, match="message_not_found"):
        await adapter.update(alert("7:abc", also=OTHERS), "1700000000.999999")


async def test_update_rendered_as_plain_text_clears_the_old_blocks(
    adapter: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ts = await adapter.deliver(alert("7:abc", also=OTHERS))

    await adapter.update(Delivery("7:abc", "slack", "C0GENERAL", Notice("Story withdrawn."), CREATED_AT), ts)

    message = slack_emulator.message("C0GENERAL", ts)
    assert message is not None
    assert (message["text"], message["blocks"]) == ("Story withdrawn.", [])


async def test_update_before_connecting_raises(slack_emulator: SlackEmulator) -> None:
    with pytest.raises(AlertNotUpdated, match="not connected"):
        await make_adapter(slack_emulator).update(alert("7:abc"), "1700000000.000001")
    assert slack_emulator.calls == []


# ----- rendering ----------------------------------------------------------------------------------------
def test_long_alert_is_cut_to_slack_limits_and_query_cannot_break_its_code_span() -> None:
    content = story(alert("7:abc", also=[f"https://outlet{n}.example.com/{'x' * 400}" for n in range(40)]))
    content.briefing.summary = ["A long sentence about the harbour. " * 40] * 10
    content = replace(content, query="a`b " + "bridge " * 100)

    message = alert_message(content)

    header = message["blocks"][0]["text"]["text"]
    assert header.startswith("New story for `a'b bridge")
    assert header.count("`") == 2
    assert len(message["text"]) <= 4000
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert all(len(block["text"]["text"]) <= SECTION_CHARS for block in message["blocks"] if "text" in block)
    also = message["blocks"][-1]["elements"][0]["text"]
    assert len(also) <= SECTION_CHARS
    assert also.endswith(f" and {40 - also.count('|')} more")
    assert also.count("|") <= ALSO_MAX_SOURCES


def test_other_sources_are_listed_once_and_escaped() -> None:
    urls = [OTHERS[0], OTHERS[0], "https://x.example.org/?a=1&b=<2>"]
    also = alert_message(story(alert("7:abc", also=urls)))["blocks"][-1]["elements"][0]["text"]
    assert also == (
        f"Also reported by: <{OTHERS[0]}|wire.example.com>, "
        "<https://x.example.org/?a=1&amp;b=&lt;2&gt;|x.example.org>"
    )


def test_alert_without_other_sources_has_no_also_line() -> None:
    message = alert_message(story(alert("7:abc")))
    assert all(block["type"] != "context" or "Also" not in str(block) for block in message["blocks"])
    assert "Also reported by" not in message["text"]


# ----- the emulator's conversations.history -------------------------------------------------------------
async def test_emulator_history_pages_newest_first_with_metadata_on_request(
    slack_emulator: SlackEmulator,
) -> None:
    for n in range(5):
        slack_emulator.add_message(
            "C0GENERAL", f"m{n}", metadata={"event_type": "t", "event_payload": {"n": n}}
        )
    client = AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.base_url)

    first = await client.conversations_history(channel="C0GENERAL", limit=3, include_all_metadata=True)
    second = await client.conversations_history(
        channel="C0GENERAL", limit=3, cursor=first["response_metadata"]["next_cursor"]
    )

    assert [m["text"] for m in first["messages"]] == ["m4", "m3", "m2"]
    assert first["has_more"] is True
    assert [m["metadata"]["event_payload"]["n"] for m in first["messages"]] == [4, 3, 2]
    assert [m["text"] for m in second["messages"]] == ["m1", "m0"]
    assert second["has_more"] is False
    assert all("metadata" not in m for m in second["messages"])
    later = await client.conversations_history(channel="C0GENERAL", oldest=first["messages"][1]["ts"])
    assert [m["text"] for m in later["messages"]] == ["m4"]
