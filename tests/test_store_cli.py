"""`briefbot migrate` and what `briefbot run` does with a store at another schema version, on both engines,
as a user runs them: real processes, the store URL from BRIEFBOT_DATABASE_URL, one-line errors."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from postgres import run_sync

from bot.engines import open_database
from bot.store import MIGRATIONS

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
    assert f"at schema version {LATEST}" in check.stdout.splitlines()[-1]


def test_run_on_a_store_never_migrated(store_url: str, tmp_path: Path) -> None:
    result = briefbot(store_url, "run", "--check", cwd=tmp_path)
    if store_url.startswith("sqlite"):  # the default: a fresh clone's `make run` just works
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1].endswith(f"at schema version {LATEST}")
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
