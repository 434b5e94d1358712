"""The batch queue (SQS): sending in batches of ten, the DLQ with reasons, and retry backoff."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from inference_core.batch.messages import MESSAGE_VERSION
from inference_core.errors import ServiceUnavailableError
from inference_core.observability import get_logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS: at most 10 entries and 256 KiB of bodies (plus attributes) per SendMessageBatch.
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 240 * 1024
SEND_ATTEMPTS = 3
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class OutgoingMessage:
    entry_id: str  # unique within one send call (SQS: [A-Za-z0-9_-], up to 80 chars)
    body: str
    message_type: str


def _attributes(message_type: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    attributes = {
        "type": {"DataType": "String", "StringValue": message_type},
        "version": {"DataType": "Number", "StringValue": str(MESSAGE_VERSION)},
    }
    for name, value in (extra or {}).items():
        attributes[name] = {"DataType": "String", "StringValue": value or "-"}
    return attributes


def _unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError("The batch queue is unavailable.", code="queue_unavailable")


class BatchQueue:
    def __init__(
        self,
        queue_url: str | None,
        *,
        dlq_url: str | None = None,
        client: SQSClient | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        sleep: Callable[[float], Any] = time.sleep,
    ):
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self._client = client
        self._region = region
        self._endpoint_url = endpoint_url
        self._sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "sqs", region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._client

    def _url(self) -> str:
        if not self.queue_url:
            raise ServiceUnavailableError(
                "No batch queue is configured.", code="queue_not_configured"
            )
        return self.queue_url

    def send(self, messages: Iterable[OutgoingMessage]) -> int:
        """Send every message with SendMessageBatch (≤ 10 entries, ≤ 240 KiB a call); entries SQS
        refuses are retried, then ServiceUnavailableError. Returns the number of calls made."""
        calls = 0
        for group in _groups(list(messages)):
            calls += self._send_group(group)
        return calls

    def _send_group(self, group: list[OutgoingMessage]) -> int:
        url = self._url()
        pending = {m.entry_id: m for m in group}
        calls = 0
        for attempt in range(SEND_ATTEMPTS):
            entries = [
                {
                    "Id": m.entry_id,
                    "MessageBody": m.body,
                    "MessageAttributes": _attributes(m.message_type),
                }
                for m in pending.values()
            ]
            try:
                calls += 1
                response = self.client.send_message_batch(QueueUrl=url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                if attempt == SEND_ATTEMPTS - 1:
                    raise _unavailable() from exc
                self._sleep(0.2 * 2**attempt)
                continue
            failed = response.get("Failed") or []
            if not failed:
                return calls
            if any(f.get("SenderFault") for f in failed):
                get_logger().error(
                    "batch queue refused messages", extra={"codes": [f.get("Code") for f in failed]}
                )
                raise _unavailable()
            pending = {f["Id"]: pending[f["Id"]] for f in failed if f.get("Id") in pending}
            self._sleep(0.2 * 2**attempt)
        raise _unavailable()

    def send_one(self, message: OutgoingMessage) -> None:
        try:
            self.client.send_message(
                QueueUrl=self._url(),
                MessageBody=message.body,
                MessageAttributes=_attributes(message.message_type),
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable() from exc

    def send_later(self, body: str, message_type: str, delay_seconds: int) -> None:
        """Send `body` again as a new message, visible after `delay_seconds` (at most SQS's 900):
        a line waiting for rate-limit capacity, without using up its receives."""
        try:
            self.client.send_message(
                QueueUrl=self._url(),
                MessageBody=body,
                MessageAttributes=_attributes(message_type),
                DelaySeconds=max(0, min(int(delay_seconds), 900)),
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable() from exc

    def dead_letter(
        self, body: str, *, message_type: str, error_code: str, error_message: str
    ) -> bool:
        """Put a given-up message on the DLQ with its reason; False when no DLQ is configured
        (the caller then lets SQS's own redrive move it)."""
        if not self.dlq_url:
            return False
        attributes = _attributes(
            message_type or "unknown",
            {"error_code": error_code[:64], "error_message": error_message[:MAX_REASON_CHARS]},
        )
        try:
            self.client.send_message(
                QueueUrl=self.dlq_url, MessageBody=body, MessageAttributes=attributes
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable() from exc
        return True

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Backoff for a failed record: keep it invisible for `seconds` (best effort; the
        queue's own visibility timeout applies when this fails)."""
        if not self.queue_url:
            return
        try:
            self.client.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=max(0, min(seconds, 43_200)),
            )
        except (ClientError, BotoCoreError) as exc:
            get_logger().warning("could not set a retry delay", extra={"error": type(exc).__name__})


def _groups(messages: list[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    groups: list[list[OutgoingMessage]] = []
    current: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        weight = len(message.body.encode()) + 64
        if current and (len(current) >= MAX_BATCH_ENTRIES or size + weight > MAX_BATCH_BYTES):
            groups.append(current)
            current, size = [], 0
        current.append(message)
        size += weight
    if current:
        groups.append(current)
    return groups


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
