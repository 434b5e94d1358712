"""Fixtures for the batch suites over moto (in-process): the tables, the batch and mail queues
(with their DLQs and redrive), the files bucket, an inference service over a scripted fake
upstream, the real worker handler, a poller that drives it like the local stack's, and the API
with two users.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from moto import mock_aws

from inference_core.auth.principal import Principal
from tests.factories import FakeLambdaContext
from tests.factories import lambda_context as make_lambda_context
from tests.factories import sqs_event as make_sqs_event

from .batch_support import (
    ALICE,
    PUBLIC_DNS,
    REGION,
    FakeUpstream,
    WebhookReceiver,
    fake_dns,
    make_inference_service,
)

# ---- AWS ----


@dataclass
class BatchAws:
    dynamodb: Any
    sqs: Any
    s3: Any
    batch_queue_url: str
    batch_dlq_url: str
    mail_queue_url: str
    bucket: str

    def messages(self, queue_url: str, *, delete: bool = True) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
                VisibilityTimeout=60,
            ).get("Messages", [])
            if not got:
                if not delete:  # a peek: make them visible again (their receive count stays +1)
                    for m in found:
                        self.sqs.change_message_visibility(
                            QueueUrl=queue_url,
                            ReceiptHandle=m["ReceiptHandle"],
                            VisibilityTimeout=0,
                        )
                return found
            found.extend(got)
            if delete:
                for m in got:
                    self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    def dlq(self) -> list[dict[str, Any]]:
        return self.messages(self.batch_dlq_url)

    def mail(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.messages(self.mail_queue_url)]

    def queue_depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.batch_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


@pytest.fixture
def batch_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IC_REGION", REGION)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ic-worker")
    # SQS does the retrying: one attempt per delivery, and come back at once in tests.
    monkeypatch.setenv("IC_MAX_ATTEMPTS_PER_DEPLOYMENT", "1")
    monkeypatch.setenv("IC_BATCH_RETRY_BASE_SECONDS", "0")
    monkeypatch.setenv("IC_WEBHOOK_RETRY_BASE_SECONDS", "0")
    monkeypatch.setenv("IC_WEBHOOK_ALLOW_HOSTS", "")
    monkeypatch.setenv("IC_BATCH_EMAIL_NOTIFICATIONS", "true")


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto in-process behave like the service where the worker's threads would see a
    difference, and keep it fast enough for a thousand-line batch:

    - moto applies a request's conditions and writes without isolation from other threads; a
      real service applies each request atomically. The worker runs records on threads, so
      moto's request processing is serialized (the requests themselves still overlap);
    - moto's TransactWriteItems deep-copies every table it touches to be able to roll back, which
      makes a thousand-line job quadratic: the local AWS's item-level rollback
      (`inference_core.local.moto_transactions`, what `make dev`'s moto server runs) is used
      instead, under the lock above.
    """
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.dynamodb.models import DynamoDBBackend

    from inference_core.local import moto_transactions

    lock = threading.RLock()
    original_request = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        with lock:
            return original_request(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", process_request)
    monkeypatch.setattr(
        DynamoDBBackend, "transact_write_items", moto_transactions.transact_write_items
    )


@pytest.fixture
def aws(batch_env: None, atomic_moto: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchAws]:
    from inference_core import mailqueue
    from inference_core.api.batch_deps import reset_batch_dependencies
    from inference_core.db.tables import create_tables
    from inference_core.local.resources import create_bucket, create_queues
    from inference_core.settings import get_settings

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        urls = create_queues(sqs)
        for setting, url in urls.items():
            monkeypatch.setenv(f"IC_{setting.upper()}", url)
        get_settings.cache_clear()
        settings = get_settings()
        create_tables(dynamodb, settings.tables.model_dump())
        create_bucket(s3, settings.queues.files_bucket)
        reset_batch_dependencies()
        mailqueue._sqs_client.cache_clear()
        try:
            yield BatchAws(
                dynamodb=dynamodb,
                sqs=sqs,
                s3=s3,
                batch_queue_url=urls["batch_queue_url"],
                batch_dlq_url=urls["batch_queue_dlq_url"],
                mail_queue_url=urls["mail_queue_url"],
                bucket=settings.queues.files_bucket,
            )
        finally:
            reset_batch_dependencies()
            mailqueue._sqs_client.cache_clear()


@pytest.fixture
def upstream() -> FakeUpstream:
    return FakeUpstream()


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver()


@dataclass
class Clock:
    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(aws: BatchAws, upstream: FakeUpstream, receiver: WebhookReceiver, clock: Clock) -> Any:
    from inference_core.batch.runtime import build_batch_runtime
    from inference_core.settings import get_settings
    from inference_core.webhooks.delivery import WebhookSender

    settings = get_settings()
    service = make_inference_service(settings, upstream)
    webhooks = WebhookSender(settings, transport=receiver.transport, resolver=fake_dns(PUBLIC_DNS))
    return build_batch_runtime(
        settings, inference_factory=lambda: service, webhooks=webhooks, clock=clock
    )


# ---- the worker ----


def worker_context() -> FakeLambdaContext:
    return make_lambda_context("ic-worker", remaining_millis=300_000)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return worker_context()


@pytest.fixture(scope="session")
def worker_module() -> ModuleType:
    from inference_core.local.pollers import load_handler

    return load_handler("worker/handler.py")


@pytest.fixture
def worker(worker_module: ModuleType, runtime: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real handler module, its worker bound to this test's runtime."""
    from inference_core.batch.worker import BatchWorker

    bound = BatchWorker(runtime)
    monkeypatch.setattr(worker_module, "get_worker", lambda: bound)
    return worker_module


@pytest.fixture
def sqs_event(aws: BatchAws) -> Callable[..., dict[str, Any]]:
    """`sqs_event(messages)`: an SQS Lambda event from `receive_message` results (or raw bodies)."""
    from inference_core.local.pollers import queue_arn

    arn = queue_arn(aws.batch_queue_url, REGION)

    def make(messages: list[Any]) -> dict[str, Any]:
        return make_sqs_event(messages, queue_arn=arn)

    return make


@dataclass
class Drain:
    responses: list[dict[str, Any]] = field(default_factory=list)
    invocations: int = 0
    twins: int = 0  # records delivered twice within one invocation


@pytest.fixture
def drain(aws: BatchAws, worker: ModuleType) -> Callable[..., Drain]:
    """Run the worker over the batch queue until it is empty, the way the local stack's poller
    does (`poll_once`: receive, invoke, delete what did not fail)."""
    from inference_core.local.pollers import poll_once

    def run(
        max_rounds: int = 5000,
        duplicate: Callable[[dict[str, Any]], bool] | None = None,
        idle_seconds: float = 1.0,
    ) -> Drain:
        result = Drain()

        def handler(event: dict[str, Any], context: Any) -> Any:
            if duplicate is not None:
                extra = [r for r in event["Records"] if duplicate(r)]
                result.twins += len(extra)
                event = {"Records": event["Records"] + extra}
            response = worker.handler(event, worker_context())
            result.responses.append(response)
            return response

        idle_since: float | None = None
        for _ in range(max_rounds):
            got = poll_once(
                aws.sqs,
                aws.batch_queue_url,
                handler,
                function_name="ic-worker",
                timeout_seconds=300,
                region=REGION,
                wait_seconds=0,
            )
            if got:
                result.invocations += 1
                idle_since = None
                continue
            # moto hides a message for the millisecond it was sent in: empty is not yet done.
            if aws.queue_depth() == 0:
                break
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > idle_seconds:
                break  # what is left waits out a backoff
            time.sleep(0.01)
        return result

    return run


# ---- the API ----


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    principal: list[Principal]

    def as_user(self, principal: Principal) -> None:
        self.principal[0] = principal


@pytest.fixture
def api(runtime: Any) -> Iterator[Api]:
    from inference_core.api.app import create_app
    from inference_core.api.batch_deps import get_runtime
    from inference_core.auth.deps import get_principal

    app = create_app()
    current = [ALICE]
    app.dependency_overrides[get_principal] = lambda: current[0]
    app.dependency_overrides[get_runtime] = lambda: runtime
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(app=app, client=client, principal=current)
    app.dependency_overrides.clear()
