"""The audit log of administrative changes (`ic-audit`): one item per change, partitioned by UTC
day and sorted by time, so the newest page is a Query per day walking backwards, never a Scan.

A page cursor is `<day>|<sk>` of the last record returned. Records expire after
`AUDIT_RETENTION_DAYS` (TTL).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from inference_core.db.availability import StoreGuard
from inference_core.db.models import AuditRecordModel
from inference_core.errors import InvalidRequestError

AUDIT_RETENTION_DAYS = 400
# How far back one page looks for records (a quiet log may have none for weeks).
PAGE_LOOKBACK_DAYS = 31

_AUDIT_LOG = StoreGuard("The audit log is unavailable.")


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


class AuditRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def record(
        self,
        *,
        actor_id: str,
        action: str,
        target_type: str,
        target_id: str,
        before: Any,
        after: Any,
    ) -> AuditRecordModel:
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
        with _AUDIT_LOG:
            record.save()
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
