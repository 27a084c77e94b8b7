"""Outbound HTTP: resolving an endpoint's host and posting one signed delivery to it."""

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx

from webhook_svc.domain import urls
from webhook_svc.domain.errors import InvalidEndpoint

USER_AGENT = "Assistline-Webhooks/1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal is its own address); [] if none."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


async def validate(url: str, *, allow_private: bool) -> None:
    """InvalidEndpoint unless `url` is acceptable right now (its host resolved again)."""
    target = urls.parse(url)
    urls.check(target, await resolve(target.host, target.port), allow_private=allow_private)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """Posts deliveries; the HTTP client is made on first use and closed with the service."""

    def __init__(self, *, timeout: float, allow_private: bool) -> None:
        self._timeout = timeout
        self._allow_private = allow_private
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                # A redirect could lead anywhere, private addresses included: never followed.
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
                trust_env=False,
            )
        return self._client

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        started = time.perf_counter()
        try:
            # Checked again at every attempt: the host may resolve elsewhere than at registration.
            await validate(url, allow_private=self._allow_private)
            response = await self._http().post(url, content=body, headers={**headers, "Content-Type": CONTENT_TYPE})
            error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
            return Outcome(response.status_code, error, _ms(started))
        except InvalidEndpoint as refused:
            return Outcome(None, f"refused: {refused.message}", _ms(started))
        except httpx.TimeoutException:
            return Outcome(None, f"timed out after {self._timeout:g} s", _ms(started))
        except httpx.HTTPError as error:
            return Outcome(None, f"{type(error).__name__}: {error}"[:300], _ms(started))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
