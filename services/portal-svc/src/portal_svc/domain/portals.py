"""Portal configuration rules: subdomains, connection modes and portal types, embedding origins."""

import re
from urllib.parse import urlsplit

from contracts.vocabulary import ALLOWED_PORTAL_TYPES, ConnectionMode, PortalType
from portal_svc.domain.errors import Invalid

# A DNS label (RFC 1123), lower case only so that "Globex" and "globex" cannot both exist.
SUBDOMAIN_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_SUBDOMAIN = re.compile(SUBDOMAIN_PATTERN)
# Names the gateway or the platform itself may need one day.
RESERVED_SUBDOMAINS = frozenset({"www", "api", "admin", "app", "gateway", "static", "mail"})

MAX_ORIGINS = 20


def check_subdomain(subdomain: str) -> str:
    if not _SUBDOMAIN.fullmatch(subdomain):
        raise Invalid(
            "subdomain must be a DNS label: 1-63 lower-case letters, digits or hyphens, "
            "not starting or ending with a hyphen",
            code="invalid_subdomain",
        )
    if subdomain in RESERVED_SUBDOMAINS:
        raise Invalid(f"subdomain {subdomain!r} is reserved", code="invalid_subdomain")
    return subdomain


def check_mode_and_type(mode: ConnectionMode, portal_type: PortalType) -> None:
    allowed = ALLOWED_PORTAL_TYPES[mode]
    if portal_type not in allowed:
        names = ", ".join(sorted(t.value for t in allowed))
        raise Invalid(
            f"portal type {portal_type.value} is not available in {mode.value} mode (allowed: {names})",
            code="invalid_portal_type",
        )


def normalise_origin(origin: str) -> str:
    """`https://shop.example.com[:port]` exactly: it ends up in a CSP header, so nothing else."""
    parts = urlsplit(origin.strip())
    valid = (
        parts.scheme in {"http", "https"}
        and parts.hostname
        and re.fullmatch(r"[A-Za-z0-9.-]+", parts.hostname)
        and parts.path in {"", "/"}
        and not parts.query
        and not parts.fragment
        and not parts.username
        and not parts.password
    )
    if not valid:
        raise Invalid(
            f"allowed origin {origin!r} must look like https://www.example.com (scheme, host, optional port)",
            code="invalid_origin",
        )
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"


def normalise_origins(origins: list[str]) -> list[str]:
    if len(origins) > MAX_ORIGINS:
        raise Invalid(f"at most {MAX_ORIGINS} allowed origins", code="invalid_origin")
    unique: list[str] = []
    for origin in origins:
        value = normalise_origin(origin)
        if value not in unique:
            unique.append(value)
    return unique


def frame_ancestors(origins: list[str]) -> str:
    """The CSP directive that lets only the declared sites embed the portal."""
    return " ".join(["frame-ancestors", "'self'", *origins])
