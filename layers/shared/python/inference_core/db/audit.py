"""The audit log of administrative changes (`ic-audit`): one item per change, partitioned by UTC
day and sorted by time, so the newest page is a Query per day walking backwards, never a Scan.

A change and its record land together: `commit` is ONE `TransactWriteItems` holding the change's
own writes (with their conditions) and the record's Put (`attribute_not_exists`), so a failure
leaves neither and a retry cannot do the change twice. `record` writes a record alone, for the
one change that cannot share a transaction (a cache invalidation: any number of deletes).

A page cursor is `<day>|<sk>` of the last record returned. Records expire after
`AUDIT_RETENTION_DAYS` (TTL).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from inference_core.db.availability import THROTTLED_RETRY_AFTER, StoreGuard, error_code
from inference_core.db.models import AuditRecordModel
from inference_core.errors import InvalidRequestError, ServiceUnavailableError

AUDIT_RETENTION_DAYS = 400
# How far back one page looks for records (a quiet log may have none for weeks).
PAGE_LOOKBACK_DAYS = 31

# DynamoDB's limit on the items of one transaction (its 4 MB limit is far from an admin change).
MAX_TRANSACTION_ITEMS = 100

_AUDIT_LOG = StoreGuard("The audit log is unavailable.")
# A cancelled transaction is an answer (which condition failed), not an outage.
_AUDIT_LOG_TX = _AUDIT_LOG.passing(lambda exc: error_code(exc) == "TransactionCanceledException")
_CONDITION_FAILED = "ConditionalCheckFailed"


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


class AuditRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def entry(
        self,
        *,
        actor_id: str,
        action: str,
        target_type: str,
        target_id: str,
        before: Any,
        after: Any,
    ) -> AuditRecordModel:
        """The record of a change, not yet written (`commit` writes it with the change)."""
        now = self._now()
        audit_id = f"aud_{uuid.uuid4().hex[:20]}"
        record = AuditRecordModel(
            f"day#{_day(now)}",
            f"{int(now * 1000):015d}#{audit_id}",
            audit_id=audit_id,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
            at=now,
            expires_at=int(now) + AUDIT_RETENTION_DAYS * 86400,
        )
        return record

    def record(self, record: AuditRecordModel) -> AuditRecordModel:
        """Write an `entry` on its own (a change that cannot share its transaction)."""
        with _AUDIT_LOG:
            record.save(condition=AuditRecordModel.sk.does_not_exist())
        return record

    def page(
        self, *, limit: int, after: str | None, target_id: str | None = None
    ) -> tuple[list[AuditRecordModel], str | None]:
        """Newest first: up to `limit` records after the cursor `after`; the next cursor or None."""
        with _AUDIT_LOG:
            if target_id is not None:
                return self._target_page(target_id, limit, after)
            return self._day_page(limit, after)

    def _day_page(self, limit: int, after: str | None) -> tuple[list[AuditRecordModel], str | None]:
        if after:
            day_text, _, start_sk = after.partition("|")
            try:
                day = date.fromisoformat(day_text)
            except ValueError:
                raise InvalidRequestError("Unknown cursor.", param="after") from None
        else:
            day, start_sk = datetime.fromtimestamp(self._now(), UTC).date(), ""
        found: list[AuditRecordModel] = []
        for _ in range(PAGE_LOOKBACK_DAYS):
            condition = AuditRecordModel.sk < start_sk if start_sk else None
            found += AuditRecordModel.query(
                f"day#{day.isoformat()}",
                condition,
                scan_index_forward=False,
                limit=limit + 1 - len(found),
            )
            if len(found) > limit:
                break
            day, start_sk = day - timedelta(days=1), ""
        page = found[:limit]
        if len(found) > limit:
            last = page[-1]
            return page, f"{last.pk.removeprefix('day#')}|{last.sk}"
        return page, None

    def _target_page(
        self, target_id: str, limit: int, after: str | None
    ) -> tuple[list[AuditRecordModel], str | None]:
        condition = None
        if after:
            try:
                condition = AuditRecordModel.at < float(after)
            except ValueError:
                raise InvalidRequestError("Unknown cursor.", param="after") from None
        found = list(
            AuditRecordModel.target_index.query(
                target_id, condition, scan_index_forward=False, limit=limit + 1
            )
        )
        page = found[:limit]
        return page, (repr(page[-1].at) if len(found) > limit else None)


class TransactionWrites:
    """The writes of a change, added to its transaction in the caller's order, remembering where
    each one lands: PynamoDB sends a transaction's condition checks, then its deletes, puts and
    updates (each group in the order added), and DynamoDB's cancellation reasons follow that."""

    _RANK = {"condition_check": 0, "put": 2, "update": 3}

    def __init__(self, transaction: TransactWrite) -> None:
        self._transaction = transaction
        self._kinds: list[str] = []

    def save(self, model: Model, condition: Condition | None = None) -> None:
        self._transaction.save(model, condition=condition)
        self._kinds.append("put")

    def update(self, model: Model, actions: list[Any], condition: Condition | None = None) -> None:
        self._transaction.update(model, actions=actions, condition=condition)
        self._kinds.append("update")

    def condition_check(self, model_cls: type[Model], hash_key: Any, condition: Condition) -> None:
        self._transaction.condition_check(model_cls, hash_key, condition=condition)
        self._kinds.append("condition_check")

    def sent_order(self) -> list[int]:
        """The caller's index of each write, in the order DynamoDB sees them."""
        return sorted(range(len(self._kinds)), key=lambda i: self._RANK[self._kinds[i]])


def commit(record: AuditRecordModel, add_writes: Callable[[TransactionWrites], None]) -> int | None:
    """ONE `TransactWriteItems`: the writes `add_writes` adds to it (each with its own
    condition), then the audit record's Put. None when it committed; else the index (in the order
    `add_writes` added them) of a write whose condition failed, and nothing was written.

    Throttling, a conflicting transaction or a failed condition on the record itself: 503 with
    `Retry-After` (nothing was written, so a retry is safe)."""
    transaction = TransactWrite(connection=AuditRecordModel._get_connection().connection)
    writes = TransactionWrites(transaction)
    add_writes(writes)
    writes.save(record, condition=AuditRecordModel.sk.does_not_exist())
    try:
        with _AUDIT_LOG_TX, transaction:
            pass
    except TransactWriteError as exc:  # cancelled: find the condition that failed
        record_index = len(writes.sent_order()) - 1
        for index, reason in zip(writes.sent_order(), exc.cancellation_reasons, strict=False):
            if index != record_index and reason is not None and reason.code == _CONDITION_FAILED:
                return index
        raise ServiceUnavailableError(
            _AUDIT_LOG.message, retry_after=THROTTLED_RETRY_AFTER
        ) from exc
    return None
