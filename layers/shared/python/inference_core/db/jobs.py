"""Batch jobs and their lines in DynamoDB: the only module that writes them.

The guarantees the batch service builds on, each one conditional write:

- `create`: a job id is taken once (`attribute_not_exists`), so a redelivered submission cannot
  make a second job;
- `record_line`: ONE transaction puts the line (only if it has no outcome yet) and updates the
  job's counters (only while the job still takes lines). A line is therefore counted exactly once,
  and the transaction that brings `remaining` from 1 to 0 also moves the job to `finalizing` and
  stamps it with the caller's `finalizer_token`: exactly one finalizer, chosen by DynamoDB;
- `claim_finalizer`: the same claim for the other ways a job ends (lines skipped in bulk, a
  deadline or a cancel that waited too long, a finalizer presumed dead);
- `complete`: the finalizer's last write, conditional on still holding the claim.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from inference_core.db.availability import StoreGuard
from inference_core.db.batch_models import (
    JOB_SK,
    BatchJobModel,
    BatchLineModel,
    job_pk,
    line_sk,
)
from inference_core.errors import ConflictError, ServiceUnavailableError

# A job takes line outcomes in these states; `finalizing` and the final states do not.
OPEN_STATES = ("validating", "in_progress", "cancelling")
FINAL_STATES = ("completed", "failed", "expired", "cancelled")
# Concurrent transactions on one job item conflict now and then: retried this many times.
TRANSACTION_ATTEMPTS = 6

# One process records a job's lines one at a time: its concurrent records would only conflict
# (DynamoDB cancels overlapping transactions on an item), and an emulator without transaction
# isolation (moto's server, for the local stack) stays correct. Across processes DynamoDB
# serializes them.
_record_locks: dict[str, threading.Lock] = {}
_record_locks_guard = threading.Lock()


def _record_lock(batch_id: str) -> threading.Lock:
    with _record_locks_guard:
        if len(_record_locks) > 1024:
            _record_locks.clear()
        return _record_locks.setdefault(batch_id, threading.Lock())


class LineRecord(Enum):
    RECORDED = "recorded"
    RECORDED_AND_CLAIMED = "claimed"  # this line was the last: the caller is the finalizer
    DUPLICATE = "duplicate"  # the line already had an outcome
    JOB_CLOSED = "closed"  # the job no longer takes lines (finalizing or final)


@dataclass(frozen=True)
class LineCounts:
    """What one line adds to its job's counters."""

    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    expired: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


_JOB_STORE = StoreGuard("The batch job store is unavailable.", code="job_store_unavailable")
# A failed condition is an answer here (the id is taken, the job moved on, already claimed).
_JOB_STORE_IF = _JOB_STORE.passing_condition_failures()


def _transaction_answered(exc: BaseException) -> bool:
    """A line's transaction refused by a condition or a concurrent transaction: `_record` reads
    the reasons and decides; anything else is an outage."""
    if not isinstance(exc, TransactWriteError):
        return False
    codes = [r.code if r is not None else None for r in exc.cancellation_reasons]
    return (
        "ConditionalCheckFailed" in codes[:2]
        or "TransactionConflict" in codes
        or exc.cause_response_code
        in ("TransactionConflictException", "TransactionInProgressException")
    )


