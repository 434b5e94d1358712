"""The usage ledger: one BatchWriteItem per request puts the usage line (and, on a cache miss that
produced an answer, the cache entry) — so a miss costs one write call, not two."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from inference_core.db.models import CacheEntryModel, UsageRecordModel, dynamodb_client
from inference_core.observability import RequestUsage, get_logger

USAGE_RETENTION_SECONDS = 400 * 24 * 3600


class UsageRepository:
    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        retention_seconds: int = USAGE_RETENTION_SECONDS,
    ):
        self._now = now
        self._retention = retention_seconds

    def record(self, usage: RequestUsage, cache_entry: CacheEntryModel | None = None) -> None:
        """Write the ledger line (+ cache entry). Never fails the request: a lost write is logged."""
        now = self._now()
        record = UsageRecordModel(
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
        except (ClientError, BotoCoreError) as exc:
            get_logger().warning(
                "usage record not written",
                extra={"request_id": usage.request_id, "error": type(exc).__name__},
            )

    def list_for_tenant(self, tenant_id: str, limit: int = 100) -> list[UsageRecordModel]:
        return list(UsageRecordModel.query(tenant_id, scan_index_forward=False, limit=limit))
