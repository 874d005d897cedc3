"""Settings from a TOML file (`--config FILE`); every key is optional and documented in config.example.toml.

Invalid settings fail at start with a message naming the key, never later in the middle of a briefing.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bot import __version__

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """The config file is missing, unreadable or has a bad key; the message names the key."""


@dataclass(frozen=True)
class FetchSettings:
    # CIDRs the address guard lets through although they are private; empty in production, set by tests.
    allow_private_networks: tuple[IPNetwork, ...] = ()
    max_bytes: int = 5_000_000
    timeout_seconds: float = 15.0
    max_redirects: int = 5
    user_agent: str = f"briefbot/{__version__} (+https://github.com/briefbot/briefbot; news briefing bot)"


@dataclass(frozen=True)
class SummarySettings:
    sentences: int = 3
    max_chars: int = 700


@dataclass(frozen=True)
class BriefingSettings:
    max_actors_shown: int = 6
    max_dates_shown: int = 5
    workers: int = 0  # processes for briefing work; 0 = one per core


@dataclass(frozen=True)
class Settings:
    fetch: FetchSettings = field(default_factory=FetchSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    briefing: BriefingSettings = field(default_factory=BriefingSettings)


def _network(key: str, value: Any) -> IPNetwork:
    try:
        return ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {value!r} is not a CIDR network such as 127.0.0.0/8") from exc


def _coerce(key: str, default: Any, value: Any) -> Any:
    """Check one value against the type of its default; the error names the key."""
    if isinstance(default, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{key}: must be a list")
        return tuple(_network(key, v) for v in value)
    allowed = (int, float) if isinstance(default, float) else type(default)
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise ConfigError(f"{key}: must be a {type(default).__name__}, not {value!r}")
    if isinstance(default, int | float) and (value < 0 or (value == 0 and default != 0)):
        raise ConfigError(f"{key}: must be positive, not {value!r}")
    return type(default)(value)


def _section(cls: type, name: str, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    defaults = cls()
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{name}.{key}: unknown setting (known: {', '.join(sorted(known))})")
        values[key] = _coerce(f"{name}.{key}", getattr(defaults, key), value)
    return cls(**values)


def parse_settings(raw: dict[str, Any]) -> Settings:
    sections = {f.name: f.default_factory for f in fields(Settings)}  # type: ignore[misc]
    built: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in sections:
            raise ConfigError(f"[{name}]: unknown section (known: {', '.join(sorted(sections))})")
        built[name] = _section(type(sections[name]()), name, value)
    return Settings(**built)


def load_settings(path: str | Path | None) -> Settings:
    if path is None:
        return Settings()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    return parse_settings(raw)
