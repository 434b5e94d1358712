"""Anthropic-compatible `POST /v1/messages` (plain and streamed) and
`POST /v1/messages/count_tokens`, errors in Anthropic's body.

The request is translated into our OpenAI-shaped `ChatRequest` carrying the client's own body
(and its `anthropic-beta` header and `?beta=true`) for Anthropic deployments, served by the same
inference service as every other route, and the answer translated back
(`inference_core.translation.anthropic_messages`). What a non-Anthropic deployment dropped is
named in `x-ic-dropped-params`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from inference_core import estimate
from inference_core.api.deps import cache_allowed, get_inference_service, request_id
from inference_core.api.sse import guarded, sse_event, sse_response
from inference_core.auth.deps import get_inference_principal
from inference_core.auth.principal import Principal
from inference_core.errors import InvalidRequestError
from inference_core.inference.service import InferenceService
from inference_core.translation.anthropic_messages import (
    anthropic_count_request_to_chat,
    anthropic_request_to_chat,
    chat_result_to_anthropic_message,
    chunks_to_anthropic_events,
)

router = APIRouter(tags=["anthropic"])

DROPPED_HEADER = "x-ic-dropped-params"


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidRequestError("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    return body


@router.post("/v1/messages")
async def create_message(
    request: Request,
    principal: Annotated[Principal, Depends(get_inference_principal)],
    service: Annotated[InferenceService, Depends(get_inference_service)],
) -> Response:
    body = await _json_body(request)
    chat, model, stream = anthropic_request_to_chat(body, **_beta_flags(request))
    message_id = f"msg_{uuid.uuid4().hex}"
    common: dict[str, Any] = {
        "model": model,
        "endpoint": "messages",
        "request_id": request_id(request),
        "use_cache": cache_allowed(request),
    }
    if stream:
        outcome = await service.chat_stream(principal, chat, **common)
        input_tokens = estimate.prompt_tokens(chat)
        events = chunks_to_anthropic_events(outcome.chunks, outcome.model, message_id, input_tokens)
        return sse_response(
            guarded(_encode(events), request.url.path, anthropic=True),
            _headers(outcome.cached, outcome.dropped_params),
        )
    result = await service.chat(principal, chat, **common)
    return JSONResponse(
        chat_result_to_anthropic_message(result.result, result.model, message_id),
        headers=_headers(result.cached, result.dropped_params),
    )


@router.post("/v1/messages/count_tokens")
async def count_message_tokens(
    request: Request,
    principal: Annotated[Principal, Depends(get_inference_principal)],
    service: Annotated[InferenceService, Depends(get_inference_service)],
) -> Response:
    """The Anthropic SDK's `messages.count_tokens`: the deployment's own counter where it has one
    (Anthropic), the gateway's estimate otherwise (`x-ic-token-count: provider|estimate`)."""
    chat, model = anthropic_count_request_to_chat(await _json_body(request), **_beta_flags(request))
    counted = await service.count_tokens(principal, chat, model)
    return JSONResponse(
        {"input_tokens": counted.input_tokens}, headers={"x-ic-token-count": counted.source}
    )


def _beta_flags(request: Request) -> dict[str, Any]:
    """The client's `anthropic-beta` values (one header or several, comma-separated) and
    `?beta=true`, forwarded to Anthropic deployments only."""
    betas = [
        value.strip()
        for header in request.headers.getlist("anthropic-beta")
        for value in header.split(",")
        if value.strip()
    ]
    return {"betas": betas, "beta_query": request.query_params.get("beta") == "true"}


def _headers(cached: bool, dropped: list[str]) -> dict[str, str]:
    headers = {"x-cache": "hit" if cached else "miss"}
    if dropped:
        headers[DROPPED_HEADER] = ",".join(dropped)
    return headers


async def _encode(events: AsyncIterator[tuple[str, dict[str, Any]]]) -> AsyncIterator[bytes]:
    async for name, payload in events:
        yield sse_event(name, payload)
