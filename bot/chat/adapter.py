"""What every chat adapter offers the launcher: run until asked to stop. Adapters only translate."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.chat.core import ChatCore
from bot.store import Delivery


class ChatAdapter(Protocol):
    name: str

    async def run(self, core: ChatCore, stop: asyncio.Event) -> None:
        """Connect, translate events into `core` calls and outcomes into platform replies, until `stop`."""
        ...

    async def deliver(self, delivery: Delivery) -> None:
        """Post one topic alert; return once the platform accepted it, raise otherwise (it stays queued)."""
        ...

    async def check(self) -> str:
        """Prove credentials and endpoints work (`briefbot run --check`); one line saying what was seen."""
        ...
