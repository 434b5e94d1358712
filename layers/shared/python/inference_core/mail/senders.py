"""How a rendered email leaves: SES v2, SMTP (standard library), or SES with an SMTP fallback.

Both transports send the same MIME message (multipart/alternative: text, then HTML), built once
here, so an email looks the same whichever way it went. Foreign errors (botocore, smtplib, ssl)
become `MailDeliveryError`s whose `reason` (`refused`, `throttled`, `unavailable`) tells
`FallbackMailSender` whether SMTP should take over. Error messages carry codes, never addresses.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any, Protocol

from inference_core.mail.errors import MailDeliveryError, MailRefusedError

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

    from inference_core.settings import Settings

TRANSPORT_SES = "ses"
TRANSPORT_SMTP = "smtp"

REFUSED, THROTTLED, UNAVAILABLE = "refused", "throttled", "unavailable"
DEFAULT_FALLBACK_ON = frozenset({REFUSED, THROTTLED, UNAVAILABLE})

# SES (v2 and v1 names) error codes by what they mean for the message.
SES_REFUSED_CODES = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSendingPausedException",
        "SendingPausedException",
        "AccountSuspendedException",
        "ConfigurationSetSendingPausedException",
    }
)
# Botocore has already retried these (standard retry mode) by the time we see them.
SES_THROTTLED_CODES = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
SES_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SentMail:
    transport: str
    message_id: str | None


class MailSender(Protocol):
    transport: str

    def send(self, mail: OutgoingMail) -> SentMail: ...


def build_mime(
    mail: OutgoingMail, *, from_address: str, from_name: str | None = None
) -> EmailMessage:
    """The one MIME message both transports send."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=from_name or "", addr_spec=from_address)
    message["To"] = Address(addr_spec=mail.to)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class SesMailSender:
    """SES v2 `SendEmail` with raw content, from the configured identity and configuration set."""

    transport = TRANSPORT_SES

    def __init__(
        self,
        *,
        from_address: str,
        from_name: str | None = None,
        configuration_set: str | None = None,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        client: SESV2Client | None = None,
    ):
        self.from_address = from_address
        self.from_name = from_name
        self.configuration_set = configuration_set
        self._region = region
        self._endpoint_url = endpoint_url
        self._client = client

    @classmethod
    def from_settings(
        cls, settings: Settings, *, client: SESV2Client | None = None
    ) -> SesMailSender:
        return cls(
            from_address=settings.mail.mail_from,
            from_name=settings.mail.mail_from_name,
            configuration_set=settings.mail.mail_configuration_set,
            region=settings.aws.region,
            endpoint_url=settings.aws.aws_endpoint_url,
            client=client,
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "sesv2",
                region_name=self._region,
                endpoint_url=self._endpoint_url,
                config=Config(
                    retries={"mode": "standard", "max_attempts": SES_MAX_ATTEMPTS},
                    connect_timeout=5,
                    read_timeout=10,
                ),
            )
        return self._client

    def send(self, mail: OutgoingMail) -> SentMail:
        from botocore.exceptions import BotoCoreError, ClientError

        mime = build_mime(mail, from_address=self.from_address, from_name=self.from_name)
        request: dict[str, Any] = {
            "FromEmailAddress": self.from_address,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": mime.as_bytes()}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        if mail.tags:
            request["EmailTags"] = [{"Name": k, "Value": v} for k, v in mail.tags.items()]
        try:
            response = self.client.send_email(**request)
        except ClientError as exc:
            raise _ses_error(exc) from exc
        except BotoCoreError as exc:  # connection failures and timeouts, after botocore's retries
            raise MailDeliveryError(
                f"SES is unreachable ({type(exc).__name__})",
                transport=self.transport,
                reason=UNAVAILABLE,
                retryable=True,
                provider_code=type(exc).__name__,
            ) from exc
        return SentMail(transport=self.transport, message_id=response.get("MessageId"))


def _ses_error(exc: Any) -> MailDeliveryError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in SES_REFUSED_CODES:
        return MailRefusedError(
            f"SES refused the message ({code})",
            transport=TRANSPORT_SES,
            reason=REFUSED,
            retryable=False,
            provider_code=code,
        )
    if code in SES_THROTTLED_CODES or status == 429:
        return MailDeliveryError(
            f"SES is throttling ({code})",
            transport=TRANSPORT_SES,
            reason=THROTTLED,
            retryable=True,
            provider_code=code,
        )
    if status >= 500:
        return MailDeliveryError(
            f"SES is failing ({code})",
            transport=TRANSPORT_SES,
            reason=UNAVAILABLE,
            retryable=True,
            provider_code=code,
        )
    # BadRequest, NotFound (e.g. a missing configuration set): our request is wrong, and SMTP
    # would not fix it.
    return MailDeliveryError(
        f"SES did not accept the request ({code})",
        transport=TRANSPORT_SES,
        reason="invalid",
        retryable=False,
        provider_code=code,
    )


class SmtpMailSender:
    """SMTP over implicit TLS (`ssl`, port 465) or STARTTLS (port 587), certificates and host
    names checked by `ssl.create_default_context()`; never in clear text."""

    transport = TRANSPORT_SMTP

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        from_address: str,
        from_name: str | None = None,
        username: str | None = None,
        password: Callable[[], str | None] | None = None,
        timeout: float = 10.0,
        smtp_class: type[smtplib.SMTP] = smtplib.SMTP,
        smtp_ssl_class: type[smtplib.SMTP_SSL] = smtplib.SMTP_SSL,
    ):
        if security not in ("ssl", "starttls"):
            raise ValueError("SMTP security must be 'ssl' or 'starttls'")
        self.host = host
        self.port = port
        self.security = security
        self.from_address = from_address
        self.from_name = from_name
        self.username = username
        self._password = password
        self.timeout = timeout
        self._smtp_class = smtp_class
        self._smtp_ssl_class = smtp_ssl_class

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        smtp_class: type[smtplib.SMTP] = smtplib.SMTP,
        smtp_ssl_class: type[smtplib.SMTP_SSL] = smtplib.SMTP_SSL,
    ) -> SmtpMailSender:
        mail = settings.mail
        if not mail.smtp_host:
            raise ValueError("IC_SMTP_HOST is not set")

        def password() -> str | None:
            if mail.smtp_password is not None:
                return mail.smtp_password.get_secret_value()
            if mail.smtp_password_secret_arn:
                from inference_core.settings import _read_secret

                return _read_secret(mail.smtp_password_secret_arn, settings.aws.aws_endpoint_url)
            return None

        return cls(
            host=mail.smtp_host,
            port=mail.resolved_smtp_port,
            security=mail.smtp_security,
            from_address=mail.mail_from,
            from_name=mail.mail_from_name,
            username=mail.smtp_username,
            password=password,
            timeout=mail.smtp_timeout_seconds,
            smtp_class=smtp_class,
            smtp_ssl_class=smtp_ssl_class,
        )

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()  # verifies the chain and the host name
        if self.security == "ssl":
            return self._smtp_ssl_class(self.host, self.port, timeout=self.timeout, context=context)
        connection = self._smtp_class(self.host, self.port, timeout=self.timeout)
        try:
            connection.starttls(context=context)
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, mail: OutgoingMail) -> SentMail:
        mime = build_mime(mail, from_address=self.from_address, from_name=self.from_name)
        try:
            with self._connect() as connection:
                if self.username:
                    connection.login(self.username, (self._password and self._password()) or "")
                connection.send_message(mime, from_addr=self.from_address, to_addrs=[mail.to])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise self._refused(type(exc).__name__) from exc
        except smtplib.SMTPResponseException as exc:  # includes auth and DATA failures
            if exc.smtp_code >= 500:
                raise self._refused(f"{type(exc).__name__} {exc.smtp_code}") from exc
            raise self._unavailable(f"{type(exc).__name__} {exc.smtp_code}") from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. no STARTTLS: never send in clear
            raise self._refused("SMTPNotSupportedError") from exc
        except ssl.SSLCertVerificationError as exc:
            raise self._refused("SSLCertVerificationError") from exc
        except (smtplib.SMTPException, OSError) as exc:  # connection, TLS, timeouts
            raise self._unavailable(type(exc).__name__) from exc
        return SentMail(transport=self.transport, message_id=str(mime["Message-ID"]))

    def _refused(self, code: str) -> MailRefusedError:
        return MailRefusedError(
            f"SMTP refused the message ({code})",
            transport=self.transport,
            reason=REFUSED,
            retryable=False,
            provider_code=code,
        )

    def _unavailable(self, code: str) -> MailDeliveryError:
        return MailDeliveryError(
            f"SMTP is unavailable ({code})",
            transport=self.transport,
            reason=UNAVAILABLE,
            retryable=True,
            provider_code=code,
        )


