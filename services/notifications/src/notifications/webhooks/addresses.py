"""The SSRF guard: a webhook URL must be http(s) and its host must resolve to public
addresses only — checked when a subscription is saved and again before every attempt (DNS
may have changed meanwhile). A node whose integrators live on its own network allows
private addresses with `webhook_allow_private_urls`."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """Why a URL may not be called; the message is safe to show to the admin."""


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global  # e.g. 100.64.0.0/10, shared carrier space
    )


def host_and_port(url: str) -> tuple[str, int]:
    """The URL's host and port, or UnsafeUrl when it is not an absolute http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("not a valid URL") from exc
    if parts.scheme not in SCHEMES:
        raise UnsafeUrl("only http and https URLs can receive webhooks")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in the URL are not allowed")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IpAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl("the URL's host does not resolve") from exc
    # The scope of a link-local IPv6 address (`fe80::1%eth0`) is not part of the address.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check_url(url: str, *, allow_private: bool) -> None:
    """Raises UnsafeUrl unless `url` may be called from this node."""
    host, port = host_and_port(url)
    if allow_private:
        return
    addresses = await resolve(host, port)
    if not addresses:
        raise UnsafeUrl("the URL's host does not resolve")
    if not all(is_public(a) for a in addresses):
        raise UnsafeUrl(
            "the URL's host resolves to a private, loopback, link-local, multicast or "
            "reserved address; this node does not allow those"
        )
