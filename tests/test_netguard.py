"""The address guard: a table of addresses that must be refused or let through, and the guarding resolver."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.errors import BlockedAddressError
from bot.netguard import GuardedResolver, check_literal_host, is_forbidden_address, parse_ip_host

FORBIDDEN = [
    # IPv4
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.5",
    "100.64.0.1",  # shared address space
    "100.100.100.200",  # Alibaba Cloud metadata
    "127.0.0.1",
    "127.255.255.254",
    "169.254.0.1",
    "169.254.169.254",  # AWS/GCP/Azure metadata
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.192",  # Oracle Cloud metadata
    "192.0.2.10",
    "192.168.1.1",
    "198.18.0.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    # IPv6
    "::",
    "::1",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "ff02::1",
    "2001:db8::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "100::1",
    # IPv6 forms of forbidden IPv4 addresses
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.5",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "::8.8.8.8",  # the whole compatible range is refused: it has no legitimate use left
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::808:808",  # local-use NAT64 maps wherever the operator chose
]

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # just below the shared range
    "100.128.0.0",  # just above it
    "172.32.0.1",  # just above 172.16/12
    "2606:4700::6810:85e5",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",  # mapped forms of public addresses lead to public addresses
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_allowed(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


def test_allow_list_opens_exactly_its_network() -> None:
    allow = (ipaddress.ip_network("127.0.0.2/32"),)
    assert not is_forbidden_address(ipaddress.ip_address("127.0.0.2"), allow)
    assert not is_forbidden_address(ipaddress.ip_address("::ffff:127.0.0.2"), allow)
    assert is_forbidden_address(ipaddress.ip_address("127.0.0.1"), allow)
    assert is_forbidden_address(ipaddress.ip_address("::1"), allow)


def test_metadata_refused_even_when_its_network_is_allowed() -> None:
    allow = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fd00::/8"))
    assert not is_forbidden_address(ipaddress.ip_address("169.254.1.1"), allow)
    assert is_forbidden_address(ipaddress.ip_address("169.254.169.254"), allow)
    assert is_forbidden_address(ipaddress.ip_address("fd00:ec2::254"), allow)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # one big number
        ("0x7f.1", "127.0.0.1"),  # hex and short forms the system resolver accepts
        ("127.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),  # octal
        ("::1", "::1"),
        ("example.com", None),
        ("1.example", None),
        ("deadbeef.com", None),
    ],
)
def test_parse_ip_host_reads_legacy_forms(host: str, expected: str | None) -> None:
    parsed = parse_ip_host(host)
    assert (str(parsed) if parsed else None) == expected


def test_check_literal_host() -> None:
    with pytest.raises(BlockedAddressError):
        check_literal_host("0x7f.1")
    check_literal_host("8.8.8.8")
    check_literal_host("example.com")  # names are the resolver's job


class MapResolver(AbstractResolver):
    """Answers from a dict: name -> addresses."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=ip, port=port, family=socket.AF_INET, proto=0, flags=0)
            for ip in self.table[host]
        ]

    async def close(self) -> None:
        self.closed = True


async def test_guarded_resolver_refuses_a_name_with_any_internal_address() -> None:
    inner = MapResolver({"public.test": ["93.184.215.14"], "mixed.test": ["93.184.215.14", "10.0.0.5"]})
    guard = GuardedResolver(inner)
    assert [r["host"] for r in await guard.resolve("public.test", 80)] == ["93.184.215.14"]
    with pytest.raises(BlockedAddressError):
        await guard.resolve("mixed.test", 80)


async def test_guarded_resolver_closes_only_what_it_owns() -> None:
    borrowed, owned = MapResolver({}), MapResolver({})
    await GuardedResolver(borrowed).close()
    await GuardedResolver(owned, owns_inner=True).close()
    assert not borrowed.closed
    assert owned.closed
