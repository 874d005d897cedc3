"""The venv is exactly its lock: every installed distribution pinned there, at that version, and consistent.

The Makefile installs a lock with --no-deps, so a lock missing a dependency would install an environment
that imports nothing of it; this is the test that notices.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# What `python3 -m venv` puts there itself, and the project, installed editable from the tree.
NOT_FROM_LOCK = {"pip", "briefbot"}


def _lock_in_use() -> Path:
    """The lock the Makefile installed here (the stamp names it); the runtime one otherwise."""
    stamp = Path(sys.prefix) / ".installed"
    name = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else ""
    return ROOT / (name or "requirements.lock")


def _pins(lock: Path) -> dict[str, str]:
    """Name -> version of the lock's requirements whose markers hold on this interpreter and platform."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in " #-":
            continue
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{lock.name}: {line!r} is not pinned with =="
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def _installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def test_every_installed_distribution_is_pinned_in_the_lock() -> None:
    lock = _lock_in_use()
    pins = _pins(lock)
    stray = {
        name: version
        for name, version in _installed().items()
        if name not in NOT_FROM_LOCK and pins.get(name) != version
    }
    assert not stray, f"installed but not pinned at this version in {lock.name}: {stray}"


def test_every_pin_of_the_lock_is_installed() -> None:
    installed = _installed()
    pins = _pins(_lock_in_use())
    missing = {name: version for name, version in pins.items() if installed.get(name) != version}
    assert not missing, f"pinned but not installed: {missing}"


def test_pinned_set_is_consistent() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_locks_agree_on_what_they_share() -> None:
    """Not required by pip, but a drift here means one lock was regenerated without the other."""
    runtime, bench = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-bench.lock")
    # newspaper4k (bench only) caps python-dateutil below 3; everything else must be the same release.
    differing = {
        name: (version, bench[name])
        for name, version in runtime.items()
        if name in bench and bench[name] != version and name != "python-dateutil"
    }
    assert not differing, differing
