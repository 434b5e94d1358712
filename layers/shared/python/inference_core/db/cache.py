"""The response cache table: one GetItem to read; writes ride along with the usage record.

A caller that knows many keys at once (the batch worker, for an invocation's lines) reads them in
one BatchGetItem (`get_many`) and makes the answers visible to the `get`s that follow in its
context (`prefetched`): those are answered from memory, without a call.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from typing import Any

from inference_core.db.availability import THROTTLING_CODES, StoreGuard, error_code
from inference_core.db.models import CacheEntryModel
from inference_core.errors import ServiceUnavailableError

_CACHE = StoreGuard("the response cache is unavailable")

# key → (tenant, cached response), or None for a known miss: for the `get`s of this context.
Prefetched = dict[str, tuple[str, dict[str, Any]] | None]
_prefetched: contextvars.ContextVar[Prefetched | None] = contextvars.ContextVar(
    "ic_cache_prefetched", default=None
)


@contextlib.contextmanager
def prefetched(found: Prefetched) -> Iterator[None]:
    """Answer `get` from `found` (what `get_many` returned) for the keys it holds."""
    token = _prefetched.set(found)
    try:
        yield
    finally:
        _prefetched.reset(token)


class CacheRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def get(self, cache_key: str, tenant_id: str) -> dict[str, Any] | None:
        """The cached response, or None; an expired item (TTL not yet swept) counts as a miss."""
        known = _prefetched.get()
        if known is not None and cache_key in known:
            hit = known[cache_key]
            return hit[1] if hit is not None and hit[0] == tenant_id else None
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

    def get_many(self, keys: set[str]) -> Prefetched:
        """Every key's (tenant, cached response), or None for a miss, in one BatchGetItem per
        100 keys (`get` checks the tenant). A failing read prefetches nothing: each `get` then
        reads for itself."""
        found: Prefetched = dict.fromkeys(keys)
        if not keys:
            return found
        now = self._now()
        try:
            with _CACHE:
                for item in CacheEntryModel.batch_get(list(keys)):
                    if item.expires_at > now:
                        found[item.cache_key] = (item.tenant_id, item.response)
        except ServiceUnavailableError:
            return {}
        return found

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
