"""Property-based fuzzing of every HTTP API from its OpenAPI document, through the gateway.

Each operation is fuzzed without a token and with a valid token of every role allowed to
call it (so the fuzzer gets past authentication into validation and the use cases), with
schema-conforming and schema-violating input, path parameters both generated and set to
ids that exist. Whatever comes in: never a 5xx, and every 4xx is the JSON error body
`{"error", "message"}`; a valid token is never answered 401.

The fuzzed account is the suite's own ("Fuzz"), so creating, changing and removing
things there harms nobody. `SECURITY_FUZZ_EXAMPLES` scales the number of examples.
"""

import itertools
import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from schemathesis import GenerationMode
from secsupport import ADMIN, CUSTOMER, OPERATIONS, SERVICE, TECH, bearer, fresh_address
from servicekit.auth import Role
from testkit.plugin import make_token

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "10"))
ANONYMOUS_EXAMPLES = max(2, EXAMPLES // 4)

SERVICES = ("portal", "presence", "dispatch", "chat", "webhook")

CASES = [
    pytest.param(operation, role, id=f"{operation} as {role or 'anonymous'}")
    for operation, roles in OPERATIONS.items()
    for role in (None, *roles)
]


class SourceAddress(HTTPAdapter):
    """Sends from a chosen loopback address (see conftest: rate limits are per address)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class RotatingSessions:
    """A new client address every few calls: fuzzing explores the submission and sign-in
    endpoints instead of only meeting their rate limits (tested on their own elsewhere)."""

    def __init__(self, calls_per_address: int = 4) -> None:
        self._counter = itertools.count()
        self._every = calls_per_address
        self._session: requests.Session | None = None

    def get(self) -> requests.Session:
        if next(self._counter) % self._every == 0:
            self.close()
            self._session = requests.Session()
            self._session.mount("http://", SourceAddress(fresh_address()))
        assert self._session is not None
        return self._session

    def close(self) -> None:
        if self._session:
            self._session.close()


@pytest.fixture(scope="session")
def api_schemas(system) -> dict[str, Any]:
    return {
        service: schemathesis.openapi.from_url(f"{system.gateway_url}/api/{service}/openapi.json")
        for service in SERVICES
    }


@pytest.fixture(scope="session")
def fuzz_tokens(fuzz_tenant) -> dict[str, dict[str, str]]:
    """Tokens per service: the customer is the queued request's on the portal API (which
    may cancel it) and the chatting customer's on the chat API."""
    common = {
        ADMIN: fuzz_tenant.tenant.admin_token,
        TECH: fuzz_tenant.tenant.technicians["fuzzer"]["token"],
        SERVICE: make_token(Role.SERVICE, subject="security-suite", account_id="*"),
    }
    return {
        service: {
            **common,
            CUSTOMER: fuzz_tenant.chat.customer_token if service == "chat" else fuzz_tenant.queued["token"],
        }
        for service in SERVICES
    }


def check_response(response: schemathesis.Response, role: str | None, operation: str) -> None:
    request = response.request
    where = f"{request.method} {request.url} ({len(request.body or b'')} bytes) body={request.body!r:.300}"
    assert response.status_code < 500, f"{where} -> {response.status_code} {response.headers} {response.text[:500]}"
    if 400 <= response.status_code < 500:
        try:
            body = response.json()
        except ValueError as error:
            raise AssertionError(
                f"{where} -> {response.status_code} without a JSON body: {response.text[:300]}"
            ) from error
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str), (
            f"{where} -> {response.status_code} {body}"
        )
    if role is not None and OPERATIONS[operation]:
        assert response.status_code != 401, f"{where}: a valid {role} token was refused: {response.text}"


def test_every_operation_is_fuzzed(api_schemas):
    published = {
        f"{method.upper()} {path}"
        for schema in api_schemas.values()
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
    }
    assert published == set(OPERATIONS)


@pytest.mark.parametrize(("operation", "role"), CASES)
def test_fuzzed_operation_never_fails_on_the_server(operation, role, api_schemas, fuzz_tokens, fuzz_tenant, system):
    method, path = operation.split(" ", 1)
    service = path.split("/")[2]
    api_operation = api_schemas[service][path][method]
    headers = bearer(fuzz_tokens[service][role]) if role else {}
    path_names = [p["name"] for p in api_operation.definition.raw.get("parameters", []) if p["in"] == "path"]
    # Ids that exist where the suite has one (the rest are generated, reaching "not found").
    known = {name: fuzz_tenant.known[name] for name in path_names if name in fuzz_tenant.known}
    strategies = [
        api_operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        api_operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    if known:
        strategies.append(api_operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known))
        strategies.append(api_operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=known))
    sessions = RotatingSessions()

    @settings(
        max_examples=EXAMPLES if role or not OPERATIONS[operation] else ANONYMOUS_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def fuzz(case) -> None:
        response = case.call(base_url=system.gateway_url, session=sessions.get(), headers=headers, timeout=30)
        check_response(response, role, operation)

    try:
        fuzz()
    finally:
        sessions.close()
