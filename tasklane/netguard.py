"""The private-address guard for targets and notification URLs (SPEC §6).

Submit checks what the URL says (scheme, literal addresses, `localhost`); the call checks
every address the host name resolves to at call time, so a public name that later points
inward is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class PrivateAddressError(ValueError):
    """The URL points at a private, loopback, link-local or otherwise internal address."""


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url_literal(url: str) -> None:
    """Refuse internal literal addresses and local names, without resolving anything."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise PrivateAddressError(f"{host} is a local name")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if _is_internal(address):
        raise PrivateAddressError(f"{host} is a private or loopback address")


async def check_url_resolved(url: str) -> None:
    """Refuse a URL if any address its host resolves to now is internal."""
    check_url_literal(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if _is_internal(address):
            raise PrivateAddressError(f"{host} resolves to internal address {address}")
