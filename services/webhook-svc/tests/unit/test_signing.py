"""Signatures as the Standard Webhooks specification defines them."""

import base64
import json
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from webhook_svc.domain.signing import SECRET_PREFIX, new_secret, sign, signature_headers

# The specification's reference vector (svix-webhooks' TestWebhookSign, used by every
# Standard Webhooks library's test suite).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_published_test_vector():
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_a_different_body_id_or_timestamp_gives_a_different_signature():
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, b'{"test": 2432232315}') != VECTOR_SIGNATURE
    assert sign(VECTOR_SECRET, "msg_other", VECTOR_TIMESTAMP, VECTOR_BODY) != VECTOR_SIGNATURE
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP + 1, VECTOR_BODY) != VECTOR_SIGNATURE


def test_new_secrets_are_prefixed_random_32_bytes():
    first, second = new_secret(), new_secret()
    assert first.startswith(SECRET_PREFIX) and first != second
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX))) == 32


def test_headers_verify_with_the_independent_implementation():
    secret = new_secret()
    body = json.dumps({"specversion": "1.0", "id": "evt_1"}).encode()
    headers = signature_headers("evt_1", int(time.time()), body, [secret])
    assert Webhook(secret).verify(body, headers) == {"specversion": "1.0", "id": "evt_1"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)


def test_during_a_rotation_either_secret_verifies():
    new, old = new_secret(), new_secret()
    body = b'{"id": "evt_2"}'
    headers = signature_headers("evt_2", int(time.time()), body, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(body, headers) == {"id": "evt_2"}
    assert Webhook(old).verify(body, headers) == {"id": "evt_2"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_a_stale_timestamp_is_refused_by_receivers():
    secret = new_secret()
    body = b"{}"
    headers = signature_headers("evt_3", VECTOR_TIMESTAMP, body, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)
