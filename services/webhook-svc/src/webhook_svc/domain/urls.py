"""Which endpoint URLs are acceptable: pure rules over the URL and the addresses its host
resolves to (the resolution itself is an adapter).

Webhooks are requests our servers make on an admin's behalf: a URL pointing inside our own
network (loopback, private ranges, link-local cloud metadata at 169.254.169.254, …) would let
an admin probe or poke internal services. So only public addresses are allowed, and only
over HTTPS — unless `WEBHOOK_ALLOW_PRIVATE` is set (development and tests), which also
accepts plain HTTP, but only towards such a private address.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from webhook_svc.domain.errors import InvalidEndpoint

MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def parse(url: str) -> Target:
    """The scheme, host and port of `url`, or InvalidEndpoint saying what is wrong with it."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidEndpoint(f"the URL is longer than {MAX_URL_LENGTH} characters", code="url_too_long")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise InvalidEndpoint(f"not a valid URL: {error}", code="invalid_url") from error
    if parts.scheme not in ("https", "http"):
        raise InvalidEndpoint("the URL must start with https://", code="https_required")
    if not parts.hostname:
        raise InvalidEndpoint("the URL has no host", code="invalid_url")
    if parts.username or parts.password:
        raise InvalidEndpoint(
            "credentials in the URL are not allowed; authenticate by the signature", code="invalid_url"
        )
    if parts.fragment:
        raise InvalidEndpoint("the URL must not have a #fragment", code="invalid_url")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check(target: Target, addresses: list[str], *, allow_private: bool) -> None:
    """Refuse a target whose host resolves to a non-public address (or to nothing), and plain
    HTTP unless towards a private address while private addresses are allowed."""
    if not addresses:
        raise InvalidEndpoint(f"the host {target.host} does not resolve", code="unresolvable_host")
    private = [a for a in addresses if not is_public(a)]
    if private and not allow_private:
        raise InvalidEndpoint(
            f"the host {target.host} resolves to a private, loopback or link-local address ({private[0]})",
            code="private_address",
        )
    if target.scheme != "https" and not (allow_private and len(private) == len(addresses)):
        raise InvalidEndpoint("the URL must start with https://", code="https_required")
