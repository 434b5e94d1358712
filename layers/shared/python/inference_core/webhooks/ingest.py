"""`POST /webhooks/ingest`: a trusted system submits a job, signed with its integration's secret.

The request names its integration (`x-ic-integration` header) and carries the Standard Webhooks
signature headers (see `webhooks.signing`). A missing, wrong or stale signature, or an unknown
integration, is a 401 and nothing is queued. A valid one is queued as a direct submission
(`batch.submit`) charged to the integration's account; its job id is derived from the
integration and the `webhook-id`, so a replay inside the tolerance window queues nothing new.
`queue_ingest_submission` validates the body and queues it (the route's one service call).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ValidationError

from inference_core.batch.errors import FileTooLargeError
from inference_core.batch.inputs import describe_validation_error, parse_input, to_jsonl
from inference_core.batch.messages import MESSAGE_VERSION, SubmitMessage, encode
from inference_core.batch.queue import OutgoingMessage
from inference_core.errors import AuthenticationError, InvalidRequestError
from inference_core.webhooks.signing import secret_bytes, verify

if TYPE_CHECKING:
    from inference_core.batch.runtime import BatchRuntime
    from inference_core.settings import Settings

INTEGRATION_HEADER = "x-ic-integration"
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class Integration:
    name: str
    key: bytes
    user_id: str
    api_key_id: str | None = None


def load_integrations(settings: Settings) -> dict[str, Integration]:
    """The configured integrations (JSON in `IC_WEBHOOK_INGEST_SECRETS` or the secret at
    `IC_WEBHOOK_INGEST_SECRETS_ARN`); a malformed entry is skipped, never half-trusted."""
    raw: str | None = None
    configured = settings.webhooks.webhook_ingest_secrets
    if configured is not None:
        raw = configured.get_secret_value()
    elif settings.webhooks.webhook_ingest_secrets_arn:
        from inference_core.settings import _read_secret

        raw = _read_secret(
            settings.webhooks.webhook_ingest_secrets_arn, settings.aws.aws_endpoint_url
        )
    if not raw:
        return {}
    try:
        entries = json.loads(raw)
    except ValueError:
        return {}
    found: dict[str, Integration] = {}
    if not isinstance(entries, dict):
        return found
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        secret, user_id = entry.get("secret"), entry.get("user_id")
        if not isinstance(secret, str) or not isinstance(user_id, str) or not user_id:
            continue
        key = secret_bytes(secret)
        if len(key) < MIN_SECRET_BYTES and not settings.aws.local_mode:
            continue  # too weak to trust outside local mode
        api_key_id = entry.get("api_key_id")
        found[str(name)] = Integration(
            name=str(name),
            key=key,
            user_id=user_id,
            api_key_id=api_key_id if isinstance(api_key_id, str) and api_key_id else None,
        )
    return found


def authenticate_ingest(
    settings: Settings, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> tuple[Integration, str]:
    """The integration that signed this request and its webhook id; AuthenticationError if not."""
    name = (headers.get(INTEGRATION_HEADER) or "").strip()
    integration = load_integrations(settings).get(name) if name else None
    if integration is None:
        raise AuthenticationError("Unknown integration or bad signature.", code="invalid_signature")
    webhook_id = verify(
        integration.key,
        headers,
        body,
        tolerance_seconds=settings.webhooks.webhook_signature_tolerance_seconds,
        now=now,
    )
    return integration, webhook_id


def ingest_batch_id(integration: str, webhook_id: str) -> str:
    digest = hashlib.sha256(f"ingest:{integration}:{webhook_id}".encode()).hexdigest()
    return "batch_" + digest[:24]


def queue_ingest_submission(
    runtime: BatchRuntime, *, integration: Integration, webhook_id: str, body: bytes
) -> str:
    """Queue a verified ingest request as a `batch.submit` message; returns its job id.

    The body is the direct-submission schema without `version`, `type`, `account`, `batch_id`
    and `input_s3_key` (the integration decides the account; the id comes from the webhook id).
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestError("We could not parse the JSON body of your request.") from None
    if not isinstance(payload, dict):
        raise InvalidRequestError("The body must be a JSON object.")
    reserved = {"version", "type", "account", "batch_id", "input_s3_key"} & payload.keys()
    if reserved:
        raise InvalidRequestError(
            f"These fields are not accepted here: {', '.join(sorted(reserved))}.",
            param=sorted(reserved)[0],
        )
    batch_id = ingest_batch_id(integration.name, webhook_id)
    try:
        message = SubmitMessage.model_validate(
            {
                **payload,
                "version": MESSAGE_VERSION,
                "type": "batch.submit",
                "account": {"user_id": integration.user_id, "api_key_id": integration.api_key_id},
                "batch_id": batch_id,
            }
        )
    except ValidationError as exc:
        raise InvalidRequestError(
            f"Invalid submission: {describe_validation_error(exc)}.", code="invalid_submission"
        ) from None
    assert message.requests is not None
    settings = runtime.settings
    if len(message.requests) > settings.batch.batch_max_lines:
        raise InvalidRequestError(
            f"A job takes up to {settings.batch.batch_max_lines} requests.", param="requests"
        )
    parse_input(
        to_jsonl([r.model_dump() for r in message.requests]), max_lines=len(message.requests)
    )
    if message.webhook_url is not None:
        from inference_core.webhooks.guard import parse_webhook_url

        parse_webhook_url(message.webhook_url, settings)
    encoded = encode(message)
    if len(encoded.encode()) > 250 * 1024:
        raise FileTooLargeError(
            "The submission is larger than one queue message (250 KiB); upload a file instead.",
            param="requests",
        )
    runtime.queue.send_one(OutgoingMessage(entry_id="s", body=encoded, message_type=message.type))
    return batch_id
