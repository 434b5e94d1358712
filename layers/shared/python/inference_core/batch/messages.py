"""The batch queue's messages (JSON bodies), schema version 1.

**Direct submission** (public: producers inside the AWS account send it with IAM, no HTTP; the
signed `POST /webhooks/ingest` endpoint queues the same message):

    {
      "version": 1,
      "type": "batch.submit",
      "account": {"user_id": "<user id>", "api_key_id": "<key id, optional>"},
      "batch_id": "batch_<8-64 of [A-Za-z0-9_-]>",   # optional; makes a resubmission idempotent
      "endpoint": "/v1/chat/completions",            # optional: defaults to the requests' url
      "completion_window": "24h",
      "metadata": {"team": "search"},                # optional, up to 16 string pairs
      "requests": [                                  # OpenAI batch lines, or...
        {"custom_id": "q1", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "smollm2", "messages": [{"role": "user", "content": "Hi"}]}}
      ],
      "input_s3_key": "incoming/2024-06-01/run.jsonl",  # ...a JSONL object in the files bucket
      "webhook_url": "https://hooks.example.com/batch",  # optional: completion webhook
      "notify_email": false                              # optional: email the account when done
    }

- `account` says who is charged: the user (`user_id`) and, optionally, one of their live API keys
  (`api_key_id`); the lines then run with that key's model allow-list, else the user's.
- Exactly one of `requests` and `input_s3_key` (which must start with `incoming/`).
- The job id is `batch_id` when given, else derived from the SQS message id. Results are read
  through the API (`GET /v1/batches/{id}`, `GET /v1/files/{output_file_id}/content`) with the
  account's credentials, and posted to `webhook_url` (signed, see `inference_core.webhooks`).
- A message that breaks this schema, names an unknown account, or carries invalid requests is
  moved to the batch DLQ with message attributes `error_code` and `error_message` (the reason);
  it never stops the rest of the SQS batch.

Every message also carries the SQS message attributes `type` and `version`.

**Internal messages** (written and read by Inference Core only):

- `batch.line`: one request of a job: `{"version": 1, "type": "batch.line", "batch_id", "index",
  "custom_id", "url", "body"}`; a body over `MAX_INLINE_BODY_BYTES` travels as `"body_ref":
  {"file_id", "offset", "length"}` (a byte range of the input file in S3) instead.
- `batch.expand`: `{"version": 1, "type": "batch.expand", "batch_id", "start"}`: queue the job's
  lines from `start` on (in chunks), for jobs too large to queue in one API request.
- `batch.webhook`: `{"version": 1, "type": "batch.webhook", "batch_id", "event_id",
  "event_type"}`: deliver a job's completion webhook.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from inference_core.batch.errors import InvalidBatchMessageError
from inference_core.batch.inputs import BatchRequestLine, Endpoint, describe_validation_error

MESSAGE_VERSION: Literal[1] = 1
SUPPORTED_VERSIONS = frozenset({MESSAGE_VERSION})
# A request body larger than this is read from S3 by the worker instead of riding in the message.
MAX_INLINE_BODY_BYTES = 64 * 1024
BATCH_ID_PATTERN = r"^batch_[A-Za-z0-9_-]{8,64}$"
INCOMING_PREFIX = "incoming/"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(min_length=1, max_length=128)
    api_key_id: str | None = Field(default=None, min_length=1, max_length=128)


class SubmitMessage(_Message):
    """`batch.submit`: a whole job, from a producer inside the account (or the ingest endpoint)."""

    type: Literal["batch.submit"]
    account: Account
    batch_id: str | None = Field(default=None, pattern=BATCH_ID_PATTERN)
    endpoint: Endpoint | None = None
    completion_window: Literal["24h"] = "24h"
    metadata: dict[str, str] | None = None
    requests: list[BatchRequestLine] | None = Field(default=None, min_length=1)
    input_s3_key: str | None = Field(default=None, min_length=1, max_length=1024)
    webhook_url: str | None = Field(default=None, max_length=2048)
    notify_email: bool = False

    @model_validator(mode="after")
    def _one_input(self) -> SubmitMessage:
        if (self.requests is None) == (self.input_s3_key is None):
            raise ValueError("give exactly one of 'requests' and 'input_s3_key'")
        if self.input_s3_key is not None and (
            not self.input_s3_key.startswith(INCOMING_PREFIX) or ".." in self.input_s3_key
        ):
            raise ValueError(f"'input_s3_key' must be a key under '{INCOMING_PREFIX}'")
        if self.metadata is not None and (
            len(self.metadata) > 16
            or any(len(k) > 64 or len(v) > 512 for k, v in self.metadata.items())
        ):
            raise ValueError("'metadata' takes up to 16 pairs (keys <= 64, values <= 512 chars)")
        return self


class BodyRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file_id: str
    offset: int = Field(ge=0)
    length: int = Field(ge=1)


class LineMessage(_Message):
    """`batch.line`: one request of a job."""

    type: Literal["batch.line"]
    batch_id: str
    index: int = Field(ge=0)
    custom_id: str
    url: Endpoint
    body: dict[str, Any] | None = None
    body_ref: BodyRef | None = None

    @property
    def idempotency_key(self) -> str:
        return f"line:{self.batch_id}:{self.index}"


class ExpandMessage(_Message):
    """`batch.expand`: queue a job's lines from `start` on."""

    type: Literal["batch.expand"]
    batch_id: str
    start: int = Field(ge=0)

    @property
    def idempotency_key(self) -> str:
        return f"expand:{self.batch_id}:{self.start}"


class WebhookMessage(_Message):
    """`batch.webhook`: deliver a job's completion event."""

    type: Literal["batch.webhook"]
    batch_id: str
    event_id: str
    event_type: str

    @property
    def idempotency_key(self) -> str:
        return f"webhook:{self.event_id}"


BatchMessage = Annotated[
    SubmitMessage | LineMessage | ExpandMessage | WebhookMessage, Field(discriminator="type")
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(BatchMessage)


def parse_message(
    body: str | bytes,
) -> SubmitMessage | LineMessage | ExpandMessage | WebhookMessage:
    """A validated message, or InvalidBatchMessageError (permanent: the message goes to the DLQ)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidBatchMessageError("the message body is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidBatchMessageError("the message body is not a JSON object")
    version = payload.get("version")
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise InvalidBatchMessageError(f"unsupported message version {version!r:.20}")
    try:
        message: Any = _ADAPTER.validate_python(payload)
    except ValidationError as exc:
        raise InvalidBatchMessageError(
            f"invalid {str(payload.get('type'))[:32]} message: {describe_validation_error(exc)}"
        ) from None
    return message  # type: ignore[no-any-return]


def submit_idempotency_key(batch_id: str, user_id: str) -> str:
    return f"submit:{user_id}:{batch_id}"


def batch_id_for_message(message_id: str) -> str:
    """A stable job id for a submission that did not name one (SQS keeps the id on redelivery)."""
    return "batch_" + hashlib.sha256(f"sqs:{message_id}".encode()).hexdigest()[:24]


def encode(message: BaseModel) -> str:
    return json.dumps(message.model_dump(mode="json", exclude_none=True), separators=(",", ":"))
