"""`GET /v1/admin/resilience`: the active resilience preset and each deployment's breaker and cold
state in this process, for superusers (an operator checking why traffic left a deployment).

Its own module until the admin API lands; it uses the same superuser check (`require_superuser`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from inference_core.api.deps import get_router
from inference_core.auth.deps import require_superuser
from inference_core.auth.principal import Principal
from inference_core.router import Router

router = APIRouter(tags=["admin"])


@router.get("/v1/admin/resilience")
def resilience(
    _: Annotated[Principal, Depends(require_superuser)],
    model_router: Annotated[Router, Depends(get_router)],
) -> dict[str, Any]:
    """The preset, its figures, and per model alias each deployment's breaker (closed, open,
    half-open) and whether it is cold. State is per process (per Lambda execution environment)."""
    return {"object": "resilience", **model_router.describe()}
