"""Use cases of the admin API: an account's endpoints, their secrets and delivery logs.

Every use case is scoped by the admin's account: an endpoint of another account is "not
found", never "forbidden" (its existence is not revealed).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import new_id
from servicekit.auth import Principal
from servicekit.exceptions import Conflict
from webhook_svc.adapters.deliveries import DeliveryRepository
from webhook_svc.adapters.endpoints import EndpointRepository, secrets_document
from webhook_svc.adapters.lanes import LaneRepository
from webhook_svc.domain.errors import (
    DeliveryConflict,
    DeliveryNotFound,
    EndpointNotFound,
    InvalidEndpoint,
    TooManyEndpoints,
)
from webhook_svc.domain.model import EVENT_TYPES, Delivery, Endpoint, Secret
from webhook_svc.domain.signing import new_secret

Validate = Callable[[str], Awaitable[None]]


def checked_event_types(event_types: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise InvalidEndpoint(
            f"unknown event type {unknown[0]!r}; subscribable: {', '.join(EVENT_TYPES)}", code="unknown_event_type"
        )
    if not event_types:
        raise InvalidEndpoint("choose at least one event type", code="no_event_types")
    # Catalogue order, without repeats: the stored list reads the same however it was sent.
    return tuple(t for t in EVENT_TYPES if t in event_types)


@dataclass(frozen=True)
class Change:
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class EndpointAdmin:
    def __init__(
        self,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        lanes: LaneRepository,
        validate: Validate,
        *,
        max_endpoints: int,
        secret_overlap_seconds: float,
    ) -> None:
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.lanes = lanes
        self.validate = validate
        self.max_endpoints = max_endpoints
        self.overlap = timedelta(seconds=secret_overlap_seconds)

    async def create(
        self, admin: Principal, *, url: str, event_types: list[str], description: str, enabled: bool
    ) -> tuple[Endpoint, str]:
        """A new endpoint and its secret (returned this once)."""
        types = checked_event_types(event_types)
        await self.validate(url)
        if await self.endpoints.count(admin.account_id) >= self.max_endpoints:
            raise TooManyEndpoints(f"an account may register at most {self.max_endpoints} endpoints")
        now = datetime.now(UTC)
        secret = new_secret()
        endpoint = Endpoint(
            endpoint_id=new_id("whe"),
            account_id=admin.account_id,
            url=url.strip(),
            description=description,
            event_types=types,
            enabled=enabled,
            secrets=(Secret(secret),),
            created_at=now,
            updated_at=now,
        )
        await self.endpoints.insert(endpoint)
        return endpoint, secret

    async def all(self, admin: Principal) -> list[Endpoint]:
        return await self.endpoints.of_account(admin.account_id)

    async def get(self, admin: Principal, endpoint_id: str) -> Endpoint:
        found = await self.endpoints.get_with_revision(admin.account_id, endpoint_id)
        if found is None:
            raise EndpointNotFound("no such webhook endpoint in your account")
        return found[0]

    async def _current(self, admin: Principal, endpoint_id: str) -> tuple[Endpoint, int]:
        found = await self.endpoints.get_with_revision(admin.account_id, endpoint_id)
        if found is None:
            raise EndpointNotFound("no such webhook endpoint in your account")
        return found

    async def update(self, admin: Principal, endpoint_id: str, change: Change) -> Endpoint:
        endpoint, revision = await self._current(admin, endpoint_id)
        fields: dict[str, Any] = {"updated_at": datetime.now(UTC)}
        unset: tuple[str, ...] = ()
        if change.url is not None and change.url.strip() != endpoint.url:
            await self.validate(change.url)
            fields["url"] = change.url.strip()
        if change.event_types is not None:
            fields["event_types"] = list(checked_event_types(change.event_types))
        if change.description is not None:
            fields["description"] = change.description
        if change.enabled is True and not endpoint.enabled:
            # Enabled again: the failure streak starts over.
            fields |= {"enabled": True, "failure_streak": 0, "last_error": ""}
            unset = ("failing_since", "disabled_reason")
        elif change.enabled is False and endpoint.enabled:
            fields |= {"enabled": False, "disabled_reason": "admin"}
        changed = await self.endpoints.change(admin.account_id, endpoint_id, revision, fields, unset)
        if changed is None:
            raise Conflict("the endpoint changed meanwhile; reload and try again", code="endpoint_changed")
        return changed

    async def delete(self, admin: Principal, endpoint_id: str) -> None:
        if not await self.endpoints.delete(admin.account_id, endpoint_id):
            raise EndpointNotFound("no such webhook endpoint in your account")
        # Its queued deliveries are given up by the worker (the endpoint is gone); its log goes.
        await self.deliveries.forget_endpoint(endpoint_id)

    async def rotate_secret(self, admin: Principal, endpoint_id: str) -> tuple[Endpoint, str, datetime]:
        """A new current secret; the previous one keeps signing (a second signature) until
        the returned time, so receivers can switch without losing a delivery."""
        endpoint, revision = await self._current(admin, endpoint_id)
        now = datetime.now(UTC)
        until = now + self.overlap
        secret = new_secret()
        kept = [s for s in endpoint.secrets if s.expires_at is not None and s.expires_at > now]
        previous = [Secret(s.value, until) for s in endpoint.secrets if s.expires_at is None]
        secrets = (Secret(secret), *previous, *kept)
        changed = await self.endpoints.change(
            admin.account_id,
            endpoint_id,
            revision,
            {"secrets": secrets_document(secrets), "updated_at": now},
        )
        if changed is None:
            raise Conflict("the endpoint changed meanwhile; try again", code="endpoint_changed")
        return changed, secret, until

    async def deliveries_of(self, admin: Principal, endpoint_id: str, *, limit: int, offset: int) -> list[Delivery]:
        await self.get(admin, endpoint_id)
        return await self.deliveries.page(endpoint_id, limit=limit, offset=offset)

    async def send_again(self, admin: Principal, endpoint_id: str, delivery_id: str) -> Delivery:
        """Queue a finished delivery again (same body, same webhook-id, tries start over)."""
        endpoint = await self.get(admin, endpoint_id)
        if not endpoint.enabled:
            raise DeliveryConflict("enable the endpoint first", code="endpoint_disabled")
        existing = await self.deliveries.get(delivery_id)
        if existing is None or existing.endpoint_id != endpoint_id:
            raise DeliveryNotFound("no such delivery for this endpoint")
        requeued = await self.deliveries.requeue(delivery_id, endpoint_id)
        if requeued is None:
            raise DeliveryConflict("this delivery is still pending", code="delivery_pending")
        now = datetime.now(UTC)
        # Queued at its event's time: it goes out in order with its request's other deliveries.
        await self.lanes.push(requeued.lane, endpoint_id, delivery_id, requeued.occurred_at, now)
        return requeued
