"""The response cache table: one GetItem to read; writes ride along with the usage record."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from inference_core.db.availability import THROTTLING_CODES, StoreGuard, error_code
from inference_core.db.models import CacheEntryModel
from inference_core.errors import ServiceUnavailableError

_CACHE = StoreGuard("the response cache is unavailable")


class CacheRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def get(self, cache_key: str, tenant_id: str) -> dict[str, Any] | None:
        """The cached response, or None; an expired item (TTL not yet swept) counts as a miss."""
        try:
            with _CACHE:
                item = CacheEntryModel.get(cache_key)
        except CacheEntryModel.DoesNotExist:
            return None
        except ServiceUnavailableError as exc:
            # A throttled cache read is a miss, not a failed request.
            if error_code(exc.__cause__ or exc) in THROTTLING_CODES:
                return None
            raise
        if item.expires_at <= self._now() or item.tenant_id != tenant_id:
            return None
        response: dict[str, Any] = item.response
        return response

    def entry(
        self,
        cache_key: str,
        *,
        tenant_id: str,
        model: str,
        response: dict[str, Any],
        ttl_seconds: int,
    ) -> CacheEntryModel:
        now = self._now()
        return CacheEntryModel(
            cache_key,
            tenant_id=tenant_id,
            model=model,
            response=response,
            created_at=int(now),
            expires_at=int(now) + ttl_seconds,
        )
