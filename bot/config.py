"""Settings from a TOML file (`--config FILE`); every key is optional and documented in config.example.toml.

Invalid settings fail at start with a message naming the key, never later in the middle of a briefing.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import __version__
from bot.alerts.catalogue import DEFAULT_SOURCES, Catalogue
from bot.engines.url import SQLITE_PREFIX, engine_of, has_password, redact

log = logging.getLogger(__name__)

DATABASE_URL_ENV = "BRIEFBOT_DATABASE_URL"  # overrides [store] url; the place for a PostgreSQL password

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
    time_limit_seconds: float = 30.0  # per briefing in a worker process; an overrun is killed, `timeout`
    memory_limit_mb: int = 2048  # data segment of each worker process; beyond it `too_large`; 0 = none


@dataclass(frozen=True)
class ChatSettings:
    """How the bot behaves in every channel, on every platform."""

    auto_brief: bool = True  # brief links pasted in channels; each channel can change it with /brief auto
    max_links_per_message: int = 3
    cache_ttl_seconds: float = 600.0  # the same link from many channels within this time is briefed once
    cache_max_entries: int = 1000
    max_pending_briefings: int = 100  # beyond this the bot says it is busy instead of queueing forever
    user_briefings_per_minute: float = 6.0
    user_burst: int = 3
    channel_briefings_per_minute: float = 20.0
    channel_burst: int = 10


@dataclass(frozen=True)
class StoreSettings:
    """Where all durable state lives: an SQLite file (one process) or PostgreSQL (several share it)."""

    url: str = "sqlite:///briefbot.sqlite3"  # relative to the working directory; sqlite:////abs/path

    def __post_init__(self) -> None:
        if engine_of(self.url) is None:
            raise ConfigError(
                f"store.url: {redact(self.url)!r} is neither sqlite:///FILE nor postgresql://user@host:port/db"
            )


@dataclass(frozen=True)
class AlertSettings:
    """Topic alerts: the feeds every channel's subscriptions watch, and the limits per channel."""

    # What every channel's subscriptions watch: catalogue names (bot/alerts/catalogue.py) or RSS/Atom URLs;
    # channels add their own with /brief source add. Polled only while some subscription needs them.
    default_feeds: tuple[str, ...] = DEFAULT_SOURCES
    sources: tuple[tuple[str, str], ...] = ()  # [alerts.sources] name = "feed url": names of your own
    # News search RSS endpoints with a {query} placeholder: polled once per distinct subscription query as one
    # more source of those subscriptions (bot/alerts/search.py).
    search_feeds: tuple[str, ...] = ()
    poll_interval_seconds: float = 600.0
    dedupe_window_hours: float = 48.0  # the same story from several outlets within this window alerts once
    max_subscriptions_per_channel: int = 25
    max_feeds_per_channel: int = 10
    timezone: str = "UTC"  # for digest times such as daily@08:00
    retry_seconds: float = 30.0  # how soon alerts a platform refused (or was not connected for) are retried
    # A channel whose alerts the platform refused for good (gone, bot removed) is paused; this often one of
    # its parked alerts is tried again, and when the platform takes it the channel resumes, nothing lost.
    parked_retry_seconds: float = 900.0
    # Replicas sharing a store claim queued alerts for this long (longer than posting a round takes): one
    # killed while posting leaves its alerts to another after this.
    claim_seconds: float = 60.0

    @functools.cached_property
    def catalogue(self) -> Catalogue:  # built once: commands and every refresh resolve names with it
        return Catalogue(self.sources)

    @property
    def default_feed_urls(self) -> tuple[str, ...]:
        catalogue = self.catalogue
        return tuple(url for source in self.default_feeds if (url := catalogue.url(source)))

    def __post_init__(self) -> None:
        for name, url in self.sources:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"alerts.sources.{name}: {url!r} is not an http(s) feed URL")
        for template in self.search_feeds:
            if "{query}" not in template or not template.startswith(("http://", "https://")):
                raise ConfigError(
                    f"alerts.search_feeds: {template!r} must be an http(s) URL with a {{query}} placeholder"
                )
        for source in self.default_feeds:
            if self.catalogue.url(source) is None:
                raise ConfigError(
                    f"alerts.default_feeds: {source!r} is neither a catalogue name (such as bbc-world) "
                    "nor an http(s) feed URL"
                )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"alerts.timezone: {self.timezone!r} is not a time zone such as Europe/Paris"
            ) from None


@dataclass(frozen=True)
class SlackSettings:
    mode: str = "socket"  # "socket" (no public URL needed) or "http" (Events API with signed requests)
    bot_token_env: str = "SLACK_BOT_TOKEN"  # names of environment variables: secrets never live in this file
    app_token_env: str = "SLACK_APP_TOKEN"  # Socket Mode only
    signing_secret_env: str = "SLACK_SIGNING_SECRET"  # HTTP mode only
    api_base_url: str = "https://slack.com/api/"  # GovSlack and proxies use another
    http_host: str = "0.0.0.0"  # HTTP mode must be reachable by Slack
    http_port: int = 3000
    http_path: str = "/slack/events"
    # Besides workspace admins and owners, these user ids may change a channel's subscriptions and sources.
    managers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in ("socket", "http"):
            raise ConfigError(f'slack.mode: must be "socket" or "http", not {self.mode!r}')


