"""The mail queue: services put a message on SQS; the mailer Lambda renders it and sends it (SES).

Message body (JSON, one message per email), version 1:

    {
      "version": 1,
      "template": "verify_email" | "password_reset" | "account_exists" | "welcome"
                  | ...   (the mailer owns one template per name: `mail.templates`),
      "to": "person@example.com",
      "context": {...},          # template variables, see below
      "correlation_id": "...",   # the request that caused the email (for logs and traces)
      "idempotency_key": "<uuid4>",  # the mailer sends each key at most once (SQS may redeliver)
      "created_at": 1700000000   # epoch seconds
    }

Contexts sent by the auth service:

- `verify_email`:   {"name", "link", "expires_minutes", "expires_at"}
                    link = <public_base_url>/verify-email?token=<token>
- `password_reset`: {"name", "link", "expires_minutes", "expires_at"}
                    link = <public_base_url>/reset-password?token=<token>
- `account_exists`: {"name", "link"}  someone tried to register with this address; the link is the
                    forgot-password page (<public_base_url>/forgot-password)

The single-use token travels only inside `link` (the queue is encrypted at rest; the token is
stored on our side only as its SHA-256).

The message also carries SQS message attributes `template`, `version` and `correlation_id` (for
filtering and tracing without parsing the body). Tokens and addresses are never logged here.
"""

from __future__ import annotations

import json
import time
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from inference_core.errors import ServiceUnavailableError
from inference_core.observability import get_logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from inference_core.settings import Settings

MESSAGE_VERSION = 1


@lru_cache(maxsize=4)
def _sqs_client(region: str, endpoint_url: str | None) -> Any:
    import boto3

    return boto3.client("sqs", region_name=region, endpoint_url=endpoint_url)


def build_mail_message(
    template: str, to: str, context: dict[str, Any], *, correlation_id: str
) -> dict[str, Any]:
    return {
        "version": MESSAGE_VERSION,
        "template": template,
        "to": to,
        "context": context,
        "correlation_id": correlation_id,
        "idempotency_key": str(uuid.uuid4()),
        "created_at": int(time.time()),
    }


def enqueue_mail(
    template: str,
    to: str,
    context: dict[str, Any],
    *,
    correlation_id: str,
    settings: Settings,
    client: SQSClient | None = None,
) -> str | None:
    """Queue one email; returns the SQS message id, or None when no mail queue is configured.

    Raises ServiceUnavailableError if SQS refuses the message.
    """
    queue_url = settings.queues.mail_queue_url
    if not queue_url:
        get_logger().warning(
            "no mail queue configured; email not queued", extra={"template": template}
        )
        return None
    message = build_mail_message(template, to, context, correlation_id=correlation_id)
    sqs = client or _sqs_client(settings.aws.region, settings.aws.aws_endpoint_url)
    try:
        response = sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(message),
            MessageAttributes={
                "template": {"DataType": "String", "StringValue": template},
                "version": {"DataType": "Number", "StringValue": str(MESSAGE_VERSION)},
                "correlation_id": {"DataType": "String", "StringValue": correlation_id or "-"},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        get_logger().warning(
            "mail queue refused an email", extra={"template": template, "error": type(exc).__name__}
        )
        raise ServiceUnavailableError("The mail queue is unavailable.") from exc
    message_id = str(response.get("MessageId", ""))
    get_logger().info(
        "email queued",
        extra={"template": template, "correlation_id": correlation_id, "message_id": message_id},
    )
    return message_id
