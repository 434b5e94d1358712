"""The mailer's service: validate a mail-queue message, render it, and send it exactly once.

Message schema, version 1 (what `inference_core.mailqueue` puts on the mail queue):

    {"version": 1,
     "template": "verify_email" | "password_reset" | "welcome" | "account_exists"
                 | "batch_completed" | "batch_failed",
     "to": "<address>",
     "context": {...the template's variables, see `mail.templates`...},
     "correlation_id": "...",            # optional: carried into every log line
     "idempotency_key": "<uuid>"}

A message that breaks the schema raises `InvalidMailMessageError` (permanent); a transport
failure raises `MailDeliveryError`. Either way the SQS record fails, is redelivered, and ends in the
DLQ after `maxReceiveCount`. Powertools' idempotency utility (DynamoDB) keys each send on
`idempotency_key`, so a redelivered message sends one email. Logs carry masked addresses and never
a token or a link.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inference_core.errors import InferenceCoreError, ServiceUnavailableError
from inference_core.mail.errors import InvalidMailMessageError, MailDeliveryError
from inference_core.mail.senders import MailSender, OutgoingMail, build_mail_sender
from inference_core.mail.templates import (
    TemplateName,
    describe_validation_error,
    render_mail,
    validate_context,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
    from mypy_boto3_dynamodb import DynamoDBClient

    from inference_core.settings import Settings

MAIL_MESSAGE_VERSION = 1
SUPPORTED_VERSIONS = frozenset({MAIL_MESSAGE_VERSION})
# Stable across function names and deployments, so the same message is the same record anywhere.
IDEMPOTENCY_KEY_PREFIX = "inference-core.mail"
# Outside Lambda (tests, local tools) an in-progress record blocks redelivery for this long.
DEFAULT_IN_PROGRESS_MILLIS = 5 * 60 * 1000
MAX_ADDRESS_CHARS = 254


class MailMessage(BaseModel):
    """One mail-queue message, schema version 1."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal[1]
    template: TemplateName
    to: str = Field(max_length=MAX_ADDRESS_CHARS)
    context: dict[str, Any]
    correlation_id: str | None = Field(default=None, max_length=256)
    idempotency_key: str = Field(min_length=1, max_length=256)

    @field_validator("to")
    @classmethod
    def _single_address(cls, value: str) -> str:
        value = value.strip()
        if any(ord(c) < 32 or c in " ,;<>" for c in value):
            raise ValueError("must be one bare address")
        try:
            address = Address(addr_spec=value)
        except (ValueError, IndexError, TypeError, HeaderParseError):
            raise ValueError("is not an email address") from None
        if not address.username or "." not in address.domain:
            raise ValueError("is not an email address")
        return value


@dataclass(frozen=True)
class MailDelivery:
    """What happened to one message: sent now, or already sent by an earlier delivery."""

    template: str
    transport: str | None
    message_id: str | None
    duplicate: bool


@dataclass(frozen=True)
class MailRuntime:
    """What the mailer needs, built once per process (the handler caches it)."""

    settings: Settings
    sender: MailSender
    idempotency_store: BasePersistenceLayer