@dataclass(frozen=True)
class DiscordSettings:
    token_env: str = "DISCORD_TOKEN"
    message_content_intent: bool = False  # privileged: enable it in the developer portal first
    api_base_url: str = "https://discord.com/api/v10"  # e.g. a REST rate-limit proxy
    gateway_url: str = "wss://gateway.discord.gg/"
    # Discord requires sharding past 2,500 servers: the total number of shards across all replicas (0: one
    # shard, as an unsharded bot), and the shards this replica runs (empty: all of them).
    shard_count: int = 0
    shard_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.shard_ids and not self.shard_count:
            raise ConfigError("discord.shard_ids: needs discord.shard_count, the total across all replicas")
        if len(set(self.shard_ids)) < len(self.shard_ids):
            raise ConfigError(f"discord.shard_ids: lists a shard twice in {list(self.shard_ids)}")
        for shard_id in self.shard_ids:
            if shard_id >= self.shard_count:
                raise ConfigError(
                    f"discord.shard_ids: shard {shard_id} does not exist with discord.shard_count = "
                    f"{self.shard_count} (ids run from 0 to shard_count - 1)"
                )

    @property
    def shards(self) -> tuple[int, tuple[int, ...]]:
        """The total number of shards and the ones this replica runs."""
        total = self.shard_count or 1
        return total, self.shard_ids or tuple(range(total))


@dataclass(frozen=True)
class OpsSettings:
    # "host:port" to serve /healthz and Prometheus /metrics on; "" (the default) serves nothing. Keep it on
    # loopback or a private network: the metrics name no secrets, but they are not for the public.
    listen: str = ""

    def __post_init__(self) -> None:
        if self.listen and self.address is None:
            raise ConfigError(f'ops.listen: {self.listen!r} is not "host:port", e.g. "127.0.0.1:9464"')

    @property
    def address(self) -> tuple[str, int] | None:
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            return None
        return host.strip("[]"), int(port)


@dataclass(frozen=True)
class Settings:
    fetch: FetchSettings = field(default_factory=FetchSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    briefing: BriefingSettings = field(default_factory=BriefingSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)


def _network(key: str, value: Any) -> IPNetwork:
    try:
        return ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {value!r} is not a CIDR network such as 127.0.0.0/8") from exc


def _coerce(key: str, default: Any, value: Any) -> Any:
    """Check one value against the type of its default; the error names the key."""
    if key == "alerts.sources":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f'{key}: must be a table of name = "feed url"')
        return tuple(sorted(value.items()))
    if key == "discord.shard_ids":
        if not isinstance(value, list) or not all(type(v) is int and v >= 0 for v in value):
            raise ConfigError(f"{key}: must be a list of shard numbers such as [0, 1]")
        return tuple(value)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: must be a list of strings")
        return tuple(_network(key, v) if key == "fetch.allow_private_networks" else v for v in value)
    allowed = (int, float) if isinstance(default, float) else type(default)
    if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, allowed):
        raise ConfigError(f"{key}: must be a {type(default).__name__}, not {value!r}")
    if isinstance(default, bool):
        return value
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


def _moved_database_key(raw: dict[str, Any]) -> dict[str, Any]:
    """`[chat] database = FILE`, from before `[store] url`, still works: it becomes sqlite:///FILE."""
    chat = raw.get("chat")
    if not isinstance(chat, dict) or "database" not in chat:
        return raw
    path = chat["database"]
    if not isinstance(path, str) or not path:
        raise ConfigError(f"chat.database: must be a file name, not {path!r}")
    raw = {**raw, "chat": {k: v for k, v in chat.items() if k != "database"}}
    store = raw.get("store")
    if isinstance(store, dict) and "url" in store:
        log.warning("chat.database is deprecated and ignored: [store] url is set")
        return raw
    log.warning('chat.database is deprecated: write [store] url = "%s%s" instead', SQLITE_PREFIX, path)
    return {**raw, "store": {**(store if isinstance(store, dict) else {}), "url": SQLITE_PREFIX + path}}


def parse_settings(raw: dict[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Settings from a parsed file; `env` may override the store URL (BRIEFBOT_DATABASE_URL)."""
    raw = _moved_database_key(raw)
    store = raw.get("store")
    if isinstance(store, dict) and isinstance(store.get("url"), str) and has_password(store["url"]):
        raise ConfigError(
            f"store.url: no passwords in this file; set {DATABASE_URL_ENV}, PGPASSWORD or ~/.pgpass instead"
        )
    settings = _parse_sections(raw)
    if env and (url := env.get(DATABASE_URL_ENV, "").strip()):
        try:
            settings = replace(settings, store=StoreSettings(url))
        except ConfigError as error:
            raise ConfigError(f"{DATABASE_URL_ENV}: {error}") from None
    return settings


def _parse_sections(raw: dict[str, Any]) -> Settings:
    defaults = Settings()
    sections = {f.name: type(getattr(defaults, f.name)) for f in fields(Settings)}
    built: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in sections:
            raise ConfigError(f"[{name}]: unknown section (known: {', '.join(sorted(sections))})")
        built[name] = _section(sections[name], name, value)
    return Settings(**built)


def load_settings(path: str | Path | None, env: Mapping[str, str] | None = None) -> Settings:
    if path is None:
        return parse_settings({}, env)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    return parse_settings(raw, env)
