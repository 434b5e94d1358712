"""The local stack's queues and bucket, declared once (the CDK app declares the same shapes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inference_core.redrive import MAX_RECEIVE_COUNT

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

__all__ = ["MAX_RECEIVE_COUNT", "QUEUES", "QueueSpec", "create_bucket", "create_queues"]


@dataclass(frozen=True)
class QueueSpec:
    setting: str  # the QueueSettings field that holds its URL
    name: str
    visibility_timeout: int


QUEUES = (
    QueueSpec(setting="mail_queue_url", name="ic-mail", visibility_timeout=60),
    QueueSpec(setting="batch_queue_url", name="ic-batch", visibility_timeout=360),
)


def create_queues(sqs: SQSClient) -> dict[str, str]:
    """Create each queue with its DLQ and redrive policy; returns {setting: queue url}."""
    urls: dict[str, str] = {}
    for spec in QUEUES:
        dlq_url = sqs.create_queue(QueueName=f"{spec.name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = sqs.create_queue(
            QueueName=spec.name,
            Attributes={
                "VisibilityTimeout": str(spec.visibility_timeout),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
                ),
            },
        )["QueueUrl"]
        urls[spec.setting] = url
        urls[spec.setting.replace("_url", "_dlq_url")] = dlq_url
    return urls


def create_bucket(s3: S3Client, name: str) -> None:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if name not in existing:
        s3.create_bucket(Bucket=name)
