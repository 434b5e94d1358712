"""The batch worker's logic: one SQS record in, exactly one outcome per line out.

For each record (`BatchWorker.process`, called by the Lambda handler for every record of an
invocation, concurrently up to `batch_worker_concurrency`):

- **lines** run once per line: the line's claim rides in its admission transaction and its
  outcome and the job's counters in its settle transaction (`db.jobs.LineClaim`), so a
  redelivered message is refused before any model call or charge, and a line's charge, result and
  count are written together, once: per line that calls a model, the admission, the cache read
  and the settle are the only DynamoDB calls. The last line's write also makes its worker the
  job's one finalizer. (Submissions, expand and webhook messages keep Powertools' idempotency.)
- **transient failures** (throttling, upstream 5xx/timeouts, our own stores failing) raise, so the
  record is reported in `batchItemFailures` and SQS delivers it again after a backoff
  (`batch_retry_base_seconds * 2^(receives-1)`, set through the message's visibility).
- **permanent failures** (an invalid body, an unknown or forbidden model, a spent budget, an
  upstream that refuses the request) are the line's outcome: written to the error file with the
  reason, and the message is consumed (reported as a success);
- on the **last allowed receive** (`batch_max_receive_count`, equal to the queue's
  maxReceiveCount) a line whose upstream still fails is given up the same way: error file, consumed;
- the **DLQ** gets only what the worker cannot process at all: an unparseable message, an unknown
  batch, our own stores still failing on the last receive (nothing could be recorded), with
  `error_code`/`error_message` attributes; so a message in the DLQ (and its alarm) is a real fault.

So every line ends in exactly one of the output and error files and no model is called twice for
one line (without a DLQ URL configured, a message for the DLQ keeps failing and SQS's own redrive
moves it there).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inference_core import after_response
from inference_core.batch.bodies import batch_object
from inference_core.batch.errors import InvalidBatchMessageError
from inference_core.batch.finalizer import Finalizer
from inference_core.batch.idempotency import (
    DEFAULT_IN_PROGRESS_MILLIS,
    AlreadyInProgressError,
    AsyncIdempotency,
)
from inference_core.batch.lines import (
    CANCELLED,
    EXPIRED,
    OK,
    LineOutcome,
    is_permanent,
    line_cache_key,
    run_line,
    waits_for_capacity,
)
from inference_core.batch.messages import (
    ExpandMessage,
    LineMessage,
    SubmitMessage,
    WebhookMessage,
    batch_id_for_message,
    parse_message,
    submit_idempotency_key,
)
from inference_core.batch.service import BatchService, new_token
from inference_core.batch.storage import result_key
from inference_core.db.admission import riding
from inference_core.db.batch_models import BatchLineModel, job_pk, line_sk
from inference_core.db.cache import Prefetched, prefetched
from inference_core.db.jobs import (
    OPEN_STATES,
    LineClaim,
    LineClaimedError,
    LineCounts,
    LineDoneError,
    LineRecord,
)
from inference_core.errors import InferenceCoreError, ProviderError, ServiceUnavailableError
from inference_core.observability import get_logger

if TYPE_CHECKING:
    from inference_core.batch.runtime import BatchRuntime
    from inference_core.db.cache import Prefetched, prefetched
from inference_core.db.batch_models import BatchJobModel

# A line body larger than this goes to S3 instead of the line item (DynamoDB items: 400 KB).
MAX_ITEM_BODY_BYTES = 300 * 1024
# How long one invocation trusts a job's status it has read (cancel takes effect after this).
JOB_SNAPSHOT_SECONDS = 2.0
# Outside Lambda (local pollers, tests) a line's claim blocks its redeliveries this long.
DEFAULT_CLAIM_MILLIS = DEFAULT_IN_PROGRESS_MILLIS


class DeadlineDeferredError(ServiceUnavailableError):
    """A record left for the next invocation: too little of this one's time remained."""

    code = "deadline_deferred"


class DeadLetterPendingError(ServiceUnavailableError):
    """The message is given up but no DLQ URL is configured: fail it until SQS redrives it."""

    code = "dead_letter_pending"


