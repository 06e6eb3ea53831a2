"""The private-address guard for targets and notification URLs (SPEC §6).

Submit checks what the URL says (scheme, literal addresses, `localhost`); the call checks
every address the host name resolves to at call time, so a public name that later points
inward is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

RESOLVE_TIMEOUT_S = 10.0
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class PrivateAddressError(ValueError):
    """The URL points at a private, loopback, link-local or otherwise internal address."""


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # Not global covers private, loopback, link-local, shared (100.64/10, where some clouds
    # keep metadata services), reserved and unspecified ranges.
    return not address.is_global or address.is_multicast


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host string denotes by itself, short IPv4 forms (`127.1`) included."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_url_literal(url: str) -> None:
    """Refuse internal literal addresses and local names, without resolving anything."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise PrivateAddressError(f"{host} is a local name")
    address = _literal(host)
    if address is not None and _is_internal(address):
        raise PrivateAddressError(f"{host} is not a globally routable address")


async def check_url_resolved(url: str) -> None:
    """Refuse a URL if any address its host resolves to now is internal."""
    check_url_literal(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    async with asyncio.timeout(RESOLVE_TIMEOUT_S):
        infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if _is_internal(address):
            raise PrivateAddressError(f"{host} resolves to internal address {address}")