def build_idempotency_store(
    settings: Settings, *, client: DynamoDBClient | None = None
) -> BasePersistenceLayer:
    """Powertools' DynamoDB persistence layer over the idempotency table (pk `id`, TTL
    `expiration`). Give each consumer its own: Powertools configures a store once."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    if client is None:
        import boto3

        client = boto3.client(
            "dynamodb", region_name=settings.aws.region, endpoint_url=settings.aws.aws_endpoint_url
        )
    return DynamoDBPersistenceLayer(
        table_name=settings.tables.idempotency_table, boto3_client=client
    )


def build_mail_runtime(
    settings: Settings,
    *,
    sender: MailSender | None = None,
    idempotency_store: BasePersistenceLayer | None = None,
) -> MailRuntime:
    return MailRuntime(
        settings=settings,
        sender=sender or build_mail_sender(settings),
        idempotency_store=idempotency_store or build_idempotency_store(settings),
    )


def mask_address(address: str) -> str:
    """`alice@example.com` → `a***@e***.com`: enough to tell messages apart, not to read one."""
    local, _, domain = address.strip().rpartition("@")
    if not local or not domain:
        return "***"
    name, dot, tld = domain.rpartition(".")
    masked_domain = f"{name[:1]}***.{tld}" if dot and name else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def decode_mail_message(raw: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    """The message as a dict: an SQS body is JSON text, a caller may pass the dict itself."""
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        payload = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidMailMessageError("the mail message is not JSON") from exc
    if not isinstance(payload, dict):
        raise InvalidMailMessageError("the mail message is not a JSON object")
    return payload


def parse_mail_message(raw: Mapping[str, Any] | str | bytes) -> MailMessage:
    """A validated v1 message, or `InvalidMailMessageError` (which never quotes the values)."""
    payload = decode_mail_message(raw)
    version = payload.get("version")
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise InvalidMailMessageError(
            f"unsupported mail message version {version!r:.20}", param="version"
        )
    try:
        message = MailMessage.model_validate(payload)
    except ValidationError as exc:
        # Not chained: a ValidationError quotes its input (addresses, tokens) in every traceback.
        raise InvalidMailMessageError(
            f"invalid mail message: {describe_validation_error(exc)}"
        ) from None
    validate_context(message.template, message.context)
    return message


def send_mail_message(
    message: Mapping[str, Any] | str | bytes,
    *,
    settings: Settings,
    sender: MailSender,
    idempotency_store: BasePersistenceLayer | None = None,
    lambda_context: Any | None = None,
) -> MailDelivery:
    """Validate, render and send one mail-queue message, at most once per `idempotency_key`.

    `idempotency_store` defaults to a new store over the configured table (the handler passes its
    cached one); `lambda_context` bounds how long an interrupted send blocks a redelivery.
    """
    from inference_core.observability import get_logger

    logger = get_logger()
    try:
        payload = decode_mail_message(message)
    except InvalidMailMessageError as exc:
        _log_failure(logger, exc, {})
        raise exc from None
    with _correlation(logger, payload.get("correlation_id")):
        fields: dict[str, Any] = {
            "template": str(payload.get("template"))[:40],
            "idempotency_key": str(payload.get("idempotency_key"))[:64],
        }
        try:
            mail = parse_mail_message(payload)
            fields["recipient"] = mask_address(mail.to)
            rendered = render_mail(mail.template, mail.context)
            outgoing = OutgoingMail(
                to=mail.to,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                tags={"template": mail.template},
            )
            delivery = _send_once(
                mail,
                outgoing,
                settings=settings,
                sender=sender,
                store=idempotency_store or build_idempotency_store(settings),
                lambda_context=lambda_context,
            )
        # Errors leave without their causes: a foreign error's text (SES, smtplib, pydantic) may
        # quote the address or the link, and whatever logs a traceback upstream would print it.
        except InferenceCoreError as exc:
            _log_failure(logger, exc, fields)
            raise exc from None
        except Exception as exc:
            # A bug, not a transport: log where it happened, not what it said.
            fields["stack"] = traceback.format_tb(exc.__traceback__)[-5:]
            error = MailDeliveryError(
                f"unexpected {type(exc).__name__} while sending mail",
                transport=getattr(sender, "transport", "unknown"),
                reason="internal",
                retryable=True,
            )
            _log_failure(logger, error, fields)
            raise error from None
        logger.info(
            "mail already sent; duplicate delivery skipped" if delivery.duplicate else "mail sent",
            extra={
                **fields,
                "transport": delivery.transport,
                "message_id": delivery.message_id,
                "duplicate": delivery.duplicate,
            },
        )
        return delivery


def _send_once(
    mail: MailMessage,
    outgoing: OutgoingMail,
    *,
    settings: Settings,
    sender: MailSender,
    store: BasePersistenceLayer,
    lambda_context: Any | None,
) -> MailDelivery:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        BaseError,
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(
        event_key_jmespath="idempotency_key",
        # The same key with another template or recipient is a producer bug: fail, don't skip.
        payload_validation_jmespath="[template, to]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.mail.mail_idempotency_ttl_seconds,
        lambda_context=lambda_context or cast(Any, _LocalDeadline()),
    )
    sent_now: list[bool] = []

    def deliver(*, mail: dict[str, Any]) -> dict[str, Any]:
        sent = sender.send(outgoing)
        sent_now.append(True)
        return {"transport": sent.transport, "message_id": sent.message_id}

    send = idempotent_function(
        deliver,
        data_keyword_argument="mail",
        persistence_store=store,
        config=config,
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )
    try:
        result = send(mail=mail.model_dump(include={"idempotency_key", "template", "to"}))
    except IdempotencyAlreadyInProgressError as exc:
        raise ServiceUnavailableError(
            "another delivery of this message is in progress", code="mail_in_progress"
        ) from exc
    except IdempotencyValidationError as exc:
        raise InvalidMailMessageError(
            "idempotency_key was already used for another template or recipient",
            param="idempotency_key",
        ) from exc
    except BaseError as exc:  # the idempotency store itself failed
        raise ServiceUnavailableError(
            f"the idempotency store failed ({type(exc).__name__})", code="idempotency_store_failed"
        ) from exc
    result = result if isinstance(result, dict) else {}
    return MailDelivery(
        template=mail.template,
        transport=result.get("transport"),
        message_id=result.get("message_id"),
        duplicate=not sent_now,
    )


class _LocalDeadline:
    """Stands in for the Lambda context outside Lambda: how long a send may stay in progress."""

    def get_remaining_time_in_millis(self) -> int:
        return DEFAULT_IN_PROGRESS_MILLIS


@contextmanager
def _correlation(logger: Any, correlation_id: Any) -> Iterator[None]:
    if isinstance(correlation_id, str) and correlation_id:
        logger.set_correlation_id(correlation_id[:128])
    try:
        yield
    finally:
        logger.remove_keys(["correlation_id"])


def _log_failure(logger: Any, exc: InferenceCoreError, fields: dict[str, Any]) -> None:
    permanent = isinstance(exc, InvalidMailMessageError) or not getattr(exc, "retryable", True)
    logger.error(
        "mail not sent",
        extra={
            **fields,
            "error_code": exc.code,
            "error": exc.message,
            "reason": getattr(exc, "reason", None),
            "transport": getattr(exc, "transport", None),
            "provider_code": getattr(exc, "provider_code", None),
            "permanent": permanent,
        },
    )
