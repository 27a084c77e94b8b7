"""Endpoint URL rules, the retry schedule and when an endpoint is disabled."""

from datetime import UTC, datetime, timedelta

import pytest

from webhook_svc.domain import urls
from webhook_svc.domain.errors import InvalidEndpoint
from webhook_svc.domain.retry import RetryPolicy
from webhook_svc.handlers.endpoints import checked_event_types


def check(url: str, addresses: list[str], *, allow_private: bool = False) -> None:
    urls.check(urls.parse(url), addresses, allow_private=allow_private)


def test_https_to_a_public_address_is_accepted():
    check("https://crm.example.com/hooks", ["93.184.216.34"])
    check("https://[2606:2800:220:1:248:1893:25c8:1946]:8443/h", ["2606:2800:220:1:248:1893:25c8:1946"])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.5",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fd00::1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "100.64.0.1",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(address):
    with pytest.raises(InvalidEndpoint) as refused:
        check("https://hooks.example.com/h", ["93.184.216.34", address])
    assert refused.value.code == "private_address" and refused.value.status_code == 422


def test_private_addresses_are_accepted_only_when_allowed_and_then_over_http_too():
    check("https://127.0.0.1:9000/h", ["127.0.0.1"], allow_private=True)
    check("http://127.0.0.1:9000/h", ["127.0.0.1"], allow_private=True)
    with pytest.raises(InvalidEndpoint, match="https"):
        check("http://crm.example.com/h", ["93.184.216.34"], allow_private=True)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://crm.example.com/h", "https_required"),
        ("ftp://crm.example.com/h", "https_required"),
        ("https:///nohost", "invalid_url"),
        ("https://user:pw@crm.example.com/h", "invalid_url"),
        ("https://crm.example.com:99999/h", "invalid_url"),
        ("https://crm.example.com/" + "a" * 2100, "url_too_long"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url, code):
    with pytest.raises(InvalidEndpoint) as refused:
        check(url, ["93.184.216.34"])
    assert refused.value.code == code


def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(InvalidEndpoint) as refused:
        check("https://nowhere.invalid/h", [])
    assert refused.value.code == "unresolvable_host"


def test_event_types_are_checked_and_put_in_catalogue_order():
    assert checked_event_types(["ChatSessionEnded", "RequestSubmitted", "RequestSubmitted"]) == (
        "RequestSubmitted",
        "ChatSessionEnded",
    )
    with pytest.raises(InvalidEndpoint, match="TechnicianUpdated"):
        checked_event_types(["TechnicianUpdated"])
    with pytest.raises(InvalidEndpoint):
        checked_event_types([])


def test_backoff_follows_the_schedule_then_gives_up():
    policy = RetryPolicy(schedule=(5, 300, 1800), disable_after_failures=3, disable_after=timedelta(hours=1))
    assert [policy.delay_after(n) for n in (1, 2, 3, 4)] == [5, 300, 1800, None]


def test_an_endpoint_is_disabled_only_after_a_long_and_lasting_streak():
    policy = RetryPolicy(schedule=(1,), disable_after_failures=3, disable_after=timedelta(hours=1))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert not policy.should_disable(2, now - timedelta(hours=5), now)  # not enough failures
    assert not policy.should_disable(30, now - timedelta(minutes=5), now)  # not failing long enough
    assert not policy.should_disable(30, None, now)
    assert policy.should_disable(3, now - timedelta(hours=1), now)
