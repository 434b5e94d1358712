"""What reaches the batch DLQ, with the local stack's real SQS poller and the real worker handler
against moto's server over HTTP, governance on: a line that fails for good (refused upstream, an
unknown model) is answered in the error file and its message consumed; only messages the worker
cannot process at all (unparseable, for an unknown batch, its stores failing on every receive)
end in the DLQ, with their reason. So the DLQ alarm means a real fault."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.factories import lambda_context, serialized_moto_server

from .batch_support import ALICE, REGION, FakeUpstream, chat_line, jsonl, make_inference_service


@dataclass
class Stack:
    sqs: Any
    urls: dict[str, str]
    runtime: Any
    upstream: FakeUpstream
    worker: ModuleType

    def depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def dead_letters(self) -> list[dict[str, Any]]:
        url = self.urls["batch_queue_dlq_url"]
        found: list[dict[str, Any]] = []
        while got := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            found += got
            for message in got:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def send(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.urls["batch_queue_url"], MessageBody=body)

    def drain(self, *, rounds: int = 200) -> None:
        """The local stack's poller, until the batch queue is empty."""
        from inference_core.local.pollers import poll_once

        def handler(event: dict[str, Any], context: Any) -> Any:
            return self.worker.handler(event, lambda_context("ic-worker", remaining_millis=300_000))

        for _ in range(rounds):
            got = poll_once(
                self.sqs,
                self.urls["batch_queue_url"],
                handler,
                function_name="ic-worker",
                timeout_seconds=300,
                region=REGION,
                wait_seconds=0,
                batch_size=100,
            )
            if not got and self.depth(self.urls["batch_queue_url"]) == 0:
                return
            if not got:
                time.sleep(0.05)
        raise AssertionError("the batch queue did not drain")

    def create_job(self, lines: list[dict[str, Any]]) -> Any:
        from inference_core.batch.files import FileService
        from inference_core.batch.service import BatchService

        file = FileService(self.runtime).upload(
            ALICE.user_id, filename="in.jsonl", data=jsonl(lines), purpose="batch"
        )
        return BatchService(self.runtime).create(
            ALICE, input_file_id=file.file_id, endpoint="/v1/chat/completions"
        )

    def lines(self, file_id: str | None) -> list[dict[str, Any]]:
        if file_id is None:
            return []
        from inference_core.batch.storage import file_key

        data = self.runtime.store.get(file_key(file_id))
        return [json.loads(line) for line in data.splitlines() if line.strip()]


@pytest.fixture
def stack(
    batch_env: None, worker_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stack]:
    from inference_core import mailqueue
    from inference_core.batch.runtime import build_batch_runtime
    from inference_core.batch.worker import BatchWorker
    from inference_core.db.models import ApiKeyModel, UserModel, configure_models
    from inference_core.db.tables import create_tables
    from inference_core.governance import Governance
    from inference_core.local.resources import create_bucket, create_queues
    from inference_core.settings import get_settings

    server, endpoint = serialized_moto_server()
    for name, value in {
        "IC_AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "IC_LOCAL_MODE": "true",
    }.items():
        monkeypatch.setenv(name, value)
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint)
    urls = create_queues(sqs)
    for setting, url in urls.items():
        monkeypatch.setenv(f"IC_{setting.upper()}", url)
    get_settings.cache_clear()
    mailqueue._sqs_client.cache_clear()
    settings = get_settings()
    try:
        create_tables(
            boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint),
            settings.tables.model_dump(),
        )
        create_bucket(
            boto3.client("s3", region_name=REGION, endpoint_url=endpoint),
            settings.queues.files_bucket,
        )
        configure_models(settings)
        UserModel(
            "user-alice", email="alice@example.com", password_hash="x", created_at=1, updated_at=1
        ).save()
        ApiKeyModel(
            "hash-alice", key_id="key-alice", owner_id="user-alice", prefix="sk-ic-a", created_at=1
        ).save()
        upstream = FakeUpstream()
        service = make_inference_service(settings, upstream)
        service.governance = Governance(settings=settings)
        runtime = build_batch_runtime(settings, inference_factory=lambda: service)
        bound = BatchWorker(runtime)
        monkeypatch.setattr(worker_module, "get_worker", lambda: bound)
        yield Stack(sqs=sqs, urls=urls, runtime=runtime, upstream=upstream, worker=worker_module)
    finally:
        server.stop()
        get_settings.cache_clear()
        mailqueue._sqs_client.cache_clear()


def test_lines_that_fail_for_good_are_answered_and_only_unprocessable_messages_reach_the_dlq(
    stack: Stack,
) -> None:
    job = stack.create_job(
        [
            chat_line("ok", "fine"),
            chat_line("refused", "PERMANENT please"),
            chat_line("unknown-model", "hi", model="no-such-model"),
            chat_line("ok2", "also fine"),
        ]
    )
    stack.send("not json")
    stack.send(
        json.dumps(
            {
                "version": 1,
                "type": "batch.line",
                "batch_id": "batch_gone",
                "index": 0,
                "custom_id": "x",
                "url": "/v1/chat/completions",
                "body": chat_line("x", "hi")["body"],
            }
        )
    )

    stack.drain()

    done = stack.runtime.jobs.get(job.batch_id)
    assert done.status == "completed"
    assert (done.completed, done.failed) == (2, 2)
    errors = {line["custom_id"]: line["error"]["code"] for line in stack.lines(done.error_file_id)}
    assert errors == {"refused": "upstream_request_rejected", "unknown-model": "model_not_found"}
    assert sorted(line["custom_id"] for line in stack.lines(done.output_file_id)) == ["ok", "ok2"]
    assert stack.upstream.total_calls == 3  # the refused line once, the unknown model never
    dead = stack.dead_letters()
    reasons = sorted(m["MessageAttributes"]["error_message"]["StringValue"] for m in dead)
    assert len(reasons) == 2, reasons
    assert any("not JSON" in r for r in reasons) and any("unknown batch" in r for r in reasons)
    assert stack.depth(stack.urls["batch_queue_url"]) == 0


def test_a_line_whose_store_keeps_failing_ends_in_the_dlq_after_its_receives(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError

    from inference_core.db.batch_models import BatchJobModel
    from inference_core.db.models import dynamodb_client
    from inference_core.redrive import MAX_RECEIVE_COUNT

    job = stack.create_job([chat_line("a", "one")])
    jobs_table = str(BatchJobModel.Meta.table_name)
    reads = {"failed": 0}

    def jobs_table_down(**kwargs: Any) -> None:
        if kwargs["params"].get("TableName") == jobs_table:
            reads["failed"] += 1
            raise EndpointConnectionError(endpoint_url="http://dynamodb.down")

    events = dynamodb_client(BatchJobModel).meta.events
    events.register("before-parameter-build.dynamodb.GetItem", jobs_table_down)
    try:
        stack.drain()
    finally:
        events.unregister("before-parameter-build.dynamodb.GetItem", jobs_table_down)

    [dead] = stack.dead_letters()
    assert json.loads(dead["Body"])["custom_id"] == "a"
    assert dead["MessageAttributes"]["error_code"]["StringValue"] == "job_store_unavailable"
    assert reads["failed"] >= MAX_RECEIVE_COUNT  # it was retried on every receive first
    assert stack.upstream.total_calls == 0
    assert stack.runtime.jobs.get(job.batch_id).completed == 0  # nothing was recorded
    assert stack.depth(stack.urls["batch_queue_url"]) == 0
