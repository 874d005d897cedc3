"""[discord] shard_count and shard_ids: parsed, checked at start with messages naming the key."""

import pytest

from bot.config import ConfigError, DiscordSettings, parse_settings


def test_unsharded_by_default_is_one_shard_run_here() -> None:
    assert parse_settings({}).discord.shards == (1, (0,))


def test_shard_ids_are_this_replicas_shards_and_default_to_all() -> None:
    replica = parse_settings({"discord": {"shard_count": 4, "shard_ids": [2, 3]}}).discord
    assert (replica.shard_count, replica.shard_ids) == (4, (2, 3))
    assert replica.shards == (4, (2, 3))
    assert parse_settings({"discord": {"shard_count": 3}}).discord.shards == (3, (0, 1, 2))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"shard_ids": [0]}, r"discord\.shard_ids: needs discord\.shard_count"),
        ({"shard_count": 2, "shard_ids": [2]}, r"discord\.shard_ids: shard 2 does not exist"),
        ({"shard_count": 2, "shard_ids": [1, 1]}, r"discord\.shard_ids: lists a shard twice"),
        ({"shard_count": 2, "shard_ids": [-1]}, r"discord\.shard_ids: must be a list of shard numbers"),
        ({"shard_count": 2, "shard_ids": ["0"]}, r"discord\.shard_ids: must be a list of shard numbers"),
        ({"shard_count": 2, "shard_ids": [True]}, r"discord\.shard_ids: must be a list of shard numbers"),
        ({"shard_count": 2, "shard_ids": 1}, r"discord\.shard_ids: must be a list of shard numbers"),
        ({"shard_count": -2}, r"discord\.shard_count: must be positive"),
        ({"shard_count": "2"}, r"discord\.shard_count: must be a int"),
    ],
)
def test_bad_shard_settings_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings({"discord": raw})


def test_settings_built_in_code_are_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"discord\.shard_ids"):
        DiscordSettings(shard_count=1, shard_ids=(1,))
