"""Transports without a network: the MIME message, SES v2 requests and error mapping (botocore
Stubber), SMTP over TLS with checked host names (a fake smtplib class), and the fallback rule."""

from __future__ import annotations

import smtplib
import ssl
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber

from inference_core.mail.errors import MailDeliveryError, MailRefusedError
from inference_core.mail.senders import (
    FallbackMailSender,
    OutgoingMail,
    SentMail,
    SesMailSender,
    SmtpMailSender,
    build_mail_sender,
    build_mime,
)
from inference_core.settings import get_settings

MAIL = OutgoingMail(
    to="erin@example.com",
    subject="Reset your password",
    text="Open https://app.test/reset?token=t1\n",
    html='<p><a href="https://app.test/reset?token=t1">Reset</a></p>\n',
    tags={"template": "password_reset"},
)


def test_the_mime_message_is_text_then_html_from_the_named_identity():
    message = build_mime(MAIL, from_address="no-reply@app.test", from_name="Inference Core")

    assert message["From"] == "Inference Core <no-reply@app.test>"
    assert message["To"] == "erin@example.com"
    assert message["Subject"] == "Reset your password"
    assert message["Message-ID"].endswith("@app.test>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.get_body(("plain",)).get_content() == MAIL.text
    assert b"\r\n" in message.as_bytes()  # SMTP line endings on the wire


def _ses_client() -> Any:
    return boto3.client(
        "sesv2", region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )


def test_ses_sends_raw_mime_from_the_identity_with_the_configuration_set():
    client = _ses_client()
    sender = SesMailSender(
        from_address="no-reply@app.test",
        from_name="Inference Core",
        configuration_set="ic-mail",
        client=client,
    )
    with Stubber(client) as stub:
        stub.add_response(
            "send_email",
            {"MessageId": "ses-1"},
            {
                "FromEmailAddress": "no-reply@app.test",
                "Destination": {"ToAddresses": ["erin@example.com"]},
                "Content": {"Raw": {"Data": ANY}},
                "ConfigurationSetName": "ic-mail",
                "EmailTags": [{"Name": "template", "Value": "password_reset"}],
            },
        )
        sent = sender.send(MAIL)
        stub.assert_no_pending_responses()

    assert sent == SentMail(transport="ses", message_id="ses-1")


@pytest.mark.parametrize(
    ("code", "status", "error_class", "reason", "retryable"),
    [
        ("MessageRejected", 400, MailRefusedError, "refused", False),
        ("SendingPausedException", 400, MailRefusedError, "refused", False),
        ("AccountSendingPausedException", 400, MailRefusedError, "refused", False),
        ("MailFromDomainNotVerifiedException", 400, MailRefusedError, "refused", False),
        ("TooManyRequestsException", 429, MailDeliveryError, "throttled", True),
        ("LimitExceededException", 400, MailDeliveryError, "throttled", True),
        ("InternalFailure", 500, MailDeliveryError, "unavailable", True),
        ("BadRequestException", 400, MailDeliveryError, "invalid", False),
        ("NotFoundException", 404, MailDeliveryError, "invalid", False),
    ],
)
def test_ses_errors_are_mapped_by_what_they_mean(code, status, error_class, reason, retryable):
    client = _ses_client()
    sender = SesMailSender(from_address="no-reply@app.test", client=client)
    with Stubber(client) as stub:
        stub.add_client_error(
            "send_email",
            service_error_code=code,
            service_message="Email address is not verified: erin@example.com",
            http_status_code=status,
        )
        with pytest.raises(MailDeliveryError) as caught:
            sender.send(MAIL)

    error = caught.value
    assert type(error) is error_class
    assert (error.transport, error.reason, error.retryable, error.provider_code) == (
        "ses",
        reason,
        retryable,
        code,
    )
    assert "erin" not in error.message


def test_an_unreachable_ses_is_unavailable():
    class Unreachable:
        def send_email(self, **_: Any) -> dict:
            raise EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")

    sender = SesMailSender(from_address="no-reply@app.test", client=Unreachable())

    with pytest.raises(MailDeliveryError) as caught:
        sender.send(MAIL)

    assert (caught.value.reason, caught.value.retryable) == ("unavailable", True)
    assert caught.value.provider_code == "EndpointConnectionError"


class FakeSmtp:
    """`smtplib.SMTP`'s surface as the sender uses it; `fail_with` makes one step raise."""

    instances: list[FakeSmtp] = []
    fail_with: dict[str, BaseException] = {}

    def __init__(self, host: str, port: int, timeout: float | None = None, context: Any = None):
        self.host, self.port, self.timeout, self.context = host, port, timeout, context
        self.starttls_called = False
        self.logged_in: tuple[str, str] | None = None
        self.sent: list[tuple[Any, str | None, list[str]]] = []
        self.closed = False
        type(self).instances.append(self)
        self._maybe_fail("connect")

    def _maybe_fail(self, step: str) -> None:
        if step in self.fail_with:
            raise self.fail_with[step]

    def starttls(self, context: Any = None) -> None:
        self._maybe_fail("starttls")
        self.starttls_called, self.context = True, context

    def login(self, user: str, password: str) -> None:
        self._maybe_fail("login")
        self.logged_in = (user, password)

    def send_message(self, msg: Any, from_addr: str | None = None, to_addrs: Any = None) -> dict:
        self._maybe_fail("send")
        self.sent.append((msg, from_addr, list(to_addrs)))
        return {}

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def fake_smtp() -> type[FakeSmtp]:
    return type("FakeSmtpForTest", (FakeSmtp,), {"instances": [], "fail_with": {}})


def _smtp(fake: type[FakeSmtp], **overrides: Any) -> SmtpMailSender:
    options: dict[str, Any] = {
        "host": "smtp.app.test",
        "port": 465,
        "security": "ssl",
        "from_address": "no-reply@app.test",
        "from_name": "Inference Core",
        "smtp_class": fake,
        "smtp_ssl_class": fake,
    }
    options.update(overrides)
    return SmtpMailSender(**options)


def _checks_hostnames(context: Any) -> bool:
    return (
        isinstance(context, ssl.SSLContext)
        and context.check_hostname is True
        and context.verify_mode == ssl.CERT_REQUIRED
    )


def test_smtp_over_implicit_tls_checks_the_host_name(fake_smtp):
    sent = _smtp(fake_smtp, timeout=7.5).send(MAIL)

    [connection] = fake_smtp.instances
    assert (connection.host, connection.port, connection.timeout) == ("smtp.app.test", 465, 7.5)
    assert _checks_hostnames(connection.context)
    assert connection.starttls_called is False
    assert connection.logged_in is None
    [(message, envelope_from, envelope_to)] = connection.sent
    assert (envelope_from, envelope_to) == ("no-reply@app.test", ["erin@example.com"])
    assert message["Subject"] == "Reset your password"
    assert connection.closed
    assert sent.transport == "smtp" and sent.message_id == message["Message-ID"]


def test_smtp_with_starttls_upgrades_before_logging_in(fake_smtp):
    sender = _smtp(
        fake_smtp, port=587, security="starttls", username="mailer", password=lambda: "pw-1"
    )

    sender.send(MAIL)

    [connection] = fake_smtp.instances
    assert connection.starttls_called and _checks_hostnames(connection.context)
    assert connection.logged_in == ("mailer", "pw-1")
    assert len(connection.sent) == 1


def test_a_server_without_starttls_gets_nothing_in_clear_text(fake_smtp):
    fake_smtp.fail_with = {"starttls": smtplib.SMTPNotSupportedError("no STARTTLS")}

    with pytest.raises(MailRefusedError):
        _smtp(fake_smtp, security="starttls").send(MAIL)

    [connection] = fake_smtp.instances
    assert connection.sent == [] and connection.closed


@pytest.mark.parametrize(
    ("step", "error", "reason", "retryable"),
    [
        (
            "send",
            smtplib.SMTPRecipientsRefused({"erin@example.com": (550, b"no such user")}),
            "refused",
            False,
        ),
        (
            "send",
            smtplib.SMTPSenderRefused(553, b"sender not allowed", "no-reply@app.test"),
            "refused",
            False,
        ),
        ("send", smtplib.SMTPDataError(554, b"spam"), "refused", False),
        ("send", smtplib.SMTPDataError(451, b"try later"), "unavailable", True),
        ("login", smtplib.SMTPAuthenticationError(535, b"bad credentials"), "refused", False),
        ("connect", ConnectionRefusedError(111, "refused"), "unavailable", True),
        ("connect", TimeoutError("timed out"), "unavailable", True),
        ("connect", ssl.SSLCertVerificationError("hostname mismatch"), "refused", False),
        ("send", smtplib.SMTPServerDisconnected("gone"), "unavailable", True),
    ],
)
def test_smtp_errors_are_mapped_and_never_name_the_recipient(
    fake_smtp, step, error, reason, retryable
):
    fake_smtp.fail_with = {step: error}
    sender = _smtp(fake_smtp, username="mailer", password=lambda: "pw")

    with pytest.raises(MailDeliveryError) as caught:
        sender.send(MAIL)

    assert (caught.value.transport, caught.value.reason, caught.value.retryable) == (
        "smtp",
        reason,
        retryable,
    )
    assert "erin" not in caught.value.message


def test_smtp_security_is_ssl_or_starttls_only(fake_smtp):
    with pytest.raises(ValueError, match="ssl"):
        _smtp(fake_smtp, security="none")


class StubSender:
    def __init__(self, transport: str, error: MailDeliveryError | None = None):
        self.transport = transport
        self.error = error
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> SentMail:
        if self.error is not None:
            raise self.error
        self.sent.append(mail)
        return SentMail(transport=self.transport, message_id=f"{self.transport}-1")


def _failure(reason: str) -> MailDeliveryError:
    return MailDeliveryError("SES failed", transport="ses", reason=reason, retryable=True)


@pytest.mark.parametrize("reason", ["refused", "throttled", "unavailable"])
def test_the_fallback_takes_over_when_the_primary_fails_for_a_listed_reason(reason):
    primary, fallback = StubSender("ses", _failure(reason)), StubSender("smtp")

    sent = FallbackMailSender(primary, fallback).send(MAIL)

    assert sent.transport == "smtp" and fallback.sent == [MAIL]


def test_the_fallback_stays_out_of_failures_it_is_not_configured_for():
    primary, fallback = StubSender("ses", _failure("throttled")), StubSender("smtp")
    sender = FallbackMailSender(primary, fallback, fallback_on={"refused"})

    with pytest.raises(MailDeliveryError) as caught:
        sender.send(MAIL)

    assert caught.value.transport == "ses" and fallback.sent == []
    invalid = FallbackMailSender(StubSender("ses", _failure("invalid")), fallback)
    with pytest.raises(MailDeliveryError):
        invalid.send(MAIL)
    assert fallback.sent == []


def test_when_both_fail_the_fallbacks_error_is_raised():
    smtp_error = MailDeliveryError(
        "SMTP down", transport="smtp", reason="unavailable", retryable=True
    )
    sender = FallbackMailSender(
        StubSender("ses", _failure("refused")), StubSender("smtp", smtp_error)
    )

    with pytest.raises(MailDeliveryError) as caught:
        sender.send(MAIL)

    assert caught.value is smtp_error


def test_the_primary_is_used_alone_when_it_works():
    primary, fallback = StubSender("ses"), StubSender("smtp")

    assert FallbackMailSender(primary, fallback).send(MAIL).transport == "ses"
    assert fallback.sent == []


def test_settings_choose_ses_alone_or_ses_with_the_smtp_fallback(monkeypatch):
    assert isinstance(build_mail_sender(get_settings()), SesMailSender)

    monkeypatch.setenv("IC_SMTP_FALLBACK_ENABLED", "true")
    monkeypatch.setenv("IC_SMTP_HOST", "smtp.app.test")
    monkeypatch.setenv("IC_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("IC_SMTP_FALLBACK_ON", "refused, throttled")
    get_settings.cache_clear()
    sender = build_mail_sender(get_settings())

    assert isinstance(sender, FallbackMailSender)
    assert isinstance(sender.primary, SesMailSender)
    assert isinstance(sender.fallback, SmtpMailSender)
    assert (sender.fallback.host, sender.fallback.port) == ("smtp.app.test", 587)
    assert sender.fallback_on == {"refused", "throttled"}
