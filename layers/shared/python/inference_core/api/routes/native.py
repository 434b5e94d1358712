"""The gateway's own endpoints: `/v1/generate` (one prompt) and `/v1/chat` (server-kept history).

Both answer as JSON, or with `"stream": true` as server-sent events: `{"text": piece}` per piece,
then the same body the JSON answer has plus `"done": true`, then `[DONE]`; a failure midway ends
the stream with an error event in OpenAI's body (`api.sse.guarded`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from inference_core.api.deps import (
    cache_allowed,
    get_chat_sessions,
    get_inference_service,
    request_id,
)
from inference_core.api.sse import guarded, sse_data, sse_response
from inference_core.auth.deps import get_inference_principal
from inference_core.auth.principal import Principal
from inference_core.canonical import CompletionRequest
from inference_core.inference.chat_sessions import ChatSessionService, ChatTurn, ChatTurnStream
from inference_core.inference.service import InferenceService, StreamOutcome
from inference_core.schemas.native import (
    ChatTurnRequest,
    ChatTurnResponse,
    GenerateRequest,
    GenerateResponse,
)

router = APIRouter(tags=["native"])

InferencePrincipal = Annotated[Principal, Depends(get_inference_principal)]
Service = Annotated[InferenceService, Depends(get_inference_service)]


@router.post("/v1/generate", response_model=GenerateResponse)
async def generate(
    body: GenerateRequest, request: Request, principal: InferencePrincipal, service: Service
) -> Any:
    completion = CompletionRequest(
        prompt=body.prompt, max_tokens=body.max_tokens, temperature=body.temperature
    )
    common: dict[str, Any] = {
        "model": body.model,
        "endpoint": "generate",
        "request_id": request_id(request),
        "use_cache": cache_allowed(request),
    }
    if body.stream:
        stream = await service.chat_stream(principal, completion, **common)
        return sse_response(
            guarded(_generate_events(stream), request.url.path),
            {"x-cache": "hit" if stream.cached else "miss"},
        )
    outcome = await service.chat(principal, completion, **common)
    return GenerateResponse(
        generated_text=outcome.result.content or "",
        model=outcome.model,
        tokens_generated=outcome.result.usage.output_tokens,
        cached=outcome.cached,
    )


async def _generate_events(stream: StreamOutcome) -> AsyncIterator[bytes]:
    pieces: list[str] = []
    output_tokens: int | None = None
    async for chunk in stream.chunks:
        if chunk.content:
            pieces.append(chunk.content)
            yield sse_data({"text": chunk.content})
        if chunk.usage is not None:
            output_tokens = chunk.usage.output_tokens
    final = GenerateResponse(
        generated_text="".join(pieces),
        model=stream.model,
        tokens_generated=output_tokens if output_tokens is not None else stream.usage.output_tokens,
        cached=stream.cached,
    )
    yield sse_data({**final.model_dump(), "done": True})
    yield sse_data("[DONE]")


@router.post("/v1/chat", response_model=ChatTurnResponse)
async def chat_turn(
    body: ChatTurnRequest,
    request: Request,
    response: Response,
    principal: InferencePrincipal,
    sessions: Annotated[ChatSessionService, Depends(get_chat_sessions)],
) -> Any:
    turn_of = sessions.turn_stream if body.stream else sessions.turn
    turn = await turn_of(
        principal,
        body.message,
        session_id=body.session_id,
        model=body.model,
        system=body.system,
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        request_id=request_id(request),
        use_cache=cache_allowed(request),
    )
    if isinstance(turn, ChatTurnStream):
        return sse_response(
            guarded(_chat_events(turn), request.url.path),
            {"x-cache": "hit" if turn.cached else "miss", "x-session-id": turn.session_id},
        )
    if turn.history_warning:
        response.headers["x-history-warning"] = turn.history_warning
    return _turn_body(turn)


def _turn_body(turn: ChatTurn) -> ChatTurnResponse:
    return ChatTurnResponse(
        session_id=turn.session_id,
        reply=turn.reply,
        model=turn.model,
        tokens_generated=turn.tokens_generated,
        cached=turn.cached,
        history_length=turn.history_length,
    )


async def _chat_events(stream: ChatTurnStream) -> AsyncIterator[bytes]:
    async for event in stream.events:
        if isinstance(event, ChatTurn):
            yield sse_data({**_turn_body(event).model_dump(), "done": True})
        else:
            yield sse_data({"text": event})
    yield sse_data("[DONE]")
