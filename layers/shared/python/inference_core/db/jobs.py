"""Batch jobs and their lines in DynamoDB: the only module that writes them.

The guarantees the batch service builds on, each one conditional write:

- `create`: a job id is taken once (`attribute_not_exists`), so a redelivered submission cannot
  make a second job;
- `LineClaim`: a line that calls a model is first claimed (a conditional put of its item with the
  delivery's token and an expiry, inside the line's admission transaction), and its outcome and
  the job's counters are written inside its settle transaction (`db.admission.riding`), on the
  condition that the claim is still this delivery's and the line has no outcome. So a redelivered
  line is refused at admission (never reaches a model, never charged), and a line's charge, its
  result and its count are written together or not at all: no extra round trip per line;
- `record_line`: for a line that ends without a model call (cancelled, expired, refused before
  admission), ONE transaction puts the line (only if it has no outcome yet) and updates the job's
  counters (only while the job still takes lines).

Either way a line is counted exactly once, and the write that brings `remaining` from 1 to 0 also
moves the job to `finalizing` and stamps it with the caller's `finalizer_token`: exactly one
finalizer, chosen by DynamoDB (the job's condition fails otherwise, and its old item says which);
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

from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from inference_core.db.availability import StoreGuard, error_code
from inference_core.db.batch_models import (
    JOB_SK,
    BatchJobModel,
    BatchLineModel,
    job_pk,
    line_sk,
)
from inference_core.db.models import dynamodb_client
from inference_core.errors import ConflictError, ServiceUnavailableError

Item = dict[str, Any]  # a raw DynamoDB item

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


class LineClaimedError(ServiceUnavailableError):
    """Another delivery of this line holds its claim right now (retry later)."""

    code = "already_in_progress"


class LineDoneError(ServiceUnavailableError):
    """The line already has its outcome: this delivery is a duplicate (nothing to do)."""

    code = "line_already_recorded"


def _n(value: int) -> dict[str, str]:
    return {"N": str(int(value))}


@dataclass
class LineClaim:
    """One delivery's claim on a line, and what its settle writes (a `db.admission` rider).

    Before the model call the worker sets nothing but the claim; after it, `line` and `counts`
    (the outcome) or nothing (`release`: a transient failure gives the claim back). `result`
    says what the settle did: RECORDED(_AND_CLAIMED), DUPLICATE, JOB_CLOSED, or None when
    nothing of the line was written (the settle was lost, or this was a release)."""

    table: str
    batch_id: str
    index: int
    token: str
    until: int  # the claim's expiry (the delivery's deadline), epoch seconds
    retention_seconds: int
    now: Callable[[], float] = time.time
    line: BatchLineModel | None = None
    counts: LineCounts | None = None
    finalizer_token: str | None = None
    last: bool = False
    result: LineRecord | None = None

    @property
    def key(self) -> Item:
        return {"pk": {"S": job_pk(self.batch_id)}, "sk": {"S": line_sk(self.index)}}

    def record(self, line: BatchLineModel, counts: LineCounts, *, finalizer_token: str) -> None:
        self.line, self.counts, self.finalizer_token = line, counts, finalizer_token

    # ---- the admission's item ----

    def admit_items(self, now: float) -> list[Item]:
        return [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        **self.key,
                        "index": _n(self.index),
                        "claim_token": {"S": self.token},
                        "claim_until": _n(self.until),
                        "expires_at": _n(int(now) + self.retention_seconds),
                    },
                    "ConditionExpression": "attribute_not_exists(#oc) AND "
                    "(attribute_not_exists(#cu) OR #cu < :now)",
                    "ExpressionAttributeNames": {"#oc": "outcome", "#cu": "claim_until"},
                    "ExpressionAttributeValues": {":now": _n(int(now))},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        ]

    def admit_refused(self, reasons: list[dict[str, Any]]) -> None:
        if not reasons or reasons[0].get("Code") != "ConditionalCheckFailed":
            return
        old = reasons[0].get("Item") or {}
        if "outcome" in old:
            raise LineDoneError("This line already has its outcome.")
        raise LineClaimedError("Another delivery of this line is in progress.")

    # ---- the settle's items ----

    def settle_items(self, now: float) -> list[Item]:
        mine = {":tok": {"S": self.token}}
        names = {"#ct": "claim_token", "#oc": "outcome"}
        condition = "#ct = :tok AND attribute_not_exists(#oc)"
        if self.line is None or self.counts is None:
            return [
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": self.key,
                        "ConditionExpression": condition,
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": mine,
                    }
                }
            ]
        return [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": self.line.serialize(),
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": mine,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            self._job_update(now),
        ]

    def _job_update(self, now: float) -> Item:
        assert self.counts is not None
        names = {"#st": "status", "#rm": "remaining"}
        values: Item = {
            ":one": _n(1),
            ":less": _n(-1),
            **{f":o{i}": {"S": state} for i, state in enumerate(OPEN_STATES)},
        }
        adds = ["#rm :less"]
        for i, (attribute, value) in enumerate(
            (
                ("completed", self.counts.completed),
                ("failed", self.counts.failed),
                ("cancelled_lines", self.counts.cancelled),
                ("expired_lines", self.counts.expired),
                ("input_tokens", self.counts.input_tokens),
                ("output_tokens", self.counts.output_tokens),
            )
        ):
            if value:
                names[f"#a{i}"] = attribute
                values[f":a{i}"] = _n(value)
                adds.append(f"#a{i} :a{i}")
        opened = ", ".join(f":o{i}" for i in range(len(OPEN_STATES)))
        expression = "ADD " + ", ".join(adds)
        if self.last:
            names |= {"#fa": "finalizing_at", "#ft": "finalizer_token"}
            values |= {
                ":fin": {"S": "finalizing"},
                ":now": _n(int(now)),
                ":ft": {"S": self.finalizer_token or self.token},
            }
            expression += " SET #st = :fin, #fa = :now, #ft = :ft"
            condition = f"#st IN ({opened}) AND #rm = :one"
        else:
            condition = f"#st IN ({opened}) AND #rm > :one"
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"pk": {"S": job_pk(self.batch_id)}, "sk": {"S": JOB_SK}},
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def settle_refused(self, reasons: list[dict[str, Any]]) -> bool:
        """Try again (True) or settle without the line (False), from why its items failed."""
        if self.line is None:
            return False  # the claim is gone already: nothing to give back
        codes = [r.get("Code") for r in reasons]
        if codes and codes[0] == "ConditionalCheckFailed":
            self.result = LineRecord.DUPLICATE  # recorded, or the claim passed to another delivery
            return False
        if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
            old = reasons[1].get("Item") or {}
            status = str((old.get("status") or {}).get("S", ""))
            remaining = int(float((old.get("remaining") or {}).get("N", 0)))
            if status not in OPEN_STATES or remaining < 1:
                self.result = LineRecord.JOB_CLOSED
                return False
            self.last = remaining == 1
        return True

    def settled(self, written: bool) -> None:
        if written and self.line is not None:
            self.result = LineRecord.RECORDED_AND_CLAIMED if self.last else LineRecord.RECORDED


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
                    tx.save(line, condition=BatchLineModel.outcome.does_not_exist())
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

    # ---- claimed lines (the ungoverned path; a governed line rides its admission and settle) ----

    def new_claim(
        self, batch_id: str, index: int, *, token: str, until: int, retention_seconds: int
    ) -> LineClaim:
        return LineClaim(
            table=str(BatchJobModel.Meta.table_name),
            batch_id=batch_id,
            index=index,
            token=token,
            until=until,
            retention_seconds=retention_seconds,
            now=self._now,
        )

    def claim(self, claim: LineClaim) -> None:
        """Take the claim on its own (one write); LineDoneError or LineClaimedError if refused."""
        ok, reasons = self._transact(claim.admit_items(self._now()))
        if not ok:
            claim.admit_refused(reasons)
            raise ServiceUnavailableError(
                "The line could not be claimed; retry.", code="job_store_contention"
            )

    def settle_claim(self, claim: LineClaim) -> LineRecord | None:
        """Write what the claim carries (the outcome and the counts, or its release) on its own."""
        with _record_lock(claim.batch_id):
            for attempt in range(TRANSACTION_ATTEMPTS):
                ok, reasons = self._transact(claim.settle_items(self._now()))
                if ok:
                    claim.settled(True)
                    return claim.result
                if not claim.settle_refused(reasons):
                    claim.settled(False)
                    return claim.result
                self._sleep(0.01 * (attempt + 1))
        raise ServiceUnavailableError(
            "The batch job store kept refusing this line's update.", code="job_store_contention"
        )

    def _transact(self, items: list[Item]) -> tuple[bool, list[dict[str, Any]]]:
        client: Any = dynamodb_client(BatchJobModel)
        try:
            with _JOB_STORE.passing(lambda exc: error_code(exc) == "TransactionCanceledException"):
                client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons: Any = exc.response.get("CancellationReasons") or []  # type: ignore[typeddict-item]
            return False, [dict(r) for r in reasons]
        return True, []

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
                    # A line still claimed (its delivery died with the job finalized) has none.
                    filter_condition=BatchLineModel.outcome.exists(),
                    consistent_read=True,
                )
            )
