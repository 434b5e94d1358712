"""Webhook signatures (the Standard Webhooks scheme, the same one OpenAI's webhooks use).

A signed request carries three headers:

    webhook-id:        evt_...           (unique per event; a receiver de-duplicates on it)
    webhook-timestamp: 1718000000        (epoch seconds when it was signed)
    webhook-signature: v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>

The key is a `whsec_<base64>` secret (base64-decoded before use). A receiver recomputes the HMAC
over the raw body, compares in constant time, and refuses timestamps more than the tolerance
(5 minutes by default) away from its clock, so a captured request cannot be replayed later.
`openai.OpenAI().webhooks.verify_signature(body, headers, secret=...)` verifies it as is.

Outbound webhooks are signed with a per-user secret derived from the gateway's master key
(`user_webhook_secret`); the ingest endpoint verifies each integration's own secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from inference_core.errors import AuthenticationError, InvalidRequestError

if TYPE_CHECKING:
    from inference_core.settings import Settings

SECRET_PREFIX = "whsec_"
_DERIVATION_LABEL = b"inference-core webhook signing v1:"
_LOCAL_MASTER_LABEL = b"inference-core local webhook master v1"


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (any other string is used as its UTF-8 bytes)."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :])
    return secret.encode()


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def sign(key: bytes, webhook_id: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The three signature headers for `body`."""
    timestamp = int(time.time() if now is None else now)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, webhook_id, timestamp, body),
    }


def verify(
    key: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int,
    now: float | None = None,
) -> str:
    """Check the signature headers of `body`; returns the webhook id, or AuthenticationError.

    `headers` must be case-insensitive (Starlette's are) or use lower-case names.
    """
    webhook_id = headers.get("webhook-id") or ""
    raw_timestamp = headers.get("webhook-timestamp") or ""
    signatures = (headers.get("webhook-signature") or "").split()
    if not webhook_id or not raw_timestamp or not signatures:
        raise AuthenticationError("Missing webhook signature headers.", code="invalid_signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise AuthenticationError("Invalid webhook timestamp.", code="invalid_signature") from None
    current = int(time.time() if now is None else now)
    if abs(current - timestamp) > tolerance_seconds:
        raise AuthenticationError(
            "The webhook timestamp is outside the allowed window.", code="stale_signature"
        )
    expected = signature(key, webhook_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise AuthenticationError("The webhook signature does not match.", code="invalid_signature")
    return webhook_id


def master_key(settings: Settings) -> bytes:
    """The key user secrets derive from: configured, or (local mode only) from the JWT secret."""
    configured = settings.webhooks.webhook_signing_secret
    if configured is not None:
        return secret_bytes(configured.get_secret_value())
    if settings.webhooks.webhook_signing_secret_arn:
        from inference_core.settings import _read_secret

        value = _read_secret(
            settings.webhooks.webhook_signing_secret_arn, settings.aws.aws_endpoint_url
        )
        return secret_bytes(value.strip())
    if settings.aws.local_mode:
        return hmac.new(
            settings.jwt_signing_secret().encode(), _LOCAL_MASTER_LABEL, hashlib.sha256
        ).digest()
    raise InvalidRequestError(
        "Webhooks are not configured on this gateway (no signing secret).",
        code="webhooks_not_configured",
        param="webhook_url",
    )


def user_webhook_secret(settings: Settings, user_id: str) -> str:
    """The `whsec_...` secret a user's webhooks are signed with (stable while the master is)."""
    derived = hmac.new(master_key(settings), _DERIVATION_LABEL + user_id.encode(), hashlib.sha256)
    return SECRET_PREFIX + base64.b64encode(derived.digest()).decode()
