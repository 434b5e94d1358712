"""The local stack's SQS pollers over moto: real SQS Lambda events, only succeeded messages
deleted, failed ones redelivered and redriven to the DLQ, and a prompt stop."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from inference_core.local import pollers

from .batch_support import REGION

STUB_HANDLER = """
import json
SEEN = []

def handler(event, context):
    failures = []
    for record in event["Records"]:
        SEEN.append(record)
        if json.loads(record["body"]).get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
"""


def test_an_event_record_has_the_shape_lambda_gives_and_powertools_reads(aws):
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    aws.sqs.send_message(
        QueueUrl=aws.batch_queue_url,
        MessageBody='{"a": 1}',
        MessageAttributes={"type": {"DataType": "String", "StringValue": "batch.line"}},
    )
    [message] = aws.sqs.receive_message(
        QueueUrl=aws.batch_queue_url, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    arn = pollers.queue_arn(aws.batch_queue_url, REGION)
    record = pollers.sqs_lambda_record(message, arn=arn, region=REGION)

    assert arn == "arn:aws:sqs:us-east-1:123456789012:ic-batch"
    assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == REGION
    parsed = SQSRecord(record)
    assert parsed.message_id == message["MessageId"]
    assert parsed.receipt_handle == message["ReceiptHandle"]
    assert parsed.json_body == {"a": 1}
    assert parsed.attributes.approximate_receive_count == "1"
    assert parsed.message_attributes["type"].string_value == "batch.line"
    assert parsed.event_source_arn == arn


def test_only_messages_not_reported_as_failed_are_deleted_and_failures_end_in_the_dlq(
    aws, monkeypatch
):
    from inference_core.redrive import MAX_RECEIVE_COUNT

    for body in ({"n": 1}, {"n": 2, "fail": True}, {"n": 3}):
        aws.sqs.send_message(QueueUrl=aws.batch_queue_url, MessageBody=json.dumps(body))
    seen: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert context.get_remaining_time_in_millis() > 0
        failures = []
        for record in event["Records"]:
            body = json.loads(record["body"])
            seen.append(body["n"])
            if body.get("fail"):
                failures.append({"itemIdentifier": record["messageId"]})
                # What the worker does for a retry: come back now, not after the visibility.
                aws.sqs.change_message_visibility(
                    QueueUrl=aws.batch_queue_url,
                    ReceiptHandle=record["receiptHandle"],
                    VisibilityTimeout=0,
                )
        return {"batchItemFailures": failures}

    for _ in range(MAX_RECEIVE_COUNT + 3):
        pollers.poll_once(
            aws.sqs,
            aws.batch_queue_url,
            handler,
            function_name="t",
            timeout_seconds=60,
            region=REGION,
            wait_seconds=0,
        )
        time.sleep(0.01)

    assert sorted(set(seen)) == [1, 2, 3]
    assert seen.count(1) == 1 and seen.count(3) == 1
    assert seen.count(2) == MAX_RECEIVE_COUNT  # then SQS's redrive moved it
    assert aws.queue_depth() == 0
    [dead] = aws.dlq()
    assert json.loads(dead["Body"]) == {"n": 2, "fail": True}


def test_a_handler_that_raises_leaves_its_messages_to_come_back(aws):
    aws.sqs.send_message(QueueUrl=aws.batch_queue_url, MessageBody="{}")

    def broken(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom")

    got = pollers.poll_once(
        aws.sqs,
        aws.batch_queue_url,
        broken,
        function_name="t",
        timeout_seconds=60,
        region=REGION,
        wait_seconds=0,
    )
    assert got == 1
    assert aws.queue_depth() == 1  # in flight, not deleted


def test_pollers_run_the_handlers_and_stop_promptly(aws, tmp_path: Path, monkeypatch):
    for name in ("worker", "mailer"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "handler.py").write_text(STUB_HANDLER)
    monkeypatch.setenv("IC_FUNCTIONS_DIR", str(tmp_path))
    for module in [m for m in list(sys.modules) if m.startswith("local_lambda_")]:
        monkeypatch.delitem(sys.modules, module)  # load the stubs, not the real handlers
    monkeypatch.setattr(pollers, "WAIT_SECONDS", 0)
    aws.sqs.send_message(QueueUrl=aws.batch_queue_url, MessageBody='{"to": "worker"}')
    aws.sqs.send_message(QueueUrl=aws.mail_queue_url, MessageBody='{"to": "mailer"}')
    stop = threading.Event()

    threads = pollers.start_pollers(stop)

    assert sorted(t.name for t in threads) == ["batch-poller", "mail-poller"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (aws.queue_depth() or _depth(aws, aws.mail_queue_url)):
        time.sleep(0.05)
    stopped_at = time.monotonic()
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in threads)
    assert time.monotonic() - stopped_at < 3
    worker = pollers.load_handler("worker/handler.py")
    mailer = pollers.load_handler("mailer/handler.py")
    assert [json.loads(r["body"]) for r in worker.SEEN] == [{"to": "worker"}]
    assert [json.loads(r["body"]) for r in mailer.SEEN] == [{"to": "mailer"}]
    assert aws.queue_depth() == 0 and _depth(aws, aws.mail_queue_url) == 0


def _depth(aws: Any, url: str) -> int:
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )
