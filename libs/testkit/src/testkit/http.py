"""HTTP clients as the tests need them: bearer headers and a loopback address of their own."""

import itertools
from typing import Any

import httpx

_addresses = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    """The `Authorization` header carrying `token`."""
    return {"Authorization": f"Bearer {token}"}


def fresh_address() -> str:
    """A loopback address (127.2.x.y) no other client of this process uses.

    The gateway and portal-svc rate-limit per client address; all of 127/8 is loopback on
    Linux, so each client binding its own address never uses up another test's allowance.
    """
    n = next(_addresses)
    return f"127.2.{n // 250 % 250}.{n % 250 + 1}"


def fresh_source() -> httpx.AsyncHTTPTransport:
    """A transport whose connections come from a fresh loopback address."""
    return httpx.AsyncHTTPTransport(local_address=fresh_address())


def client(base_url: str, *, token: str | None = None, address: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """An async client of `base_url` from its own loopback address (or `address`), signed in
    with `token` when given."""
    headers = {**(bearer(token) if token else {}), **kwargs.pop("headers", {})}
    transport = httpx.AsyncHTTPTransport(local_address=address or fresh_address())
    return httpx.AsyncClient(
        base_url=base_url, transport=transport, headers=headers, timeout=kwargs.pop("timeout", 30), **kwargs
    )
