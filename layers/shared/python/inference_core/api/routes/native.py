"""The gateway's own endpoints: `/v1/generate` (one prompt) and `/v1/chat` (server-kept history)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from inference_core.api.deps import (
    cache_allowed,
    get_chat_sessions,
    get_inference_service,
    request_id,
)
from inference_core.auth.deps import get_inference_principal
from inference_core.auth.principal import Principal
from inference_core.canonical import CompletionRequest
from inference_core.inference.chat_sessions import ChatSessionService
from inference_core.inference.service import InferenceService
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
) -> GenerateResponse:
    outcome = await service.chat(
        principal,
        CompletionRequest(
            prompt=body.prompt, max_tokens=body.max_tokens, temperature=body.temperature
        ),
        model=body.model,
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
    sessions: Annotated[ChatSessionService, Depends(get_chat_sessions)],
) -> ChatTurnResponse:
    turn = await sessions.turn(
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
    return ChatTurnResponse(
        session_id=turn.session_id,
        reply=turn.reply,
        model=turn.model,
        tokens_generated=turn.tokens_generated,
        cached=turn.cached,
        history_length=turn.history_length,
    )
