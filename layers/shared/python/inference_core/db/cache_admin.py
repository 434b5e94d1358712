"""The response cache as an operator sees it: entries and bytes per model, and invalidation by
tenant and/or model.

Both walk the cache table with a paginated Scan (projected to the few attributes they need): the
cache has no per-model counters, and these are admin operations, never on a request path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from inference_core.db.availability import StoreGuard
from inference_core.db.models import CacheEntryModel

_CACHE = StoreGuard("The response cache is unavailable.")


class CacheAdminRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def _entries(self, tenant_id: str | None, model: str | None) -> list[CacheEntryModel]:
        condition = CacheEntryModel.expires_at > int(self._now())
        if tenant_id is not None:
            condition &= CacheEntryModel.tenant_id == tenant_id
        if model is not None:
            condition &= CacheEntryModel.model == model
        with _CACHE:
            return list(CacheEntryModel.scan(condition))

    def stats_by_model(self) -> dict[str, dict[str, int]]:
        """{model: {"entries": n, "bytes": size of the cached responses}} of live entries."""
        stats: dict[str, dict[str, int]] = {}
        for entry in self._entries(None, None):
            row = stats.setdefault(entry.model, {"entries": 0, "bytes": 0})
            row["entries"] += 1
            row["bytes"] += len(json.dumps(entry.response, separators=(",", ":")).encode())
        return stats

    def invalidate(self, *, tenant_id: str | None, model: str | None) -> int:
        """Delete every live entry of this tenant and/or model; the number deleted."""
        entries = self._entries(tenant_id, model)
        with _CACHE, CacheEntryModel.batch_write() as batch:
            for entry in entries:
                batch.delete(entry)
        return len(entries)
