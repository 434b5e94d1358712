"""Where a webhook may be sent: public addresses only, checked after DNS resolution (SSRF guard).

A URL is refused unless EVERY address its host resolves to is public (`is_global`), or the host
(by name), the address, or a network containing it is in `IC_WEBHOOK_ALLOW_HOSTS`. Cloud metadata
addresses are refused even then, unless that address (or a network naming it) is listed itself.
The connection then goes to the address that was checked (the `Host` header and TLS SNI keep the
name), so a second DNS answer cannot swap in another target (DNS rebinding). No credentials in
the URL; `https` only, unless `IC_WEBHOOK_REQUIRE_HTTPS=false`, in local mode, or for an
allow-listed host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from inference_core.errors import InvalidRequestError

if TYPE_CHECKING:
    from inference_core.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]

# Instance metadata and credential endpoints of the clouds this might run on.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
    )
)
MAX_URL_CHARS = 2048


class WebhookTargetRefusedError(InvalidRequestError):
    """The webhook URL is not one we send to (never retried)."""

    code = "webhook_url_refused"


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query
    address: IPAddress

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the name."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def _refuse(reason: str) -> WebhookTargetRefusedError:
    return WebhookTargetRefusedError(f"The webhook URL is refused: {reason}.", param="webhook_url")


def _listed(host: str, address: IPAddress, allow: tuple[str, ...]) -> tuple[bool, bool]:
    """(allowed by any entry, allowed by an address or network entry)."""
    by_name = host in allow
    by_address = False
    for entry in allow:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if address in network:
            by_address = True
    return by_name or by_address, by_address


def _is_public(address: IPAddress) -> bool:
    return address.is_global and not address.is_multicast


def check_address(host: str, address: IPAddress, allow: tuple[str, ...]) -> None:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    allowed, by_address = _listed(host, address, allow)
    if address in METADATA_ADDRESSES:
        if not by_address:
            raise _refuse("it points at a cloud metadata address")
        return
    if not _is_public(address) and not allowed:
        raise _refuse("it resolves to a private, loopback or link-local address")


def _addresses(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _refuse("its host name does not resolve") from None
    found: list[IPAddress] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        try:
            address = ipaddress.ip_address(raw)
        except ValueError:
            continue
        if address not in found:
            found.append(address)
    if not found:
        raise _refuse("its host name does not resolve")
    return found


def parse_webhook_url(url: str, settings: Settings) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL, checked without DNS."""
    if len(url) > MAX_URL_CHARS or any(ord(c) < 33 for c in url):
        raise _refuse("it is not a single absolute URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("it is not a valid URL") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host:
        raise _refuse("it must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise _refuse("it must not carry credentials")
    allow = settings.webhooks.allow_hosts
    if (
        scheme == "http"
        and settings.webhooks.webhook_require_https
        and not settings.aws.local_mode
        and host not in allow
    ):
        raise _refuse("it must use https")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve_target(
    url: str, settings: Settings, *, resolver: Resolver = socket.getaddrinfo
) -> WebhookTarget:
    """Check `url` and every address its host resolves to; the target to connect to."""
    scheme, host, port, path = parse_webhook_url(url, settings)
    addresses = _addresses(host, port, resolver)
    allow = settings.webhooks.allow_hosts
    for address in addresses:
        check_address(host, address, allow)
    return WebhookTarget(
        url=url, scheme=scheme, host=host, port=port, path=path, address=addresses[0]
    )
