"""The usage ledger and its daily aggregates.

The ledger line, the cache fill and the aggregate counters are written by the settle transaction
(`db.admission`); this module names the aggregate items and reads them back for the usage APIs:
one Query per scope between two days, never a scan. `UsageRepository.record` is the older path
(one BatchWriteItem for a ledger line and a cache fill) for callers outside admission.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from inference_core.db.availability import retry_after_for
from inference_core.db.models import (
    CacheEntryModel,
    UsageAggregateModel,
    UsageRecordModel,
    dynamodb_client,
)
from inference_core.errors import ServiceUnavailableError
from inference_core.observability import RequestUsage, get_logger

USAGE_RETENTION_SECONDS = 400 * 24 * 3600
NO_KEY = "-"  # a JWT session's requests, in the user scope's key position


@dataclass(frozen=True)
class AggregateKey:
    """Where one settled request is counted: the (scope, sk) of each daily aggregate item."""

    scope: str
    sk: str


def aggregate_keys(
    *, day: str, model: str, user_id: str, key_id: str | None, team_id: str | None
) -> list[AggregateKey]:
    """The aggregate items one request adds to (per key, user, team and model, per day)."""
    keys = [
        AggregateKey(f"user#{user_id}", f"{day}#{model}#{key_id or NO_KEY}"),
        AggregateKey(f"model#{model}", f"{day}#{user_id}"),
    ]
    if key_id:
        keys.append(AggregateKey(f"key#{key_id}", f"{day}#{model}"))
    if team_id:
        keys.append(AggregateKey(f"team#{team_id}", f"{day}#{model}#{user_id}"))
    return keys


def read_aggregates(scope: str, start_day: str, end_day: str) -> list[UsageAggregateModel]:
    """Every aggregate item of `scope` (`key#…`, `user#…`, `team#…`, `model#…`) whose day lies in
    [start_day, end_day] (ISO dates, inclusive): one Query (paginated by PynamoDB)."""
    try:
        return list(
            UsageAggregateModel.query(
                scope,
                UsageAggregateModel.sk.between(start_day, end_day + "#\uffff"),
            )
        )
    except PynamoDBException as exc:
        # A throttled read says when to come back (Retry-After), as the store guard's do.
        raise ServiceUnavailableError(
            "The usage store is unavailable.", retry_after=retry_after_for(exc)
        ) from exc


class UsageRepository:
    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        retention_seconds: int = USAGE_RETENTION_SECONDS,
    ):
        self._now = now
        self._retention = retention_seconds

    def ledger_line(self, usage: RequestUsage) -> UsageRecordModel:
        """The ledger line of one request (written by `record` or by the settle transaction)."""
        now = self._now()
        return UsageRecordModel(
            usage.tenant_id,
            f"{int(now * 1000):015d}#{usage.request_id}",
            request_id=usage.request_id,
            key_id=usage.key_id,
            endpoint=usage.endpoint,
            model=usage.model,
            provider=usage.provider,
            deployment=usage.deployment,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=round(usage.cost_usd, 10),
            latency_ms=round(usage.latency_ms, 1),
            cached=usage.cached,
            status=usage.status,
            created_at=int(now),
            expires_at=int(now) + self._retention,
        )

    def record(self, usage: RequestUsage, cache_entry: CacheEntryModel | None = None) -> bool:
        """Write the ledger line (+ cache entry). Never fails the request: False when the write
        was lost (logged; the caller records the request as unmetered)."""
        record = self.ledger_line(usage)
        request_items: dict[str, list[Any]] = {
            UsageRecordModel.Meta.table_name: [{"PutRequest": {"Item": record.serialize()}}]
        }
        if cache_entry is not None:
            request_items.setdefault(CacheEntryModel.Meta.table_name, []).append(
                {"PutRequest": {"Item": cache_entry.serialize()}}
            )
        client = dynamodb_client(UsageRecordModel)
        try:
            response = client.batch_write_item(RequestItems=request_items)
            unprocessed = response.get("UnprocessedItems") or {}
            if unprocessed:  # throttled: one more try, then give up loudly
                response = client.batch_write_item(RequestItems=unprocessed)
                if response.get("UnprocessedItems"):
                    get_logger().warning(
                        "usage record not written (throttled)",
                        extra={"request_id": usage.request_id},
                    )
                    return UsageRecordModel.Meta.table_name not in response["UnprocessedItems"]
        except (ClientError, BotoCoreError) as exc:
            get_logger().warning(
                "usage record not written",
                extra={"request_id": usage.request_id, "error": type(exc).__name__},
            )
            return False
        return True

    def list_for_tenant(self, tenant_id: str, limit: int = 100) -> list[UsageRecordModel]:
        return list(UsageRecordModel.query(tenant_id, scan_index_forward=False, limit=limit))
