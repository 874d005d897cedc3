"""What every chat adapter offers the launcher: run until asked to stop. Adapters only translate."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.alerts.model import Delivery
from bot.chat.core import ChatCore


class ChatAdapter(Protocol):
    name: str

    async def run(self, core: ChatCore, stop: asyncio.Event) -> None:
        """Connect, translate events into `core` calls and outcomes into platform replies, until `stop`."""
        ...

    async def deliver(self, delivery: Delivery) -> str | None:
        """Post one topic alert; return once the platform accepted it (with a reference to the message, for
        later edits), raise otherwise (it stays queued)."""
        ...

    async def update(self, delivery: Delivery, ref: str) -> None:
        """Replace a posted alert's content."""
        ...

    async def check(self) -> str:
        """Prove credentials and endpoints work (`briefbot run --check`); one line saying what was seen."""
        ...
