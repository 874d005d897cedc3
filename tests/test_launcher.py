"""`briefbot run --check` and the choice of adapters from the environment."""

import asyncio
import os
import sys
from pathlib import Path

from emulators.slack import SlackEmulator, slack_emulator_fixture  # noqa: F401

from adapters.launcher import enabled_adapters
from bot.config import ConfigError, Settings

BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))


def test_console_without_tokens_and_platforms_with_them() -> None:
    assert [a.name for a in enabled_adapters(Settings(), {})] == ["console"]
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "DISCORD_TOKEN": "d-1"}
    assert [a.name for a in enabled_adapters(Settings(), env)] == ["slack", "discord"]


def test_a_missing_companion_secret_names_its_variable() -> None:
    try:
        enabled_adapters(Settings(), {"SLACK_BOT_TOKEN": "xoxb-1"})
    except ConfigError as error:
        assert "SLACK_APP_TOKEN" in str(error)
    else:
        raise AssertionError("Socket Mode without an app token must not start")


async def run_check(config: Path, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        BRIEFBOT, "run", "--check", "--config", str(config), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}


async def test_check_reports_each_platform(slack_emulator: SlackEmulator, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
        f'[slack]\napi_base_url = "{slack_emulator.base_url}"\n'
    )
    code, out, _ = await run_check(config, clean_env())
    assert code == 0
    assert out.splitlines()[0].startswith("console: ready")

    env = clean_env() | {
        "SLACK_BOT_TOKEN": slack_emulator.bot_token,
        "SLACK_APP_TOKEN": slack_emulator.app_token,
    }
    code, out, err = await run_check(config, env)
    assert code == 0, out + err
    assert out.startswith("slack: connected as @briefbot")
    assert slack_emulator.bot_token not in out + err

    env["SLACK_BOT_TOKEN"] = "xoxb-wrong"
    code, out, _ = await run_check(config, env)
    assert code == 1
    assert out.startswith("slack: FAILED")
