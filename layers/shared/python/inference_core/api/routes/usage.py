"""`GET /v1/usage`: the caller's own usage (a key: its own; a user's token: all of the user's)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from inference_core.auth.deps import get_principal
from inference_core.auth.principal import Principal
from inference_core.usage import usage_report

router = APIRouter(tags=["usage"])


@router.get("/v1/usage")
def get_usage(
    principal: Annotated[Principal, Depends(get_principal)],
    start: Annotated[str | None, Query(description="first day, YYYY-MM-DD (UTC)")] = None,
    end: Annotated[str | None, Query(description="last day, YYYY-MM-DD (UTC)")] = None,
    group_by: Annotated[str | None, Query(description="day | model | key")] = None,
) -> dict[str, Any]:
    return usage_report(
        user_id=principal.user_id,
        key_id=principal.key_id,
        start=start,
        end=end,
        group_by=group_by,
    )
