"""The Responses API: `POST /v1/responses` (plain or streamed), retrieve, delete, input items.

Each route parses, makes one `ResponsesService` call and shapes the answer; errors use OpenAI's
body. A stream is SSE with `event: <type>` lines, as OpenAI sends it; a failure after it started
ends it with a `response.failed` event (or an `error` event for a failure of the gateway itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from inference_core.api.deps import cache_allowed, get_responses_service, request_id
from inference_core.api.sse import sse_event, sse_response
from inference_core.auth.deps import get_inference_principal, get_principal
from inference_core.auth.principal import Principal
from inference_core.errors import InferenceCoreError
from inference_core.inference.responses import ResponsesService
from inference_core.observability import get_logger
from inference_core.schemas.responses import ResponseCreateRequest

router = APIRouter(tags=["responses"])

InferencePrincipal = Annotated[Principal, Depends(get_inference_principal)]
AnyPrincipal = Annotated[Principal, Depends(get_principal)]
Service = Annotated[ResponsesService, Depends(get_responses_service)]


@router.post("/v1/responses")
async def create_response(
    body: ResponseCreateRequest, request: Request, principal: InferencePrincipal, service: Service
) -> Response:
    created = await service.create(
        principal, body, request_id=request_id(request), use_cache=cache_allowed(request)
    )
    headers = {"x-cache": "hit" if created.cached else "miss"}
    if created.events is not None:
        return sse_response(_sse(created.events), headers)
    return JSONResponse(created.body, headers=headers)


async def _sse(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    sequence = 0
    try:
        async for event in events:
            sequence = int(event["sequence_number"]) + 1
            yield sse_event(str(event["type"]), event)
    except Exception as exc:
        if isinstance(exc, InferenceCoreError):
            code, message = exc.code, exc.message
        else:
            get_logger().exception("stream failed", extra={"error": type(exc).__name__})
            code, message = "server_error", "The server had an error while streaming."
        error = {"type": "error", "code": code, "message": message, "param": None}
        yield sse_event("error", {**error, "sequence_number": sequence})


@router.get("/v1/responses/{response_id}")
async def retrieve_response(
    response_id: str, principal: AnyPrincipal, service: Service
) -> dict[str, Any]:
    return await service.retrieve(principal, response_id)


@router.delete("/v1/responses/{response_id}")
async def delete_response(
    response_id: str, principal: AnyPrincipal, service: Service
) -> dict[str, Any]:
    return await service.delete(principal, response_id)


@router.get("/v1/responses/{response_id}/input_items")
async def list_input_items(
    response_id: str,
    principal: AnyPrincipal,
    service: Service,
    after: str | None = None,
    before: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
) -> dict[str, Any]:
    page = await service.input_items(
        principal, response_id, after=after, before=before, limit=limit, order=order
    )
    return page.body()