@dataclass(frozen=True)
class QueueRecord:
    """What the worker needs from an SQS record (Powertools' `SQSRecord` has all of it)."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int

    @classmethod
    def from_sqs(cls, record: Any) -> QueueRecord:
        attributes = record.attributes
        count = attributes.approximate_receive_count if attributes is not None else None
        return cls(
            message_id=record.message_id,
            receipt_handle=record.receipt_handle,
            body=record.body or "",
            receive_count=int(count or 1),
        )


@dataclass
class Invocation:
    """Per-invocation state: a short-lived cache of job snapshots and the Lambda context."""

    lambda_context: Any = None
    records: list[Any] = field(default_factory=list)  # the event's records (raw SQS dicts)
    # The response cache's answers for the lines of this invocation, read in one BatchGetItem.
    cache_hits: Prefetched | None = None
    prefetch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    started_millis: int | None = field(default=None, init=False)  # what remained at the start
    jobs: dict[str, tuple[float, BatchJobModel | None]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    record_locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def record_lock(self, batch_id: str) -> asyncio.Lock:
        return self.record_locks.setdefault(batch_id, asyncio.Lock())

    def __post_init__(self) -> None:
        self.started_millis = self.remaining_millis()

    def out_of_time(self, reserve_seconds: int) -> bool:
        """Too little time left to start a record: under the reserve, or under half of what the
        invocation started with (so a function whose timeout is shorter than the reserve still
        runs its records instead of deferring them forever)."""
        remaining = self.remaining_millis()
        if remaining is None:
            return False
        reserve = reserve_seconds * 1000
        if self.started_millis is not None:
            reserve = min(reserve, self.started_millis // 2)
        return remaining < reserve

    def remaining_millis(self) -> int | None:
        context = self.lambda_context
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            return int(context.get_remaining_time_in_millis())
        return None


class BatchWorker:
    def __init__(self, runtime: BatchRuntime):
        self.runtime = runtime
        self.settings = runtime.settings
        self.service = BatchService(runtime)
        self.finalizer = Finalizer(runtime)
        self.idempotency = AsyncIdempotency(
            runtime.idempotency,
            expires_after_seconds=self.settings.batch.batch_idempotency_ttl_seconds,
        )
        self.log = get_logger()

    # ---- the entry point ----

    async def process(self, sqs_record: Any, invocation: Invocation) -> None:
        """Handle one record; raising reports it in `batchItemFailures`."""
        record = (
            QueueRecord.from_sqs(sqs_record)
            if not isinstance(sqs_record, QueueRecord)
            else sqs_record
        )
        last_try = record.receive_count >= self.settings.batch.batch_max_receive_count
        if invocation.out_of_time(self.settings.batch.batch_deadline_reserve_seconds):
            await self._defer(record, last_try)
            return
        try:
            message = parse_message(record.body)
        except InvalidBatchMessageError as exc:
            await self._dead_letter(record, "unknown", exc)
            return
        try:
            if isinstance(message, LineMessage):
                await self._line(message, record, last_try, invocation)
            elif isinstance(message, SubmitMessage):
                await self._submit(message, record, invocation)
            elif isinstance(message, ExpandMessage):
                await self._expand(message, invocation)
            else:
                await self._webhook(message, invocation)
        except DeadLetterPendingError:
            raise
        except (AlreadyInProgressError, LineClaimedError):
            # Another delivery of this very work is running: never give up on its behalf (that
            # delivery records the outcome); just come back soon and find its result.
            await asyncio.to_thread(
                self.runtime.queue.retry_later,
                record.receipt_handle,
                self.settings.batch.batch_retry_base_seconds,
            )
            raise
        except Exception as exc:
            if is_permanent(exc):
                self._log_failure(record, message.type, exc, permanent=True)
                await self._dead_letter(record, message.type, exc)
                return
            if last_try:
                self._log_failure(record, message.type, exc, permanent=True)
                await self._give_up(message, record, exc)
                return
            self._log_failure(record, message.type, exc, permanent=False)
            delay = min(
                self.settings.batch.batch_retry_max_seconds,
                self.settings.batch.batch_retry_base_seconds * 2 ** (record.receive_count - 1),
            )
            await asyncio.to_thread(self.runtime.queue.retry_later, record.receipt_handle, delay)
            raise

    async def _defer(self, record: QueueRecord, last_try: bool) -> None:
        """Too close to the invocation's deadline to start: back to the queue, not started, so
        never lost and never run twice (partial batch failure, visible again at once)."""
        if last_try:
            # One more receive would redrive it to the DLQ unread: queue it as a new message.
            try:
                message_type = str(json.loads(record.body).get("type") or "batch.line")
            except (ValueError, AttributeError):
                message_type = "batch.line"
            await asyncio.to_thread(self.runtime.queue.send_later, record.body, message_type, 0)
            return
        await asyncio.to_thread(self.runtime.queue.retry_later, record.receipt_handle, 0)
        raise DeadlineDeferredError("Not started before the invocation's deadline; requeued.")

    # ---- lines ----

    async def _job(
        self, batch_id: str, invocation: Invocation, *, fresh: bool = False
    ) -> BatchJobModel | None:
        cached = invocation.jobs.get(batch_id)
        now = time.monotonic()
        if not fresh and cached is not None and now - cached[0] < JOB_SNAPSHOT_SECONDS:
            return cached[1]
        lock = invocation.locks.setdefault(batch_id, asyncio.Lock())
        async with lock:  # concurrent records of one job read it once
            cached = invocation.jobs.get(batch_id)
            if (
                not fresh
                and cached is not None
                and time.monotonic() - cached[0] < JOB_SNAPSHOT_SECONDS
            ):
                return cached[1]
            job = await asyncio.to_thread(self.runtime.jobs.get, batch_id)
            invocation.jobs[batch_id] = (time.monotonic(), job)
            return job

    async def _line(
        self, message: LineMessage, record: QueueRecord, last_try: bool, invocation: Invocation
    ) -> None:
        job = await self._job(message.batch_id, invocation)
        if job is None:
            raise InvalidBatchMessageError(f"unknown batch {message.batch_id[:64]}")
        if job.status not in OPEN_STATES:
            # Finalizing or final: nothing to do for this line, unless its finalizer died.
            if job.status == "finalizing":
                await asyncio.to_thread(self.service.settle_if_stuck, job)
            return
        skipped = self._skipped(job)
        if skipped is not None:
            await self._record(message, skipped, invocation)
            return
        # The line's claim rides in its admission, its outcome and count in its settle (one
        # transaction each, `db.jobs.LineClaim`); an ungoverned service gets them on their own.
        governed = getattr(self.runtime.inference(), "governance", None) is not None
        millis = invocation.remaining_millis()
        claim = self.runtime.jobs.new_claim(
            message.batch_id,
            message.index,
            token=new_token(),
            until=int(self.runtime.clock() + (millis or DEFAULT_CLAIM_MILLIS) / 1000),
            retention_seconds=self.settings.batch.batch_line_retention_days * 86400,
        )
        if not governed:
            try:
                await asyncio.to_thread(self.runtime.jobs.claim, claim)
            except LineDoneError:
                await asyncio.to_thread(self.service.finish_if_ready, message.batch_id)
                return
        pending: list[after_response.Deferred] = []
        hits = await self._cache_hits(invocation)
        try:
            with riding(claim), prefetched(hits), after_response.collecting() as pending:
                outcome = await self._offload(message, await run_line(self.runtime, job, message))
        except LineDoneError:
            # A redelivery of a line that has its outcome: refused at admission, never charged.
            await asyncio.to_thread(self.service.finish_if_ready, message.batch_id)
            return
        except Exception as exc:
            if waits_for_capacity(exc):
                # Over a request or token limit: the line comes back when the window frees
                # (a new message, so waiting never uses up the line's receives).
                await self._settle_line(claim, pending, governed, invocation)  # gives it back
                retry_after = int(getattr(exc, "retry_after", 1))
                await asyncio.to_thread(
                    self.runtime.queue.send_later, record.body, message.type, retry_after
                )
                return
            if not (is_permanent(exc) or (last_try and isinstance(exc, ProviderError))):
                # Transient, or our own stores failing on the last receive (nothing can be
                # recorded: `process` gives the message to the DLQ, a real fault). The usage is
                # settled and the claim given back, so a redelivery runs the line again.
                await self._settle_line(claim, pending, governed, invocation)
                raise
            self._log_failure(record, message.type, exc, permanent=True)
            outcome = LineOutcome.failure(exc)
        line, counts = self._line_item(message, outcome)
        claim.record(line, counts, finalizer_token=new_token())
        if governed and not pending:
            # Refused before its admission (a bad body, a forbidden model, a blocked prompt):
            # nothing was claimed or charged; the outcome is written on its own.
            await self._record(message, outcome, invocation)
            return
        result = await self._settle_line(claim, pending, governed, invocation)
        if result is None:
            raise ServiceUnavailableError(
                "The line's outcome could not be written; it runs again once its claim expires.",
                code="job_store_unavailable",
            )
        await self._after_record(result, message.batch_id, claim.finalizer_token or claim.token)

    async def _settle_line(
        self,
        claim: LineClaim,
        pending: list[after_response.Deferred],
        governed: bool,
        invocation: Invocation,
    ) -> LineRecord | None:
        """Run the line's settle (deferred by the service) with the claim riding in it: the
        outcome and the job's counts if `claim.record` was called, else the claim's release.
        One job's settles go one at a time (they all update the job item)."""
        async with invocation.record_lock(claim.batch_id):
            with riding(claim):
                for work in pending:
                    await work()
            if not governed:
                return await asyncio.to_thread(self.runtime.jobs.settle_claim, claim)
        return claim.result

    async def _cache_hits(self, invocation: Invocation) -> Prefetched:
        """The response cache's answers for every line of the invocation, read once (one
        BatchGetItem per 100 lines instead of a GetItem per line)."""
        if not self.settings.inference.cache_enabled:
            return {}
        async with invocation.prefetch_lock:
            if invocation.cache_hits is None:
                service = self.runtime.inference()
                keys: set[str] = set()
                for raw in invocation.records:
                    try:
                        message = parse_message(str(raw.get("body") or ""))
                    except InvalidBatchMessageError:
                        continue
                    if not isinstance(message, LineMessage):
                        continue
                    try:
                        job = await self._job(message.batch_id, invocation)
                    except InferenceCoreError:
                        continue  # its own line finds out (and retries)
                    if job is None or job.status not in ("validating", "in_progress"):
                        continue
                    key = line_cache_key(service, job, message)
                    if key is not None:
                        keys.add(key)
                invocation.cache_hits = await asyncio.to_thread(service.cache.get_many, keys)
        return invocation.cache_hits

    def _skipped(self, job: BatchJobModel) -> LineOutcome | None:
        if job.status == "cancelling":
            return LineOutcome.skipped(CANCELLED)
        if self.runtime.clock() > job.deadline_at:
            return LineOutcome.skipped(EXPIRED)
        return None

    async def _offload(self, message: LineMessage, outcome: LineOutcome) -> LineOutcome:
        """Move a body too large for a DynamoDB item (the line) to S3."""
        if outcome.body is None:
            return outcome
        encoded = json.dumps(outcome.body, separators=(",", ":")).encode()
        if len(encoded) <= MAX_ITEM_BODY_BYTES:
            return outcome
        key = result_key(message.batch_id, message.index)
        await asyncio.to_thread(
            self.runtime.store.put, key, encoded, content_type="application/json"
        )
        outcome.body = None
        outcome.body_s3_key = key
        return outcome

    def _line_item(
        self, message: LineMessage, outcome: LineOutcome
    ) -> tuple[BatchLineModel, LineCounts]:
        now = int(self.runtime.clock())
        line = BatchLineModel(
            job_pk(message.batch_id),
            line_sk(message.index),
            index=message.index,
            custom_id=message.custom_id,
            outcome=outcome.kind,
            status_code=outcome.status_code,
            request_id=outcome.request_id,
            body=outcome.body,
            body_s3_key=outcome.body_s3_key,
            error=outcome.error,
            completed_at=now,
            expires_at=now + self.settings.batch.batch_line_retention_days * 86400,
        )
        counts = LineCounts(
            completed=1 if outcome.kind == OK else 0,
            failed=1 if outcome.kind == "error" else 0,
            cancelled=1 if outcome.kind == CANCELLED else 0,
            expired=1 if outcome.kind == EXPIRED else 0,
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
        )
        return line, counts

    async def _record(self, message: LineMessage, outcome: LineOutcome, invocation: Any) -> None:
        """Write the outcome of a line that called no model (one transaction)."""
        line, counts = self._line_item(message, outcome)
        token = new_token()
        result = await asyncio.to_thread(
            self.runtime.jobs.record_line, message.batch_id, line, counts, token=token
        )
        await self._after_record(result, message.batch_id, token)

    async def _after_record(self, result: LineRecord, batch_id: str, token: str) -> None:
        if result is LineRecord.RECORDED_AND_CLAIMED:
            await asyncio.to_thread(self.finalizer.run, batch_id, token)
        elif result is LineRecord.DUPLICATE:
            # A redelivery: the line was counted before. Finish what that delivery may not have.
            await asyncio.to_thread(self.service.finish_if_ready, batch_id)

    # ---- the other messages ----

    async def _submit(
        self, message: SubmitMessage, record: QueueRecord, invocation: Invocation
    ) -> None:
        batch_id = message.batch_id or batch_id_for_message(record.message_id)
        key = submit_idempotency_key(batch_id, message.account.user_id)
        if (
            await self.idempotency.begin(key, remaining_millis=invocation.remaining_millis())
            is not None
        ):
            return
        try:
            await asyncio.to_thread(self.service.submit, message, batch_id=batch_id)
        except Exception as exc:
            await self.idempotency.abandon(key, exc)
            raise
        await self.idempotency.finish(key, {"batch_id": batch_id})

    async def _expand(self, message: ExpandMessage, invocation: Invocation) -> None:
        key = message.idempotency_key
        if (
            await self.idempotency.begin(key, remaining_millis=invocation.remaining_millis())
            is not None
        ):
            return
        try:
            await asyncio.to_thread(self.service.expand, message)
        except Exception as exc:
            await self.idempotency.abandon(key, exc)
            raise
        await self.idempotency.finish(key, {"start": message.start})

    async def _webhook(self, message: WebhookMessage, invocation: Invocation) -> None:
        from inference_core.webhooks.signing import secret_bytes, user_webhook_secret

        job = await asyncio.to_thread(self.runtime.jobs.get, message.batch_id)
        if job is None or not job.webhook_url:
            return
        key = message.idempotency_key
        if (
            await self.idempotency.begin(key, remaining_millis=invocation.remaining_millis())
            is not None
        ):
            return
        try:
            event = {
                "id": message.event_id,
                "object": "event",
                "type": message.event_type,
                "created_at": int(
                    job.completed_at or job.cancelled_at or job.expired_at or job.failed_at or 0
                ),
                "data": batch_object(job),
            }
            body = json.dumps(event, separators=(",", ":")).encode()
            signing_key = secret_bytes(user_webhook_secret(self.settings, job.owner_id))
            status = await self.runtime.webhooks.send(
                job.webhook_url, key=signing_key, webhook_id=message.event_id, body=body
            )
        except Exception as exc:
            await self.idempotency.abandon(key, exc)
            raise
        await self.idempotency.finish(key, {"status": status})

    # ---- giving up ----

    async def _give_up(self, message: Any, record: QueueRecord, exc: Exception) -> None:
        """The last allowed receive failed: record what can be recorded, then the DLQ."""
        if isinstance(message, SubmitMessage):
            batch_id = message.batch_id or batch_id_for_message(record.message_id)
            error = _error_dict(exc)
            failed = await asyncio.to_thread(
                self.runtime.jobs.mark_failed, batch_id, [{**error, "param": None, "line": None}]
            )
            if failed is not None:
                await asyncio.to_thread(self.finalizer.notify, failed)
        await self._dead_letter(record, getattr(message, "type", "unknown"), exc)

    async def _dead_letter(self, record: QueueRecord, message_type: str, exc: Exception) -> None:
        error = _error_dict(exc)
        moved = await asyncio.to_thread(
            self.runtime.queue.dead_letter,
            record.body,
            message_type=message_type,
            error_code=error["code"],
            error_message=error["message"],
        )
        if not moved:
            raise DeadLetterPendingError(
                "No batch DLQ is configured; leaving it to SQS's redrive."
            ) from exc

    def _log_failure(
        self, record: QueueRecord, message_type: str, exc: Exception, *, permanent: bool
    ) -> None:
        error = _error_dict(exc)
        self.log.warning(
            "batch message failed" if not permanent else "batch message given up",
            extra={
                "message_id": record.message_id,
                "message_type": message_type,
                "receive_count": record.receive_count,
                "error_code": error["code"],
                "error": error["message"],
                "permanent": permanent,
            },
        )


def _error_dict(exc: Exception) -> dict[str, str]:
    if isinstance(exc, InferenceCoreError):
        return {"code": exc.code, "message": exc.message}
    return {"code": "internal_error", "message": f"unexpected {type(exc).__name__}"}
