"""PynamoDB models of batch jobs, their lines, and uploaded files (bodies live in S3).

The jobs table holds a job and its lines under one partition key (`batch#<id>`):

- the job item (`sk = "job"`) carries the lifecycle, the counters (`remaining`, `completed`,
  `failed`, tokens) that each finished line updates in the same transaction as it writes its line,
  the creator's principal (lines are charged to it), and `finalizer_token`, set by the one
  conditional update that makes a worker the finalizer;
- a line item (`sk = "line#<index>"`) is first a claim (`claim_token`, `claim_until`, no
  `outcome`: the delivery running it, taken in the line's admission transaction) and then its
  outcome, written only while it has none, so a line is completed exactly once whatever SQS
  redelivers (`db.jobs.LineClaim`).

Only job items carry `owner_id` and `list_key`, so the `owner-index` GSI lists a user's batches
and nothing else (`list_key` = zero-padded creation time in ms + id: newest first, `after`-able).
The files table has one item per file, with the same kind of owner index.

Importing this module registers both tables (`register_model`), like `db.idempotency`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from inference_core.db.models import _Meta, configure_models, register_model

if TYPE_CHECKING:
    from inference_core.settings import Settings

JOB_SK = "job"


def job_pk(batch_id: str) -> str:
    return f"batch#{batch_id}"


def line_sk(index: int) -> str:
    return f"line#{index:07d}"


def list_key(created_ms: int, object_id: str) -> str:
    return f"{created_ms:015d}#{object_id}"


class _BatchTableMeta(_Meta):
    table_name = "ic-jobs"
    # A worker records up to `batch_worker_concurrency` lines at once, from threads.
    max_pool_connections = 32


class BatchesByOwnerIndex(GlobalSecondaryIndex["BatchJobModel"]):
    class Meta:
        index_name = "owner-index"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    list_key = UnicodeAttribute(range_key=True)


class BatchJobModel(Model):
    """A batch job: lifecycle, counters, the creator's principal, and where results went."""

    Meta = _BatchTableMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)  # batch#<id>
    sk = UnicodeAttribute(range_key=True)  # "job"
    batch_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    list_key = UnicodeAttribute()
    owner_index = BatchesByOwnerIndex()
    source = UnicodeAttribute(default="api")  # api | inline | sqs | ingest
    # validating | in_progress | finalizing | completed | failed | expired | cancelling | cancelled
    status = UnicodeAttribute()
    endpoint = UnicodeAttribute()
    input_file_id = UnicodeAttribute()
    completion_window = UnicodeAttribute(default="24h")
    metadata = JSONAttribute(null=True)
    model = UnicodeAttribute(null=True)
    errors = JSONAttribute(null=True)  # [{"code", "message", "param", "line"}]
    created_at = NumberAttribute()
    deadline_at = NumberAttribute()  # OpenAI's `expires_at`: the end of the completion window
    in_progress_at = NumberAttribute(null=True)
    finalizing_at = NumberAttribute(null=True)
    completed_at = NumberAttribute(null=True)
    failed_at = NumberAttribute(null=True)
    expired_at = NumberAttribute(null=True)
    cancelling_at = NumberAttribute(null=True)
    cancelled_at = NumberAttribute(null=True)
    # Counters: every line outcome decrements `remaining` in the same transaction as its line.
    total = NumberAttribute(default=0)
    remaining = NumberAttribute(default=0)
    completed = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    cancelled_lines = NumberAttribute(default=0)
    expired_lines = NumberAttribute(default=0)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    enqueued = NumberAttribute(default=0)  # lines put on the queue so far
    output_file_id = UnicodeAttribute(null=True)
    error_file_id = UnicodeAttribute(null=True)
    finalizer_token = UnicodeAttribute(null=True)
    # Who created it: lines run as (and are charged to) this principal.
    key_id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(default="user")
    allowed_models = ListAttribute(of=UnicodeAttribute, null=True)
    rpm_limit = NumberAttribute(default=0)
    email = UnicodeAttribute(null=True)
    notify_email = BooleanAttribute(default=False)
    webhook_url = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL (epoch seconds): when the record is purged


class BatchLineModel(Model):
    """One finished line of a job (same table and partition as its job; never registered)."""

    # The very same Meta object: bound together with the job model.
    Meta = _BatchTableMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)  # batch#<id>
    sk = UnicodeAttribute(range_key=True)  # line#<index>
    index = NumberAttribute()
    custom_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()  # ok | error | cancelled | expired
    status_code = NumberAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    body = JSONAttribute(null=True)  # the response body (or the error response's body)
    body_s3_key = UnicodeAttribute(null=True)  # a body too large for an item lives in S3
    error = JSONAttribute(null=True)  # {"code", "message"}
    completed_at = NumberAttribute()
    expires_at = NumberAttribute(null=True)  # TTL


class FilesByOwnerIndex(GlobalSecondaryIndex["FileModel"]):
    class Meta:
        index_name = "owner-index"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    list_key = UnicodeAttribute(range_key=True)


class FileModel(Model):
    """An uploaded (or generated) file's metadata; the body is the S3 object `s3_key`."""

    class Meta(_Meta):
        table_name = "ic-files"

    file_id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    list_key = UnicodeAttribute()
    owner_index = FilesByOwnerIndex()
    purpose = UnicodeAttribute()  # batch | batch_output
    filename = UnicodeAttribute()
    bytes = NumberAttribute()
    created_at = NumberAttribute()
    status = UnicodeAttribute(default="processed")
    s3_key = UnicodeAttribute()
    line_count = NumberAttribute(default=0)
    endpoint = UnicodeAttribute(null=True)  # the one `url` every line of a batch input uses
    batch_id = UnicodeAttribute(null=True)  # for outputs: the batch that wrote it
    expires_at = NumberAttribute(null=True)  # TTL, and checked in code


register_model(BatchJobModel, table_setting="jobs_table", ttl_attribute="expires_at")
register_model(FileModel, table_setting="files_table", ttl_attribute="expires_at")


def bind_batch_models(settings: Settings) -> None:
    """`configure_models` for every table, plus the line model (which shares the job table)."""
    configure_models(settings)
    line_model: Any = BatchLineModel
    line_model._connection = None
