"""`briefbot migrate` and what `briefbot run` does with a store at another schema version, on both engines,
as a user runs them: real processes, the store URL from BRIEFBOT_DATABASE_URL, one-line errors."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from postgres import run_sync

from bot.engines import open_database
from bot.store import MIGRATIONS, Store

BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))
LATEST = len(MIGRATIONS)


def briefbot(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env["BRIEFBOT_DATABASE_URL"] = url
    return subprocess.run(
        [BRIEFBOT, *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


async def set_version(url: str, version: int) -> None:
    db = await open_database(url)
    try:
        async with db.migration() as tx:
            await tx.set_schema_version(version)
    finally:
        await db.close()


def test_migrate_brings_the_store_to_this_release_and_says_so(store_url: str, tmp_path: Path) -> None:
    first = briefbot(store_url, "migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.endswith(f"at schema version {LATEST} (was 0)\n")
    again = briefbot(store_url, "migrate", cwd=tmp_path)
    assert again.stdout.endswith(f"at schema version {LATEST} (was {LATEST})\n")
    check = briefbot(store_url, "run", "--check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert f"at schema version {LATEST}\n" in check.stdout


def test_run_on_a_store_never_migrated(store_url: str, tmp_path: Path) -> None:
    result = briefbot(store_url, "run", "--check", cwd=tmp_path)
    if store_url.startswith("sqlite"):  # the default: a fresh clone's `make run` just works
        assert result.returncode == 0, result.stderr
        assert f"at schema version {LATEST}\n" in result.stdout
    else:  # a shared store moves only with `briefbot migrate`, not under running replicas
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1
        assert result.stderr.endswith(
            f"at schema version 0 and this release needs {LATEST}: run `briefbot migrate` first\n"
        )


def test_run_refuses_a_schema_newer_than_it_knows(store_url: str, tmp_path: Path) -> None:
    assert briefbot(store_url, "migrate", cwd=tmp_path).returncode == 0
    run_sync(set_version(store_url, LATEST + 1))
    for args in (("run",), ("run", "--check"), ("migrate",)):
        result = briefbot(store_url, *args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"schema version {LATEST + 1}, newer than this release knows ({LATEST})" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_password_in_the_environment_is_never_printed(postgres_url: str, tmp_path: Path) -> None:
    # The throwaway server trusts local connections, so any password opens it.
    parts = urlsplit(postgres_url)
    user, _, host = parts.netloc.rpartition("@")
    url = urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:pw-sekrit@{host}"))
    result = briefbot(url, "run", "--check", cwd=tmp_path)
    assert "pw-sekrit" not in result.stdout + result.stderr
    assert f"{user.partition(':')[0]}:***@{host}" in result.stdout + result.stderr


def test_check_lists_the_replicas_seen_alive_in_the_last_minute(store_url: str, tmp_path: Path) -> None:
    assert briefbot(store_url, "migrate", cwd=tmp_path).returncode == 0

    async def beat() -> None:
        async with await Store.open(store_url) as store:
            now = time.time()
            await store.heartbeat("host-a:101:aaaaaa", started_at=now - 3700, now=now - 2)
            await store.heartbeat("host-b:202:bbbbbb", started_at=now - 30, now=now - 1)
            await store.heartbeat("host-c:303:cccccc", started_at=now - 900, now=now - 600)  # long gone

    run_sync(beat())
    check = briefbot(store_url, "run", "--check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    lines = check.stdout.splitlines()
    at = lines.index("replicas seen in the last 60 s: 2")
    assert lines[at - 1].endswith(f"at schema version {LATEST}")
    assert lines[at + 1].startswith("  host-a:101:aaaaaa: up 1h01m, last seen ")
    assert lines[at + 2].startswith("  host-b:202:bbbbbb: up 0m3")
    assert "host-c" not in check.stdout
