"""Where a webhook may point: an http(s) URL whose host resolves to public addresses only.

Checked when the webhook is registered and again before every attempt (a name
may resolve elsewhere by then); the sender connects to the address checked
here, so a second lookup cannot swap in an internal one (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

from imageuploader.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
MAX_URL = 2000
# Cloud metadata services. Most are link-local anyway; named so the refusal says why.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


@dataclass(frozen=True)
class Target:
    """A webhook URL taken apart: what to connect to and what to call it."""

    url: str
    scheme: str
    host: str
    port: int
    # The Host header: the name (and a non-default port) as the URL gives them.
    authority: str
    path: str

    def url_for(self, ip: IPAddress) -> str:
        """The URL with the checked address in place of the name."""
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"


def parse(url: str) -> Target:
    """Take a webhook URL apart, refusing what we never send to (InvalidInput, 422)."""
    url = url.strip()
    if not url:
        raise InvalidInput("url: a URL is required.")
    if len(url) > MAX_URL:
        raise InvalidInput(f"url: at most {MAX_URL} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("url: not a valid URL.") from None
    if parts.scheme not in SCHEMES:
        raise InvalidInput("url: must start with http:// or https://.")
    if not parts.hostname:
        raise InvalidInput("url: has no host name.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url: must not carry a user name or password.")
    host = parts.hostname
    default = 443 if parts.scheme == "https" else 80
    name = f"[{host}]" if ":" in host else host
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(
        url=url,
        scheme=parts.scheme,
        host=host,
        port=port or default,
        authority=name if port in (None, default) else f"{name}:{port}",
        path=path,
    )


def refusal(ip: IPAddress) -> str | None:
    """Why a webhook may not reach this address, or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def _lookup(host: str, port: int) -> list[IPAddress]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        # Drop an IPv6 zone ("fe80::1%eth0"); the address alone decides.
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


async def resolve(target: Target, *, allow_private: bool) -> list[IPAddress]:
    """Every address the host resolves to, all of them allowed; else InvalidInput.

    All must pass, not one: the sender may connect to any of them.
    """
    try:
        addresses = await anyio.to_thread.run_sync(_lookup, target.host, target.port)
    except (OSError, UnicodeError, ValueError):
        raise InvalidInput(f"url: the host {target.host!r} does not resolve.") from None
    if not addresses:
        raise InvalidInput(f"url: the host {target.host!r} does not resolve.")
    if not allow_private:
        for ip in addresses:
            why = refusal(ip)
            if why is not None:
                raise InvalidInput(
                    f"url: {target.host} resolves to {ip}, {why}; "
                    "webhooks are sent to public addresses only."
                )
    return addresses
