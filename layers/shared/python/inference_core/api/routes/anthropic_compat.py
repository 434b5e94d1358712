"""Anthropic-compatible `POST /v1/messages` (plain and streamed), errors in Anthropic's body.

The request is translated into our OpenAI-shaped `ChatRequest`, served by the same inference
service as every other route, and the answer translated back (`inference_core.translation`).
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
from inference_core.translation.anthropic import (
    anthropic_request_to_chat,
    chat_result_to_anthropic_message,
    chunks_to_anthropic_events,
)

router = APIRouter(tags=["anthropic"])


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
    chat, model, stream = anthropic_request_to_chat(body)
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
            {"x-cache": "hit" if outcome.cached else "miss"},
        )
    result = await service.chat(principal, chat, **common)
    return JSONResponse(
        chat_result_to_anthropic_message(result.result, result.model, message_id),
        headers={"x-cache": "hit" if result.cached else "miss"},
    )


async def _encode(events: AsyncIterator[tuple[str, dict[str, Any]]]) -> AsyncIterator[bytes]:
    async for name, payload in events:
        yield sse_event(name, payload)
