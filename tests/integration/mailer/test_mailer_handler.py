"""The mailer Lambda over moto: SQS-shaped events in, emails in moto's SES, failures reported
exactly, redeliveries sent once, poison messages in the DLQ, nothing private in the logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from inference_core.settings import get_settings


def test_a_message_on_the_queue_becomes_an_email_in_ses(aws, deliver, mail_message):
    message = mail_message()
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(message))

    responses = deliver()

    assert responses == [{"batchItemFailures": []}]
    [mail] = aws.sent_mail()
    assert mail["to"] == ["alice@example.com"]
    assert mail["subject"] == "Verify your email address for Inference Core"
    assert "Inference Core" in mail["from"] and "no-reply@mail.inference-core.test" in mail["from"]
    link = message["context"]["link"]
    assert link in mail["text"]
    assert f'href="{link}"' in mail["html"]
    assert "Hi Alice," in mail["text"]


@pytest.mark.parametrize(
    ("template", "context", "expected"),
    [
        (
            "password_reset",
            {"link": "https://app.test/reset?token=r1"},
            "https://app.test/reset?token=r1",
        ),
        ("welcome", {"name": "Bo"}, "Welcome to Inference Core"),
        ("account_exists", {}, "you already have one"),
        (
            "batch_completed",
            {"batch_id": "batch_abc", "request_counts": {"total": 3, "completed": 2, "failed": 1}},
            "Completed: 2",
        ),
        ("batch_failed", {"batch_id": "batch_abc", "reason": "expired"}, "Reason: expired"),
    ],
)
def test_every_template_is_delivered(
    aws, mailer_handler, sqs_event, lambda_context, mail_message, template, context, expected
):
    event = sqs_event(records=[mail_message(template=template, context=context)])

    response = mailer_handler.handler(event, lambda_context())

    assert response == {"batchItemFailures": []}
    [mail] = aws.sent_mail()
    assert expected in mail["text"]


def test_poison_messages_among_good_ones_are_reported_exactly(
    aws, mailer_handler, sqs_event, lambda_context, mail_message
):
    good_1 = mail_message(to="one@example.com")
    good_2 = mail_message(to="two@example.com", template="welcome", context={})
    poison = [
        "this is not json",
        mail_message(version=2),
        mail_message(template="newsletter"),
        {k: v for k, v in mail_message().items() if k != "to"},
        mail_message(context={"name": "no link"}),
        mail_message(context={"link": "javascript:alert(1)"}),
        mail_message(to="Eve <eve@example.com>"),
    ]
    event = sqs_event(records=[good_1, *poison[:4], good_2, *poison[4:]])
    ids = [r["messageId"] for r in event["Records"]]

    response = mailer_handler.handler(event, lambda_context())

    expected_failures = [ids[1], ids[2], ids[3], ids[4], ids[6], ids[7], ids[8]]
    assert response == {"batchItemFailures": [{"itemIdentifier": i} for i in expected_failures]}
    assert sorted(m["to"][0] for m in aws.sent_mail()) == ["one@example.com", "two@example.com"]


def test_a_batch_where_everything_fails_still_answers_with_batch_item_failures(
    aws, mailer_handler, sqs_event, lambda_context
):
    event = sqs_event(records=["{", "[]"])

    response = mailer_handler.handler(event, lambda_context())

    assert response == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]
    }
    assert aws.sent_mail() == []


def test_a_poison_message_ends_in_the_dlq_and_does_not_stop_the_others(aws, deliver, mail_message):
    good = mail_message()
    poison = mail_message(template="no_such_template")
    for message in (good, poison):
        aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(message))

    deliver()

    assert [m["to"] for m in aws.sent_mail()] == [["alice@example.com"]]
    assert aws.dlq_bodies() == [poison]
    remaining = aws.sqs.receive_message(QueueUrl=aws.queue_url).get("Messages", [])
    assert remaining == []


def test_a_redelivered_message_sends_one_email(
    aws, mailer_handler, sqs_event, lambda_context, mail_message
):
    message = mail_message()

    first = mailer_handler.handler(sqs_event(records=[message]), lambda_context())
    # SQS at-least-once: the same message again, in a later batch and twice in one batch.
    second = mailer_handler.handler(sqs_event(records=[message]), lambda_context())
    third = mailer_handler.handler(sqs_event(records=[message, message]), lambda_context())

    assert first == second == third == {"batchItemFailures": []}
    assert len(aws.sent_mail()) == 1
    items = aws.dynamodb.scan(TableName=get_settings().tables.idempotency_table)["Items"]
    assert [item["status"]["S"] for item in items] == ["COMPLETED"]
    assert "expiration" in items[0]


def test_a_new_idempotency_key_is_a_new_email(
    aws, mailer_handler, sqs_event, lambda_context, mail_message
):
    message = mail_message()
    again = {**message, "idempotency_key": "another-key"}

    mailer_handler.handler(sqs_event(records=[message, again]), lambda_context())

    assert len(aws.sent_mail()) == 2


def test_a_reused_key_for_another_recipient_is_refused(
    aws, mailer_handler, sqs_event, lambda_context, mail_message
):
    message = mail_message()
    hijack = {**message, "to": "mallory@example.com"}
    event = sqs_event(records=[message, hijack])

    response = mailer_handler.handler(event, lambda_context())

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert [m["to"] for m in aws.sent_mail()] == [["alice@example.com"]]


def test_when_ses_refuses_and_there_is_no_fallback_the_record_fails_and_can_succeed_later(
    aws, mailer_handler, sqs_event, lambda_context, mail_message, monkeypatch
):
    monkeypatch.setenv("IC_MAIL_FROM", "unverified@elsewhere.test")
    get_settings.cache_clear()
    message = mail_message()
    event = sqs_event(records=[message])

    response = mailer_handler.handler(event, lambda_context())

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert aws.sent_mail() == []
    # A failed send leaves no idempotency record behind, so the redelivery really sends.
    aws.ses.create_email_identity(EmailIdentity="unverified@elsewhere.test")
    assert mailer_handler.handler(sqs_event(records=[message]), lambda_context()) == {
        "batchItemFailures": []
    }
    assert len(aws.sent_mail()) == 1


def _all_log_text(caplog: pytest.LogCaptureFixture, json_logs: io.StringIO) -> str:
    records = "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)
    return records + "\n" + json_logs.getvalue()


@pytest.fixture
def json_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """The JSON lines the Powertools logger writes (with its appended keys), plus caplog at DEBUG
    for our logger and Powertools' own, INFO for everything else (botocore's DEBUG output is the
    wire itself, not a log line of ours)."""
    from inference_core.observability import get_logger

    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="inference-core")
    caplog.set_level(logging.DEBUG, logger="aws_lambda_powertools")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(get_logger().registered_formatter)
    target = logging.getLogger("inference-core")
    target.addHandler(handler)
    try:
        yield stream
    finally:
        target.removeHandler(handler)


def test_logs_carry_masked_addresses_and_never_tokens(
    aws, mailer_handler, sqs_event, lambda_context, mail_message, caplog, json_logs
):
    good = mail_message(to="alice.secret@example.com")
    token = good["context"]["link"].rsplit("=", 1)[1]
    bad_address = mail_message(to="Eve Secret <eve.secret@example.com>")
    bad_link = mail_message(context={"link": "javascript:steal('tok_private')"})
    event = sqs_event(records=[good, bad_address, bad_link])

    response = mailer_handler.handler(event, lambda_context())

    assert len(response["batchItemFailures"]) == 2
    text = _all_log_text(caplog, json_logs)
    assert "mail sent" in text and "mail not sent" in text
    assert "a***@e***.com" in text
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    sent = next(line for line in lines if line["message"] == "mail sent")
    assert sent["correlation_id"] == good["correlation_id"]
    assert sent["recipient"] == "a***@e***.com"
    assert sent["template"] == "verify_email"
    for secret in ("alice.secret", "eve.secret", token, "tok_private", "/auth/verify"):
        assert secret not in text


def test_logs_stay_clean_when_ses_refuses(
    aws, mailer_handler, sqs_event, lambda_context, mail_message, monkeypatch, caplog, json_logs
):
    # SES's refusal can name an address; it must not reach the logs.
    monkeypatch.setenv("IC_MAIL_FROM", "unverified@elsewhere.test")
    get_settings.cache_clear()
    message = mail_message(to="carol.secret@example.com")

    response = mailer_handler.handler(sqs_event(records=[message]), lambda_context())

    assert len(response["batchItemFailures"]) == 1
    text = _all_log_text(caplog, json_logs)
    failure = next(
        json.loads(line) for line in json_logs.getvalue().splitlines() if "mail not sent" in line
    )
    assert failure["provider_code"] == "MessageRejected"
    assert failure["correlation_id"] == message["correlation_id"]
    assert "carol.secret" not in text
    assert "unverified@" not in text
    assert message["context"]["link"] not in text


class _FakeSmtp:
    """Stands in for `smtplib.SMTP`/`SMTP_SSL`: records the TLS context and what was sent."""

    outbox: list[dict[str, Any]]

    def __init__(self, host: str, port: int, timeout: float | None = None, context: Any = None):
        self.host, self.port, self.timeout, self.context = host, port, timeout, context
        self.logged_in: tuple[str, str] | None = None

    def starttls(self, context: Any = None) -> None:
        self.context = context

    def login(self, user: str, password: str) -> None:
        self.logged_in = (user, password)

    def send_message(self, msg: Any, from_addr: str | None = None, to_addrs: Any = None) -> dict:
        self.outbox.append(
            {"msg": msg, "from": from_addr, "to": list(to_addrs), "connection": self}
        )
        return {}

    def close(self) -> None:
        pass

    def __enter__(self) -> _FakeSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_when_ses_refuses_the_smtp_fallback_sends_it(
    aws, mailer_handler, sqs_event, lambda_context, mail_message, monkeypatch
):
    from inference_core.mail.senders import build_mail_sender
    from inference_core.mail.service import build_mail_runtime

    monkeypatch.setenv("IC_MAIL_FROM", "unverified@elsewhere.test")  # SES refuses: not verified
    monkeypatch.setenv("IC_SMTP_FALLBACK_ENABLED", "1")
    monkeypatch.setenv("IC_SMTP_HOST", "smtp.mail.test")
    monkeypatch.setenv("IC_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("IC_SMTP_USERNAME", "mailer")
    monkeypatch.setenv("IC_SMTP_PASSWORD", "smtp-password-for-tests")
    get_settings.cache_clear()
    settings = get_settings()
    outbox: list[dict[str, Any]] = []
    fake = type("FakeSmtp", (_FakeSmtp,), {"outbox": outbox})
    runtime = build_mail_runtime(
        settings, sender=build_mail_sender(settings, smtp_class=fake, smtp_ssl_class=fake)
    )
    monkeypatch.setattr(mailer_handler, "get_mail_runtime", lambda: runtime)
    message = mail_message()

    response = mailer_handler.handler(sqs_event(records=[message]), lambda_context())
    again = mailer_handler.handler(sqs_event(records=[message]), lambda_context())

    assert response == again == {"batchItemFailures": []}
    assert aws.sent_mail() == []
    [sent] = outbox
    connection = sent["connection"]
    assert (connection.host, connection.port) == ("smtp.mail.test", 587)
    assert connection.context.check_hostname is True
    assert connection.logged_in == ("mailer", "smtp-password-for-tests")
    assert sent["to"] == ["alice@example.com"]
    assert sent["msg"]["Subject"] == "Verify your email address for Inference Core"
    assert message["context"]["link"] in sent["msg"].get_body(("plain",)).get_content()


def _emf_blobs(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line]


def _total(blob: dict[str, Any], name: str) -> float:
    value = blob[name]  # EMF keeps each add as one entry of a list
    return sum(value) if isinstance(value, list) else value


def test_each_invocation_flushes_its_own_metrics(
    aws, mailer_handler, sqs_event, lambda_context, mail_message, monkeypatch, capsys
):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "0")
    capsys.readouterr()

    mailer_handler.handler(sqs_event(records=[mail_message(), mail_message()]), lambda_context())
    first = _emf_blobs(capsys.readouterr().out)
    mailer_handler.handler(sqs_event(records=[mail_message()]), lambda_context())
    second = _emf_blobs(capsys.readouterr().out)

    # One blob per invocation, counting only that invocation's messages.
    counts = [
        [(_total(b, "MailMessagesReceived"), _total(b, "EmailsSent")) for b in blobs]
        for blobs in (first, second)
    ]
    assert counts == [[(2, 2)], [(1, 1)]]
    assert first[0]["service"] == "inference-core"
