"""The gateway's own endpoints: `/v1/generate` (one prompt) and `/v1/chat` (server-kept history)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from inference_core.api.deps import (
    cache_allowed,
    get_chat_history,
    get_inference_service,
    request_id,
)
from inference_core.auth.deps import get_inference_principal
from inference_core.auth.principal import Principal
from inference_core.canonical import ChatRequest, CompletionRequest
from inference_core.db.chat_history import ChatHistoryRepository
from inference_core.estimate import CHARS_PER_TOKEN
from inference_core.inference.service import InferenceService
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
) -> GenerateResponse:
    entry = service.resolve(
        principal, body.model, prompt_chars=len(body.prompt), max_tokens=body.max_tokens
    )
    outcome = await service.chat(
        principal,
        CompletionRequest(
            prompt=body.prompt, max_tokens=body.max_tokens, temperature=body.temperature
        ),
        entry=entry,
        endpoint="generate",
        request_id=request_id(request),
        use_cache=cache_allowed(request),
    )
    return GenerateResponse(
        generated_text=outcome.result.content or "",
        model=outcome.model,
        tokens_generated=outcome.result.usage.output_tokens,
        cached=outcome.cached,
    )


@router.post("/v1/chat", response_model=ChatTurnResponse)
async def chat_turn(
    body: ChatTurnRequest,
    request: Request,
    principal: InferencePrincipal,
    service: Service,
    history_repo: Annotated[ChatHistoryRepository, Depends(get_chat_history)],
) -> ChatTurnResponse:
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
    outcome = await service.chat(
        principal,
        ChatRequest(messages=prompt, max_tokens=body.max_tokens, temperature=body.temperature),
        entry=entry,
        endpoint="chat",
        request_id=request_id(request),
        use_cache=cache_allowed(request),
    )
    reply = outcome.result.content or ""
    messages.append({"role": "assistant", "content": reply})
    await asyncio.to_thread(
        history_repo.save,
        session_id,
        principal.user_id,
        entry.alias,
        messages,
        get_settings().inference.chat_session_ttl_seconds,
    )
    return ChatTurnResponse(
        session_id=session_id,
        reply=reply,
        model=outcome.model,
        tokens_generated=outcome.result.usage.output_tokens,
        cached=outcome.cached,
        history_length=len(messages),
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
