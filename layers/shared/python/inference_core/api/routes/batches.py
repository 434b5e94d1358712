"""The Batches API (OpenAI-compatible), and the inline form `POST /v1/batch/jobs`.

Another user's batch is a 404, exactly like a batch that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from inference_core.api.batch_deps import get_batch_service
from inference_core.auth.deps import get_principal
from inference_core.auth.principal import Principal
from inference_core.batch.bodies import batch_object
from inference_core.batch.schemas import InlineJobRequest

if TYPE_CHECKING:  # the batch service (and its tables) load on first use, not at import
    from inference_core.batch.service import BatchService

router = APIRouter(tags=["batches"])

CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
Batches = Annotated["BatchService", Depends(get_batch_service)]


class BatchCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_file_id: str = Field(min_length=1, max_length=128)
    endpoint: Literal["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]
    completion_window: Literal["24h"]
    metadata: dict[str, str] | None = None
    # Accepted for compatibility: outputs live as long as the files bucket keeps them.
    output_expires_after: dict[str, Any] | None = None


@router.post("/v1/batches")
def create_batch(
    body: BatchCreateRequest, principal: CurrentPrincipal, batches: Batches
) -> dict[str, Any]:
    job = batches.create(
        principal,
        input_file_id=body.input_file_id,
        endpoint=body.endpoint,
        completion_window=body.completion_window,
        metadata=body.metadata,
    )
    return batch_object(job)


@router.get("/v1/batches")
def list_batches(
    principal: CurrentPrincipal,
    batches: Batches,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    jobs, has_more = batches.list(principal, after=after, limit=limit)
    data = [batch_object(job) for job in jobs]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


@router.get("/v1/batches/{batch_id}")
def retrieve_batch(batch_id: str, principal: CurrentPrincipal, batches: Batches) -> dict[str, Any]:
    return batch_object(batches.get(principal, batch_id))


@router.post("/v1/batches/{batch_id}/cancel")
def cancel_batch(batch_id: str, principal: CurrentPrincipal, batches: Batches) -> dict[str, Any]:
    return batch_object(batches.cancel(principal, batch_id))


@router.post("/v1/batch/jobs")
def create_inline_job(
    body: InlineJobRequest, principal: CurrentPrincipal, batches: Batches
) -> dict[str, Any]:
    return batch_object(batches.create_inline(principal, body))