class FallbackMailSender:
    """`primary` (SES) first; `fallback` (SMTP) when the primary fails for a reason in
    `fallback_on`. If both fail, the fallback's error is raised (the primary's is its context)."""

    def __init__(
        self,
        primary: MailSender,
        fallback: MailSender,
        *,
        fallback_on: Collection[str] = DEFAULT_FALLBACK_ON,
    ):
        self.primary = primary
        self.fallback = fallback
        self.fallback_on = frozenset(fallback_on)
        self.transport = primary.transport

    def send(self, mail: OutgoingMail) -> SentMail:
        try:
            return self.primary.send(mail)
        except MailDeliveryError as exc:
            if exc.reason not in self.fallback_on:
                raise
            from inference_core.observability import get_logger

            get_logger().warning(
                "mail transport failed; trying the fallback",
                extra={
                    "transport": exc.transport,
                    "fallback_transport": self.fallback.transport,
                    "reason": exc.reason,
                    "provider_code": exc.provider_code,
                },
            )
            return self.fallback.send(mail)


def build_mail_sender(
    settings: Settings,
    *,
    ses_client: SESV2Client | None = None,
    smtp_class: type[smtplib.SMTP] = smtplib.SMTP,
    smtp_ssl_class: type[smtplib.SMTP_SSL] = smtplib.SMTP_SSL,
) -> MailSender:
    """SES from the configured identity; wrapped with the SMTP fallback when it is enabled."""
    ses = SesMailSender.from_settings(settings, client=ses_client)
    if not settings.mail.smtp_fallback_enabled:
        return ses
    smtp = SmtpMailSender.from_settings(
        settings, smtp_class=smtp_class, smtp_ssl_class=smtp_ssl_class
    )
    return FallbackMailSender(ses, smtp, fallback_on=settings.mail.fallback_reasons)
