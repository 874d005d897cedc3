"""The platform-neutral chat behaviour, with a fake briefer and a real SQLite file."""

import asyncio
from pathlib import Path

from fakes import FakeBriefer

from bot.chat.core import ChatCore
from bot.chat.model import Notice, Outcome, Person, Place
from bot.config import ChatSettings
from bot.errors import NotFoundError
from bot.models import Briefing
from bot.store import Store

HERE = Place("slack", "C1", thread="111.222")
ALICE = Person("U1")


def fake_briefer(gate: asyncio.Event | None = None) -> FakeBriefer:
    """Links with "missing" in them are 404s; links with "bug" in them hit a fault (not a BriefError)."""
    errors = {"missing": NotFoundError(), "bug": RuntimeError("a fault with private details")}
    return FakeBriefer(errors=errors, gate=gate)


def core_with(briefer: FakeBriefer, store: Store, **settings: object) -> ChatCore:
    return ChatCore(briefer, store, ChatSettings(**settings))  # type: ignore[arg-type]


async def collect(core: ChatCore, text: str, person: Person = ALICE, where: Place = HERE) -> list[Outcome]:
    return [outcome async for outcome in core.on_message(where, person, text)]


async def test_pasted_links_get_one_briefing_each_in_order(store: Store) -> None:
    briefer = fake_briefer()
    core = core_with(briefer, store, max_links_per_message=2)
    text = "see https://a.example/1 and https://b.example/2 and https://c.example/3"
    outcomes = await collect(core, text)
    assert [o.reply.title for o in outcomes] == [
        "Title of https://a.example/1",
        "Title of https://b.example/2",
    ]
    assert not any(o.private for o in outcomes)


async def test_bots_and_linkless_messages_are_ignored(store: Store) -> None:
    briefer = fake_briefer()
    core = core_with(briefer, store)
    assert await collect(core, "https://a.example/1", person=Person("B1", is_bot=True)) == []
    assert await collect(core, "no links today") == []
    assert briefer.urls == []


async def test_auto_brief_is_per_channel_and_survives_a_restart(tmp_path: Path) -> None:
    briefer = fake_briefer()
    async with await Store.open(tmp_path / "bot.sqlite3") as store:
        core = core_with(briefer, store, auto_brief=True)
        outcome = await core.on_command(HERE, ALICE, "auto off")
        assert isinstance(outcome.reply, Notice) and not outcome.private
        assert await collect(core, "https://a.example/1") == []
        other = Place("slack", "C2")
        assert len(await collect(core, "https://a.example/1", where=other)) == 1
    async with await Store.open(tmp_path / "bot.sqlite3") as store:
        core = core_with(briefer, store, auto_brief=True)
        assert await collect(core, "https://a.example/1") == []
        status = await core.on_command(HERE, ALICE, "auto")
        assert "off" in status.reply.text  # type: ignore[union-attr]
        await core.on_command(HERE, ALICE, "auto on")
        assert len(await collect(core, "https://a.example/1")) == 1


async def test_default_off_means_only_commands_brief(store: Store) -> None:
    core = core_with(fake_briefer(), store, auto_brief=False)
    assert await collect(core, "https://a.example/1") == []
    outcome = await core.on_command(HERE, ALICE, "https://a.example/1")
    assert isinstance(outcome.reply, Briefing)


async def test_command_briefs_links_and_text_and_explains_itself(store: Store) -> None:
    briefer = fake_briefer()
    core = core_with(briefer, store)
    assert (await core.on_command(HERE, ALICE, "https://a.example/1 please")).reply.title == (
        "Title of https://a.example/1"
    )
    text = "A long pasted article about a council meeting that went on late. " * 3
    assert isinstance((await core.on_command(HERE, ALICE, text)).reply, Briefing)
    assert briefer.texts == [text]
    for ask in ("", "help", "HELP"):
        helped = await core.on_command(HERE, ALICE, ask)
        assert helped.private and "/brief auto on" in helped.reply.text  # type: ignore[union-attr]
    bad = await core.on_command(HERE, ALICE, "auto maybe")
    assert bad.private and bad.reply.code == "bad_input"  # type: ignore[union-attr]


async def test_errors_are_private_and_faults_hide_their_details(store: Store) -> None:
    core = core_with(fake_briefer(), store)
    missing = await core.on_command(HERE, ALICE, "https://a.example/missing")
    assert missing.private and missing.reply == Notice(NotFoundError.default_message, code="not_found")
    fault = await core.on_command(HERE, ALICE, "https://a.example/bug")
    assert fault.private and fault.reply.code == "internal_error"  # type: ignore[union-attr]
    assert "private details" not in fault.reply.text  # type: ignore[union-attr]


async def test_same_link_from_many_channels_is_briefed_once(store: Store) -> None:
    gate = asyncio.Event()
    briefer = fake_briefer(gate)
    core = core_with(briefer, store, channel_burst=50, user_burst=50)
    places = [Place("slack", f"C{i}") for i in range(20)]
    asks = [
        asyncio.create_task(core.on_command(p, Person(f"U{i}"), "https://a.example/x?utm_source=chat"))
        for i, p in enumerate(places)
    ]
    # The briefing starts in a task of its own, queued behind every ask: once it runs, all have joined it.
    await briefer.wait_for_calls(1)
    gate.set()
    outcomes = await asyncio.gather(*asks)
    assert all(isinstance(o.reply, Briefing) for o in outcomes)
    assert briefer.urls == ["https://a.example/x?utm_source=chat"]
    await core.on_command(HERE, ALICE, "https://A.example/x#later")
    assert len(briefer.urls) == 1, "the canonical URL hits the cache"


async def test_rate_limits_answer_commands_and_drop_pasted_links(store: Store) -> None:
    briefer = fake_briefer()
    core = core_with(briefer, store, user_burst=2, user_briefings_per_minute=1)
    assert isinstance((await core.on_command(HERE, ALICE, "https://a.example/1")).reply, Briefing)
    assert isinstance((await core.on_command(HERE, ALICE, "https://a.example/2")).reply, Briefing)
    slow = await core.on_command(HERE, ALICE, "https://a.example/3")
    assert slow.private and slow.reply.code == "rate_limited"  # type: ignore[union-attr]
    assert await collect(core, "https://a.example/4") == [], "pasted links over the limit are dropped quietly"
    assert len(await collect(core, "https://a.example/4", person=Person("U2"))) == 1


async def test_pending_work_is_capped(store: Store) -> None:
    gate = asyncio.Event()
    briefer = fake_briefer(gate)
    core = core_with(briefer, store, max_pending_briefings=2, user_burst=10, channel_burst=10)
    first = [asyncio.create_task(core.on_command(HERE, ALICE, f"https://a.example/{i}")) for i in range(2)]
    await briefer.wait_for_calls(2)  # both in flight, holding the two pending slots
    busy = await core.on_command(HERE, ALICE, "https://a.example/3")
    assert busy.private and busy.reply.code == "busy"  # type: ignore[union-attr]
    gate.set()
    assert all(isinstance(o.reply, Briefing) for o in await asyncio.gather(*first))


async def test_a_text_starting_with_help_is_briefed_not_answered_with_help(store: Store) -> None:
    briefer = fake_briefer()
    core = core_with(briefer, store)
    text = "Help arrived in the flooded valley on Monday after three days of rain, officials said."
    outcome = await core.on_command(HERE, ALICE, text)
    assert isinstance(outcome.reply, Briefing)
    assert briefer.texts == [text]
