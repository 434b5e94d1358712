"""Fixtures for the mailer over moto: a mail queue with its DLQ, a verified SES identity, the
idempotency table, the real handler, and factories for SQS events and Lambda contexts."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.factories import FakeLambdaContext
from tests.factories import lambda_context as make_lambda_context
from tests.factories import sqs_event as make_sqs_event

REPO = Path(__file__).resolve().parents[3]
HANDLER_PATH = REPO / "functions" / "mailer" / "handler.py"
REGION = "us-east-1"
MAIL_FROM = "no-reply@mail.inference-core.test"
MAX_RECEIVE_COUNT = 3


def _load_handler() -> ModuleType:
    # Lambda puts the handler at the root of the zip, so it is not a package: load it by path.
    name = "mailer_lambda_handler"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HANDLER_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def mailer_handler() -> ModuleType:
    return _load_handler()


@pytest.fixture
def lambda_context() -> Callable[..., FakeLambdaContext]:
    """`lambda_context(remaining_millis=...)`: what Lambda passes as the handler's context."""
    return functools.partial(
        make_lambda_context, "ic-mailer", memory_mb=256, remaining_millis=60_000
    )


@pytest.fixture
def sqs_event() -> Callable[..., dict[str, Any]]:
    """`sqs_event(records=[...])`: each record is a message dict (sent as JSON), a raw body
    string, or a message as `receive_message` returned it (keeps its id and receipt handle)."""

    def make(*, records: list[Any], queue_arn: str | None = None) -> dict[str, Any]:
        arn = queue_arn or f"arn:aws:sqs:{REGION}:123456789012:ic-mail"
        return make_sqs_event(records, queue_arn=arn)

    return make


@pytest.fixture
def mail_message() -> Callable[..., dict[str, Any]]:
    """A valid v1 mail message; keyword arguments replace its fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "version": 1,
            "template": "verify_email",
            "to": "alice@example.com",
            "context": {
                "name": "Alice",
                "link": "http://127.0.0.1:8000/auth/verify?token=tok_" + uuid.uuid4().hex,
                "expires_minutes": 1440,
            },
            "correlation_id": "corr-" + uuid.uuid4().hex[:12],
            "idempotency_key": str(uuid.uuid4()),
        }
        message.update(overrides)
        return message

    return make


@dataclass
class MailerAws:
    sqs: Any
    ses: Any
    dynamodb: Any
    queue_url: str
    queue_arn: str
    dlq_url: str

    def sent_mail(self) -> list[dict[str, Any]]:
        """What moto's SES accepted, parsed (the same reader as `inference-core mail`)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        from inference_core.mail.local_mailbox import _raw_message, _simple_message

        backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        return [
            _raw_message(vars(m)) if hasattr(m, "raw_data") else _simple_message(vars(m))
            for m in backend.sent_messages
        ]

    def dlq_bodies(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=30
        )
        return [json.loads(m["Body"]) for m in response.get("Messages", [])]


@pytest.fixture
def mailer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IC_MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("IC_REGION", REGION)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ic-mailer")


@pytest.fixture
def aws(mailer_env: None, mailer_handler: ModuleType) -> Iterator[MailerAws]:
    """moto with the mail queue (+ DLQ), a verified From identity and every table."""
    from inference_core.db.tables import create_tables
    from inference_core.mail.local_mailbox import ensure_local_identity
    from inference_core.settings import get_settings

    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        ses = boto3.client("sesv2", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="ic-mail-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName="ic-mail",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
                )
            },
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        settings = get_settings()
        create_tables(dynamodb, {"idempotency_table": settings.tables.idempotency_table})
        ensure_local_identity(settings, client=ses)
        # The runtime holds clients bound to this mock; tests may monkeypatch the getter itself.
        clear_runtime = mailer_handler.get_mail_runtime.cache_clear
        clear_runtime()
        try:
            yield MailerAws(sqs, ses, dynamodb, queue_url, queue_arn, dlq_url)
        finally:
            clear_runtime()


@pytest.fixture
def deliver(
    aws: MailerAws,
    mailer_handler: ModuleType,
    sqs_event: Callable[..., dict[str, Any]],
    lambda_context: Callable[..., FakeLambdaContext],
) -> Callable[[], list[dict[str, Any]]]:
    """A poller like the local stack's: receive from the mail queue, invoke the handler, delete
    what succeeded, make what failed visible again. Returns every handler response."""

    def drain(max_rounds: int = 10) -> list[dict[str, Any]]:
        responses = []
        for _ in range(max_rounds):
            received = aws.sqs.receive_message(
                QueueUrl=aws.queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            response = mailer_handler.handler(
                sqs_event(records=received, queue_arn=aws.queue_arn), lambda_context()
            )
            responses.append(response)
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            for message in received:
                if message["MessageId"] in failed:
                    aws.sqs.change_message_visibility(
                        QueueUrl=aws.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                else:
                    aws.sqs.delete_message(
                        QueueUrl=aws.queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
        return responses

    return drain
