"""The address guard: strangers paste links, so the bot must never become a way into internal networks.

The check runs on *resolved* addresses, inside the resolver aiohttp connects with (`GuardedResolver`), not
on the URL text: a public-looking name can resolve to 10.0.0.5, a name can change its answer between a
check and the connect (DNS rebinding), and a redirect can point anywhere. aiohttp connects to exactly the
addresses the resolver returned, so what was checked is what gets connected to. aiohttp does not call the
resolver for IP-literal hosts, so the fetcher checks literals itself on every hop (`check_literal_host`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult

from bot.config import IPNetwork
from bot.errors import BlockedAddressError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Spelled out rather than left to `ipaddress` flags alone: those changed between Python patch releases
# (3.11.7 calls 192.0.0.192 global), and this list must not depend on which Python runs the bot.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier NAT); Alibaba's metadata is 100.100.100.200
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local; AWS, GCP and Azure metadata live at 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments; Oracle Cloud metadata is 192.0.0.192
        "192.0.2.0/24",
        "192.88.99.0/24",  # deprecated 6to4 relays
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible form ::a.b.c.d
        "64:ff9b:1::/48",  # local-use NAT64: maps to whatever the local operator chose
        "100::/64",  # discard
        "2001::/23",  # IETF special purpose, includes Teredo (2001::/32)
        "2001:db8::/32",
        "fc00::/7",  # unique local; AWS's IPv6 metadata is fd00:ec2::254
        "fe80::/10",
        "fec0::/10",  # deprecated site-local
        "ff00::/8",
    )
)
# Refused even inside an allowed network: no test needs them and a mistaken allow-list must not expose them.
CLOUD_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), which decides where it leads."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_special(ip: IPAddress) -> bool:
    blocked: Iterable[IPNetwork] = _BLOCKED_V4 if ip.version == 4 else _BLOCKED_V6
    if any(ip in net for net in blocked):
        return True
    # The stdlib flags catch ranges registered after this list was written.
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local


def is_forbidden_address(ip: IPAddress, allow: tuple[IPNetwork, ...] = ()) -> bool:
    """True if the bot must not connect to `ip`; `allow` lets tests reach their own local server."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(ip.compressed.split("%")[0])
    if ip in CLOUD_METADATA:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and (v4 := embedded_ipv4(ip)) is not None:
        return is_forbidden_address(v4, allow) and not _allowed(ip, allow)
    if _allowed(ip, allow):
        return False
    return _is_special(ip)


def _allowed(ip: IPAddress, allow: tuple[IPNetwork, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in allow)


def parse_ip_host(host: str) -> IPAddress | None:
    """The address a URL host names literally, including legacy forms (2130706433, 0x7f.1, 127.1).

    Legacy forms matter because the system resolver turns them into addresses without DNS.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_literal_host(host: str, allow: tuple[IPNetwork, ...] = ()) -> None:
    """Raise BlockedAddressError if `host` is an IP literal the bot must not connect to."""
    ip = parse_ip_host(host)
    if ip is not None and is_forbidden_address(ip, allow):
        raise BlockedAddressError()


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and refuses a name if *any* of its addresses is forbidden.

    Refusing the whole name (rather than dropping the bad addresses) is deliberate: a name that mixes
    public and internal addresses is a rebinding trick or a misconfiguration, and neither should be fetched.
    """

    def __init__(
        self, inner: AbstractResolver, allow: tuple[IPNetwork, ...] = (), *, owns_inner: bool = False
    ) -> None:
        self._inner = inner
        self._allow = allow
        self._owns_inner = owns_inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if is_forbidden_address(ipaddress.ip_address(result["host"]), self._allow):
                raise BlockedAddressError()
        return results

    async def close(self) -> None:
        if self._owns_inner:
            await self._inner.close()
