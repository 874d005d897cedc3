"""The real `briefbot run` process for end-to-end tests, logged into the Slack and/or Discord emulators."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from emulators.discord import DiscordEmulator
from emulators.slack import SlackEmulator

BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))


async def start_slack_bot(config: Path, slack: SlackEmulator, log: Path) -> asyncio.subprocess.Process:
    """`briefbot run -v --config CONFIG` with the emulator's tokens only; its output appended to LOG."""
    return await start_bot(config, log, slack=slack)


async def start_bot(
    config: Path, log: Path, *, slack: SlackEmulator | None = None, discord: DiscordEmulator | None = None
) -> asyncio.subprocess.Process:
    """`briefbot run -v --config CONFIG` with the tokens of the emulators given (the config points the
    platforms at them); its output appended to LOG."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    if slack is not None:
        env |= {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token}
    if discord is not None:
        env["DISCORD_TOKEN"] = discord.token
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            BRIEFBOT, "run", "-v", "--config", str(config), env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip


def alert_posts(slack: SlackEmulator) -> list[dict[str, Any]]:
    """chat.postMessage arguments of the topic alerts Slack accepted (alerts carry their key as metadata)."""
    return [
        call.args
        for call in slack.calls_to("chat.postMessage")
        if call.response.get("ok") and isinstance(call.args.get("metadata"), dict)
    ]
