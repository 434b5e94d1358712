"""The local stack's SQS pollers: what Lambda's event source mapping does on AWS, on threads.

One poller per queue (batch → `functions/worker/handler.py`, mail → `functions/mailer/handler.py`,
loaded by file path since `functions/` is not a package). Each long-polls its queue, turns what it
receives into a real SQS Lambda event (message id, receipt handle, body, attributes with
`ApproximateReceiveCount`, message attributes, `eventSource`, `eventSourceARN`, `awsRegion`),
calls the handler with a small Lambda context, and deletes only the messages the handler did NOT
list in `batchItemFailures`. Failed ones come back after their visibility timeout, and the queue's
redrive policy moves them to the DLQ after `maxReceiveCount` receives (moto applies it), exactly as
on AWS. A poller logs and carries on after any error, and stops within a second or two of `stop`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger("inference_core.local.pollers")

# Short long-polls, so a poller notices `stop` quickly.
WAIT_SECONDS = 1
MAX_MESSAGES = 10
ERROR_PAUSE_SECONDS = 2.0


@dataclass(frozen=True)
class PollerSpec:
    name: str  # the thread's name
    queue_setting: str  # the IC_ environment variable holding the queue URL
    handler_path: str  # relative to the `functions/` folder
    timeout_seconds: int  # the Lambda context's time budget per invocation
    batch_size: int = MAX_MESSAGES  # records per invocation (the event source's BatchSize)


POLLERS = (
    # As the CDK app's worker event source (`worker_batch_size`): up to 100 records at a time.
    PollerSpec("batch-poller", "IC_BATCH_QUEUE_URL", "worker/handler.py", 300, batch_size=100),
    PollerSpec("mail-poller", "IC_MAIL_QUEUE_URL", "mailer/handler.py", 60),
)


@dataclass
class LocalLambdaContext:
    """The parts of Lambda's context object that Powertools and the handlers read."""

    function_name: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


def functions_dir() -> Path:
    """`functions/` of the source tree (override with IC_FUNCTIONS_DIR)."""
    override = os.environ.get("IC_FUNCTIONS_DIR")
    if override:
        return Path(override)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "functions"
        if (candidate / "worker" / "handler.py").exists():
            return candidate
    return Path.cwd() / "functions"


def load_handler(relative_path: str) -> ModuleType:
    """A Lambda handler module, by file path (each gets its own module name)."""
    path = functions_dir() / relative_path
    name = "local_lambda_" + relative_path.replace("/", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the handler at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def queue_arn(queue_url: str, region: str) -> str:
    """`arn:aws:sqs:<region>:<account>:<name>` from a queue URL (`.../<account>/<name>`)."""
    parts = queue_url.rstrip("/").split("/")
    account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else "000000000000"
    return f"arn:aws:sqs:{region}:{account}:{parts[-1]}"


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
        "dataType": value.get("DataType", "String"),
    }


def sqs_lambda_record(message: Mapping[str, Any], *, arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS Lambda event, from a ReceiveMessage result."""
    body = message.get("Body", "")
    attributes = message.get("Attributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", "LOCAL"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
            ),
        },
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def failed_message_ids(response: Any) -> set[str] | None:
    """The ids in `batchItemFailures`; None when the answer is not a partial-batch response
    (then every message is left to come back)."""
    if not isinstance(response, dict) or not isinstance(response.get("batchItemFailures"), list):
        return None
    return {
        str(item.get("itemIdentifier"))
        for item in response["batchItemFailures"]
        if isinstance(item, dict)
    }


def poll_once(
    sqs: SQSClient,
    queue_url: str,
    handler: Callable[[dict[str, Any], Any], Any],
    *,
    function_name: str,
    timeout_seconds: int,
    region: str,
    wait_seconds: int = WAIT_SECONDS,
    batch_size: int = MAX_MESSAGES,
) -> int:
    """Receive up to `batch_size` messages (ten per receive, as Lambda's event source gathers a
    larger batch), run the handler on them, delete the ones that succeeded. Returns how many
    messages were received."""
    messages: list[Any] = []
    while len(messages) < batch_size:
        received = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(MAX_MESSAGES, batch_size - len(messages)),
            WaitTimeSeconds=wait_seconds if not messages else 0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        got = received.get("Messages") or []
        messages += got
        if len(got) < MAX_MESSAGES:
            break  # the queue has no more right now: run what there is
    if not messages:
        return 0
    arn = queue_arn(queue_url, region)
    event = {"Records": [sqs_lambda_record(m, arn=arn, region=region) for m in messages]}
    context = LocalLambdaContext(function_name=function_name, timeout_seconds=timeout_seconds)
    try:
        response = handler(event, context)
    except Exception:
        logger.exception("the %s handler raised; its messages will be redelivered", function_name)
        return len(messages)
    failed = failed_message_ids(response)
    if failed is None:
        logger.warning(
            "the %s handler returned no batchItemFailures; nothing deleted", function_name
        )
        return len(messages)
    done = [m for m in messages if m["MessageId"] not in failed]
    for start in range(0, len(done), MAX_MESSAGES):
        chunk = done[start : start + MAX_MESSAGES]
        result = sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
            ],
        )
        if result.get("Failed"):
            logger.warning("%d messages could not be deleted", len(result["Failed"]))
    return len(messages)


def run_poller(spec: PollerSpec, stop: threading.Event, *, sqs: SQSClient | None = None) -> None:
    """Poll one queue until `stop` is set (the thread's target)."""
    queue_url = os.environ.get(spec.queue_setting)
    if not queue_url:
        logger.warning("%s: %s is not set; not polling", spec.name, spec.queue_setting)
        return
    region = os.environ.get("IC_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    handler: Callable[[dict[str, Any], Any], Any] | None = None
    while not stop.is_set():
        try:
            if sqs is None:
                import boto3
                from botocore.config import Config

                sqs = boto3.client(
                    "sqs",
                    region_name=region,
                    endpoint_url=os.environ.get("IC_AWS_ENDPOINT_URL"),
                    config=Config(read_timeout=WAIT_SECONDS + 10, retries={"max_attempts": 2}),
                )
            if handler is None:
                handler = load_handler(spec.handler_path).handler
            poll_once(
                sqs,
                queue_url,
                handler,
                function_name=spec.name.removesuffix("-poller"),
                timeout_seconds=spec.timeout_seconds,
                region=region,
                batch_size=spec.batch_size,
            )
        except Exception:
            if stop.is_set():
                return  # the stack is shutting down (the embedded AWS may already be gone)
            logger.exception("%s: polling failed; retrying", spec.name)
            stop.wait(ERROR_PAUSE_SECONDS)


def start_pollers(stop: threading.Event) -> list[threading.Thread]:
    """One daemon thread per queue whose URL is in the environment."""
    threads = []
    for spec in POLLERS:
        if not os.environ.get(spec.queue_setting):
            continue
        thread = threading.Thread(target=run_poller, args=(spec, stop), name=spec.name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads
