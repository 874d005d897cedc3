import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings, parse_settings
from bot.engines.url import redact

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_documents_the_defaults() -> None:
    assert load_settings(ROOT / "config.example.toml") == Settings()


def test_allow_list_is_parsed_as_networks() -> None:
    settings = parse_settings({"fetch": {"allow_private_networks": ["127.0.0.2/32", "fd00::/8"]}})
    assert [str(n) for n in settings.fetch.allow_private_networks] == ["127.0.0.2/32", "fd00::/8"]


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"fetch": {"max_byte": 1}}, "fetch.max_byte"),
        ({"fetch": {"max_bytes": "big"}}, "fetch.max_bytes"),
        ({"fetch": {"allow_private_networks": ["localhost"]}}, "fetch.allow_private_networks"),
        ({"fetch": {"allow_private_networks": "10.0.0.0/8"}}, "fetch.allow_private_networks"),
        ({"summary": {"sentences": 0}}, "summary.sentences"),
        ({"summary": {"sentences": True}}, "summary.sentences"),
        ({"sumary": {}}, "[sumary]"),
    ],
)
def test_bad_settings_name_the_key(raw: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse_settings(raw)


def test_unreadable_or_invalid_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[fetch\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_example_config_mentions_every_setting() -> None:
    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    for section in fields(Settings):
        documented = set(raw.get(section.name, {}))
        known = {f.name for f in fields(type(getattr(Settings(), section.name)))}
        assert documented == known, f"[{section.name}] in config.example.toml"


def test_choices_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"slack\.mode"):
        parse_settings({"slack": {"mode": "webhook"}})


def test_named_sources_come_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[alerts]\ndefault_feeds = ["local-paper", "bbc-world"]\n'
        '[alerts.sources]\nlocal-paper = "https://news.example.org/rss.xml"\n'
    )
    alerts = load_settings(config).alerts
    assert alerts.default_feed_urls == (
        "https://news.example.org/rss.xml",
        "https://feeds.bbci.co.uk/news/world/rss.xml",
    )
    assert alerts.catalogue.describe("https://news.example.org/rss.xml") == "local-paper (`local-paper`)"
    config.write_text('[alerts.sources]\nlocal-paper = "ftp://news.example.org/rss.xml"\n')
    with pytest.raises(ConfigError, match=r"alerts\.sources\.local-paper"):
        load_settings(config)


def test_store_url_from_the_file_or_the_environment() -> None:
    assert Settings().store.url == "sqlite:///briefbot.sqlite3"
    pg = "postgresql://bot@db.example:5432/briefbot"
    assert parse_settings({"store": {"url": pg}}).store.url == pg
    env = {"BRIEFBOT_DATABASE_URL": "postgresql://bot:s3cret@db.example/briefbot"}
    assert parse_settings({"store": {"url": pg}}, env).store.url == env["BRIEFBOT_DATABASE_URL"]
    assert parse_settings({}, {"BRIEFBOT_DATABASE_URL": " "}).store.url == "sqlite:///briefbot.sqlite3"


@pytest.mark.parametrize(
    ("raw", "env", "named"),
    [
        ({"store": {"url": "mysql://db/briefbot"}}, {}, "store.url"),
        ({"store": {"url": "sqlite:///"}}, {}, "store.url"),
        ({}, {"BRIEFBOT_DATABASE_URL": "briefbot.sqlite3"}, "BRIEFBOT_DATABASE_URL"),
    ],
)
def test_a_bad_store_url_names_where_it_came_from(raw: dict, env: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        parse_settings(raw, env)


def test_a_password_in_the_file_is_refused_and_never_echoed() -> None:
    with pytest.raises(ConfigError, match="BRIEFBOT_DATABASE_URL") as raised:
        parse_settings({"store": {"url": "postgresql://bot:s3cret@db.example/briefbot"}})
    assert "s3cret" not in str(raised.value)


def test_the_old_chat_database_key_still_works_with_one_deprecation_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = parse_settings({"chat": {"database": "old.sqlite3", "user_burst": 5}})
    assert settings.store.url == "sqlite:///old.sqlite3"
    assert settings.chat.user_burst == 5
    deprecations = [r for r in caplog.records if "chat.database is deprecated" in r.getMessage()]
    assert len(deprecations) == 1
    assert 'url = "sqlite:///old.sqlite3"' in deprecations[0].getMessage()
    both = {"chat": {"database": "old.sqlite3"}, "store": {"url": "sqlite:///new.sqlite3"}}
    assert parse_settings(both).store.url == "sqlite:///new.sqlite3"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:s3cret@db.example:5432/briefbot", "postgresql://bot:***@db.example:5432/briefbot"),
        (
            "postgresql://bot:p@ss@[::1]:5432/briefbot?sslmode=require",
            "postgresql://bot:***@[::1]:5432/briefbot?sslmode=require",
        ),
        ("postgresql://bot@db.example/briefbot", "postgresql://bot@db.example/briefbot"),
        ("sqlite:///briefbot.sqlite3", "sqlite:///briefbot.sqlite3"),
    ],
)
def test_store_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert redact(url) == shown
