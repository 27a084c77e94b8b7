"""Standard Webhooks signatures (https://www.standardwebhooks.com): pure functions.

A message is signed as `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`,
keyed with the base64-decoded part of the endpoint's `whsec_...` secret. During a secret
rotation the header carries one signature per valid secret, separated by spaces, and a
receiver accepts the message when any of them verifies (as the specification allows).
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
"""The specification asks for 24 to 64 random bytes; 32 matches HMAC-SHA256's block strength."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<signature>` entry of the `webhook-signature` header."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(message_id: str, timestamp: int, body: bytes, secrets_: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers; one signature per secret still valid."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_),
    }
