"""Mail errors, as branches of the one hierarchy in `inference_core.errors`.

    InvalidRequestError
    └── InvalidMailMessageError   the queue message is not a valid v1 mail message (permanent)
    ServiceUnavailableError
    └── MailDeliveryError         a transport (SES, SMTP) did not take the message
        └── MailRefusedError      ...because it refused it (rejected, paused, not verified)

Every one of them fails its SQS record: SQS redelivers it and, after `maxReceiveCount`, moves it
to the DLQ. `retryable` only says whether a redelivery can help (it is logged and counted).
Messages carry error codes, never addresses, tokens or the provider's own error text.
"""

from __future__ import annotations

from inference_core.errors import InvalidRequestError, ServiceUnavailableError


class InvalidMailMessageError(InvalidRequestError):
    code = "invalid_mail_message"
    retryable = False
    reason = "invalid_message"


class MailDeliveryError(ServiceUnavailableError):
    """A transport failed. `reason` is one of `refused`, `throttled`, `unavailable`, `internal`."""

    code = "mail_delivery_failed"

    def __init__(
        self,
        message: str,
        *,
        transport: str,
        reason: str,
        retryable: bool,
        provider_code: str | None = None,
    ):
        super().__init__(message)
        self.transport = transport
        self.reason = reason
        self.retryable = retryable
        self.provider_code = provider_code


class MailRefusedError(MailDeliveryError):
    code = "mail_refused"
