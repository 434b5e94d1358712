"""The gateway's own endpoints: `/v1/generate` (one prompt) and `/v1/chat` (server-kept history).

Both answer as JSON, or with `"stream": true` as server-sent events: `{"text": piece}` per piece,
then the same body the JSON answer has plus `"done": true`, then `[DONE]`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from inference_core.api.deps import (
    cache_allowed,
    get_chat_history,
    get_inference_service,
    request_id,
)
from inference_core.api.sse import guarded, sse_data, sse_response
from inference_core.auth.deps import get_inference_principal
from inference_core.auth.principal import Principal
from inference_core.canonical import ChatRequest, CompletionRequest
from inference_core.db.chat_history import ChatHistoryRepository
from inference_core.estimate import CHARS_PER_TOKEN
from inference_core.inference.service import InferenceService, StreamOutcome
from inference_core.schemas.native import (
    ChatTurnRequest,
    ChatTurnResponse,
    GenerateRequest,
    GenerateResponse,
)
from inference_core.settings import get_settings

router = APIRouter(tags=["native"])

InferencePrincipal = Annotated[Principal, Depends(get_inference_principal)]
Service = Annotated[InferenceService, Depends(get_inference_service)]


@router.post("/v1/generate", response_model=GenerateResponse)
async def generate(
    body: GenerateRequest, request: Request, principal: InferencePrincipal, service: Service
) -> Any:
    entry = service.resolve(
        principal, body.model, prompt_chars=len(body.prompt), max_tokens=body.max_tokens
    )
    completion = CompletionRequest(
        prompt=body.prompt, max_tokens=body.max_tokens, temperature=body.temperature
    )
    common: dict[str, Any] = {
        "entry": entry,
        "endpoint": "generate",
        "request_id": request_id(request),
        "use_cache": cache_allowed(request),
    }
    if body.stream:
        stream = await service.chat_stream(principal, completion, **common)

        def finished(text: str, output_tokens: int) -> dict[str, Any]:
            return GenerateResponse(
                generated_text=text,
                model=stream.model,
                tokens_generated=output_tokens,
                cached=stream.cached,
            ).model_dump()

        return sse_response(
            guarded(_native_events(stream, finished), request.url.path),
            {"x-cache": "hit" if stream.cached else "miss"},
        )
    outcome = await service.chat(principal, completion, **common)
    return GenerateResponse(
        generated_text=outcome.result.content or "",
        model=outcome.model,
        tokens_generated=outcome.result.usage.output_tokens,
        cached=outcome.cached,
    )


async def _native_events(
    stream: StreamOutcome,
    finished: Callable[[str, int], Awaitable[dict[str, Any]] | dict[str, Any]],
) -> AsyncIterator[bytes]:
    """`{"text": piece}` per piece, then the endpoint's whole answer with `"done": true`, then
    `[DONE]`; a failure midway ends it with an error event (see `api.sse.guarded`)."""
    pieces: list[str] = []
    output_tokens: int | None = None
    async for chunk in stream.chunks:
        if chunk.content:
            pieces.append(chunk.content)
            yield sse_data({"text": chunk.content})
        if chunk.usage is not None:
            output_tokens = chunk.usage.output_tokens
    text = "".join(pieces)
    final = finished(
        text, output_tokens if output_tokens is not None else stream.usage.output_tokens
    )
    if not isinstance(final, dict):
        final = await final
    yield sse_data({**final, "done": True})
    yield sse_data("[DONE]")


@router.post("/v1/chat", response_model=ChatTurnResponse)
async def chat_turn(
    body: ChatTurnRequest,
    request: Request,
    principal: InferencePrincipal,
    service: Service,
    history_repo: Annotated[ChatHistoryRepository, Depends(get_chat_history)],
) -> Any:
    session_id = body.session_id or uuid.uuid4().hex
    history: list[dict[str, Any]] = []
    if body.session_id:
        history = await asyncio.to_thread(history_repo.load, session_id, principal.user_id)
    messages = [*history, {"role": "user", "content": body.message}]
    entry = service.registry.resolve(body.model)
    system = [{"role": "system", "content": body.system}] if body.system else []
    kept = _fit_history(messages, system, entry.context_window, body.max_tokens)
    prompt = [*system, *kept]
    entry = service.resolve(
        principal,
        body.model,
        prompt_chars=sum(len(m["content"]) for m in prompt),
        max_tokens=body.max_tokens,
    )
    chat = ChatRequest(messages=prompt, max_tokens=body.max_tokens, temperature=body.temperature)
    common: dict[str, Any] = {
        "entry": entry,
        "endpoint": "chat",
        "request_id": request_id(request),
        "use_cache": cache_allowed(request),
    }

    async def save(reply: str) -> list[dict[str, Any]]:
        history = [*messages, {"role": "assistant", "content": reply}]
        await asyncio.to_thread(
            history_repo.save,
            session_id,
            principal.user_id,
            entry.alias,
            history,
            get_settings().inference.chat_session_ttl_seconds,
        )
        return history

    if body.stream:
        stream = await service.chat_stream(principal, chat, **common)

        async def finished(reply: str, output_tokens: int) -> dict[str, Any]:
            history = await save(reply)  # the turn is kept only once the reply is whole
            return ChatTurnResponse(
                session_id=session_id,
                reply=reply,
                model=stream.model,
                tokens_generated=output_tokens,
                cached=stream.cached,
                history_length=len(history),
            ).model_dump()

        return sse_response(
            guarded(_native_events(stream, finished), request.url.path),
            {"x-cache": "hit" if stream.cached else "miss", "x-session-id": session_id},
        )
    outcome = await service.chat(principal, chat, **common)
    reply = outcome.result.content or ""
    history = await save(reply)
    return ChatTurnResponse(
        session_id=session_id,
        reply=reply,
        model=outcome.model,
        tokens_generated=outcome.result.usage.output_tokens,
        cached=outcome.cached,
        history_length=len(history),
    )


def _fit_history(
    messages: list[dict[str, Any]],
    system: list[dict[str, Any]],
    context_window: int,
    max_tokens: int,
) -> list[dict[str, Any]]:
    """The most recent turns that fit the model's context window (the whole history stays stored).
    The newest user message is always kept: if it alone cannot fit, `resolve` refuses it (400)."""
    budget = (context_window - max_tokens) * CHARS_PER_TOKEN - sum(
        len(m["content"]) for m in system
    )
    kept: list[dict[str, Any]] = []
    used = 0
    for message in reversed(messages):
        used += len(message["content"])
        if kept and used > budget:
            break
        kept.append(message)
    return kept[::-1]