class JobsRepository:
    def __init__(
        self, *, now: Callable[[], float] = time.time, sleep: Callable[[float], Any] = time.sleep
    ):
        self._now = now
        self._sleep = sleep

    # ---- jobs ----

    def create(self, job: BatchJobModel) -> None:
        """Put a new job; ConflictError if the id is taken."""
        try:
            with _JOB_STORE_IF:
                job.save(condition=BatchJobModel.pk.does_not_exist())
        except PynamoDBException as exc:  # the condition failed
            raise ConflictError(
                "A batch with this id already exists.", code="batch_exists"
            ) from exc

    def get(self, batch_id: str, *, consistent: bool = True) -> BatchJobModel | None:
        try:
            with _JOB_STORE:
                return BatchJobModel.get(job_pk(batch_id), JOB_SK, consistent_read=consistent)
        except BatchJobModel.DoesNotExist:
            return None

    def list_for_owner(
        self, owner_id: str, *, before_list_key: str | None, limit: int
    ) -> tuple[list[BatchJobModel], bool]:
        """The owner's jobs, newest first, strictly older than `before_list_key`; and has_more."""
        condition = BatchJobModel.list_key < before_list_key if before_list_key else None
        with _JOB_STORE:
            found = list(
                BatchJobModel.owner_index.query(
                    owner_id,
                    range_key_condition=condition,
                    scan_index_forward=False,
                    limit=limit + 1,
                )
            )
        return found[:limit], len(found) > limit

    def _update(self, batch_id: str, actions: list[Any], condition: Any) -> BatchJobModel | None:
        """Apply a conditional update; the job as it is now, or None if the condition failed."""
        job = BatchJobModel(job_pk(batch_id), JOB_SK)
        try:
            with _JOB_STORE_IF:
                job.update(actions=actions, condition=condition)
        except PynamoDBException:  # the condition failed
            return None
        return job

    def mark_in_progress(self, batch_id: str, *, enqueued: int) -> None:
        now = int(self._now())
        self._update(
            batch_id,
            [
                BatchJobModel.status.set("in_progress"),
                BatchJobModel.in_progress_at.set(now),
                BatchJobModel.enqueued.set(enqueued),
            ],
            BatchJobModel.status == "validating",
        )

    def set_enqueued(self, batch_id: str, enqueued: int) -> None:
        self._update(
            batch_id,
            [BatchJobModel.enqueued.set(enqueued)],
            BatchJobModel.pk.exists() & (BatchJobModel.enqueued < enqueued),
        )

    def mark_failed(self, batch_id: str, errors: list[dict[str, Any]]) -> BatchJobModel | None:
        """validating/in_progress → failed (nothing was or will be answered for it)."""
        now = int(self._now())
        return self._update(
            batch_id,
            [
                BatchJobModel.status.set("failed"),
                BatchJobModel.failed_at.set(now),
                BatchJobModel.errors.set(errors),
            ],
            BatchJobModel.status.is_in("validating", "in_progress"),
        )

    def request_cancel(self, batch_id: str) -> BatchJobModel | None:
        """validating/in_progress → cancelling; None if the job is past that."""
        now = int(self._now())
        return self._update(
            batch_id,
            [BatchJobModel.status.set("cancelling"), BatchJobModel.cancelling_at.set(now)],
            BatchJobModel.status.is_in("validating", "in_progress"),
        )

    def skip_lines(self, batch_id: str, count: int, *, kind: str) -> BatchJobModel | None:
        """Account for `count` lines that will never run (cancelled or expired before being
        queued): one update. Returns the job with its new counters, or None if it is closed."""
        counter = (
            BatchJobModel.cancelled_lines if kind == "cancelled" else BatchJobModel.expired_lines
        )
        job = self._update(
            batch_id,
            [BatchJobModel.remaining.add(-count), counter.add(count)],
            BatchJobModel.status.is_in(*OPEN_STATES) & (BatchJobModel.remaining >= count),
        )
        return job

    def claim_finalizer(
        self,
        batch_id: str,
        token: str,
        *,
        overdue_before: int | None = None,
        cancelled_before: int | None = None,
        stale_before: int | None = None,
    ) -> bool:
        """Become the job's one finalizer, if the job is ready for one:

        - every line has an outcome (`remaining <= 0`) and the job is still open; or
        - the job is open and its deadline is before `overdue_before`, or its cancel was
          requested before `cancelled_before` (lines that never came are written as such); or
        - the job is finalizing and its finalizer started before `stale_before` (presumed dead).
        """
        now = int(self._now())
        ready = BatchJobModel.status.is_in(*OPEN_STATES)
        if overdue_before is not None or cancelled_before is not None:
            late = None
            if overdue_before is not None:
                late = BatchJobModel.deadline_at < overdue_before
            if cancelled_before is not None:
                cancel_late = BatchJobModel.cancelling_at < cancelled_before
                late = cancel_late if late is None else late | cancel_late
            ready = ready & late
        elif stale_before is not None:
            ready = (BatchJobModel.status == "finalizing") & (
                BatchJobModel.finalizing_at < stale_before
            )
        else:
            ready = ready & (BatchJobModel.remaining <= 0)
        claimed = self._update(
            batch_id,
            [
                BatchJobModel.status.set("finalizing"),
                BatchJobModel.finalizing_at.set(now),
                BatchJobModel.finalizer_token.set(token),
            ],
            ready,
        )
        return claimed is not None

    def release_finalizer(self, batch_id: str, token: str, *, back_to: str) -> bool:
        """Give a claim back after the finalizer failed (the next delivery claims it again)."""
        released = self._update(
            batch_id,
            [BatchJobModel.status.set(back_to), BatchJobModel.finalizer_token.remove()],
            (BatchJobModel.status == "finalizing") & (BatchJobModel.finalizer_token == token),
        )
        return released is not None

    def complete(
        self,
        batch_id: str,
        token: str,
        *,
        status: str,
        output_file_id: str | None,
        error_file_id: str | None,
    ) -> bool:
        """The finalizer's last write: finalizing → `status`, while it still holds the claim."""
        now = int(self._now())
        stamp = {
            "completed": BatchJobModel.completed_at,
            "expired": BatchJobModel.expired_at,
            "cancelled": BatchJobModel.cancelled_at,
            "failed": BatchJobModel.failed_at,
        }[status]
        actions = [BatchJobModel.status.set(status), stamp.set(now)]
        actions.append(
            BatchJobModel.output_file_id.set(output_file_id)
            if output_file_id
            else BatchJobModel.output_file_id.remove()
        )
        actions.append(
            BatchJobModel.error_file_id.set(error_file_id)
            if error_file_id
            else BatchJobModel.error_file_id.remove()
        )
        done = self._update(
            batch_id,
            actions,
            (BatchJobModel.status == "finalizing") & (BatchJobModel.finalizer_token == token),
        )
        return done is not None

    # ---- lines ----

    def record_line(
        self, batch_id: str, line: BatchLineModel, counts: LineCounts, *, token: str
    ) -> LineRecord:
        """Write a line's outcome and count it on its job, exactly once (see the module doc)."""
        with _record_lock(batch_id):
            return self._record_line(batch_id, line, counts, token=token)

    def _record_line(
        self, batch_id: str, line: BatchLineModel, counts: LineCounts, *, token: str
    ) -> LineRecord:
        for attempt in range(TRANSACTION_ATTEMPTS):
            outcome = self._record(batch_id, line, counts, token=token, last=False)
            if outcome is not None:
                return outcome
            # The job would not take it as "not the last line": try as the last one.
            outcome = self._record(batch_id, line, counts, token=token, last=True)
            if outcome is not None:
                return outcome
            # Neither: `remaining` moved between the two, or the job closed. Look, then retry.
            job = self.get(batch_id)
            if job is None or job.status not in OPEN_STATES:
                return LineRecord.JOB_CLOSED
            self._sleep(0.01 * (attempt + 1))
        raise ServiceUnavailableError(
            "The batch job store kept refusing this line's update.", code="job_store_contention"
        )

    def _record(
        self, batch_id: str, line: BatchLineModel, counts: LineCounts, *, token: str, last: bool
    ) -> LineRecord | None:
        """One attempt; None when the job's condition (not the line's) refused it."""
        job = BatchJobModel(job_pk(batch_id), JOB_SK)
        actions: list[Any] = [BatchJobModel.remaining.add(-1)]
        for attribute, value in (
            (BatchJobModel.completed, counts.completed),
            (BatchJobModel.failed, counts.failed),
            (BatchJobModel.cancelled_lines, counts.cancelled),
            (BatchJobModel.expired_lines, counts.expired),
            (BatchJobModel.input_tokens, counts.input_tokens),
            (BatchJobModel.output_tokens, counts.output_tokens),
        ):
            if value:
                actions.append(attribute.add(value))
        condition = BatchJobModel.status.is_in(*OPEN_STATES)
        if last:
            now = int(self._now())
            condition = condition & (BatchJobModel.remaining == 1)
            actions += [
                BatchJobModel.status.set("finalizing"),
                BatchJobModel.finalizing_at.set(now),
                BatchJobModel.finalizer_token.set(token),
            ]
        else:
            condition = condition & (BatchJobModel.remaining > 1)
        connection = BatchJobModel._get_connection().connection
        for conflict in range(TRANSACTION_ATTEMPTS):
            try:
                with (
                    _JOB_STORE.passing(_transaction_answered),
                    TransactWrite(connection=connection) as tx,
                ):
                    tx.save(line, condition=BatchLineModel.sk.does_not_exist())
                    tx.update(job, actions=actions, condition=condition)
            except TransactWriteError as exc:  # only what `_transaction_answered` accepts
                codes = [r.code if r is not None else None for r in exc.cancellation_reasons]
                if codes and codes[0] == "ConditionalCheckFailed":
                    return LineRecord.DUPLICATE
                if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                    return None
                self._sleep(0.02 * (conflict + 1))  # a concurrent transaction: try again
                continue
            return LineRecord.RECORDED_AND_CLAIMED if last else LineRecord.RECORDED
        raise ServiceUnavailableError(
            "The batch job store kept refusing this line's update.", code="job_store_contention"
        )

    def get_line(self, batch_id: str, index: int) -> BatchLineModel | None:
        try:
            with _JOB_STORE:
                return BatchLineModel.get(job_pk(batch_id), line_sk(index), consistent_read=True)
        except BatchLineModel.DoesNotExist:
            return None

    def lines(self, batch_id: str) -> list[BatchLineModel]:
        """Every recorded line of a job, in index order (a consistent read)."""
        with _JOB_STORE:
            return list(
                BatchLineModel.query(
                    job_pk(batch_id),
                    range_key_condition=BatchLineModel.sk.startswith("line#"),
                    consistent_read=True,
                )
            )
