"""FastAPI dependency of the admin routes: one `AdminService` per process, composed from the
repositories, the model registry, the router (for its circuit breakers) and the governance (whose
resolution cache an admin change clears). Tests override `get_admin_service`."""

from __future__ import annotations

from functools import lru_cache

from inference_core import wiring
from inference_core.admin_service import AdminService


@lru_cache(maxsize=1)
def get_admin_service() -> AdminService:
    from inference_core.db.audit import AuditRepository
    from inference_core.db.cache_admin import CacheAdminRepository
    from inference_core.db.directory import DirectoryRepository
    from inference_core.db.teams import TeamsRepository

    wiring.bound_settings()
    return AdminService(
        directory=DirectoryRepository(),
        teams=TeamsRepository(),
        audit=AuditRepository(),
        cache=CacheAdminRepository(),
        registry=wiring.get_registry(),
        router=wiring.get_router(),
        forget_resolutions=lambda: wiring.get_governance().forget(),
    )
