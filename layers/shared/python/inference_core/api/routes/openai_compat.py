"""OpenAI-compatible endpoints: chat completions, completions, embeddings, models."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from inference_core.api.deps import cache_allowed, get_inference_service, get_registry, request_id
from inference_core.api.sse import guarded, sse_data, sse_response
from inference_core.auth.deps import get_inference_principal, get_principal
from inference_core.auth.principal import Principal
from inference_core.canonical import ChatChunk, Usage
from inference_core.inference.service import InferenceService, StreamOutcome
from inference_core.openai_bodies import (
    chat_completion_body,
    completion_body,
    embedding_body,
)
from inference_core.openai_bodies import usage_body as _usage
from inference_core.registry import ModelEntry, ModelRegistry
from inference_core.schemas.openai import (
    ChatCompletionRequest,
    CompletionCreateRequest,
    EmbeddingCreateRequest,
)

router = APIRouter(tags=["openai"])

InferencePrincipal = Annotated[Principal, Depends(get_inference_principal)]
Service = Annotated[InferenceService, Depends(get_inference_service)]


@router.post("/v1/chat/completions")
async def create_chat_completion(
    body: ChatCompletionRequest,
    request: Request,
    principal: InferencePrincipal,
    service: Service,
) -> Response:
    entry = service.resolve(
        principal,
        body.model,
        prompt_chars=body.prompt_chars(),
        max_tokens=body.effective_max_tokens(),
    )
    chat = body.to_chat_request()
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    common: dict[str, Any] = {
        "entry": entry,
        "endpoint": "chat.completions",
        "request_id": request_id(request),
        "use_cache": cache_allowed(request),
    }
    if body.stream:
        outcome = await service.chat_stream(principal, chat, **common)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = _chat_chunks(outcome, completion_id, created, include_usage)
        return sse_response(guarded(events, request.url.path), {"x-cache": _hit(outcome.cached)})
    result = await service.chat(principal, chat, **common)
    body_out = chat_completion_body(result.result, result.model, completion_id, created)
    return _json(body_out, result.cached)


async def _chat_chunks(
    outcome: StreamOutcome, completion_id: str, created: int, include_usage: bool
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": outcome.model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    yield sse_data(chunk({"role": "assistant", "content": ""}, None))
    final_usage: Usage | None = None
    async for piece in outcome.chunks:
        delta: dict[str, Any] = {}
        if piece.content:
            delta["content"] = piece.content
        if piece.tool_calls:
            delta["tool_calls"] = piece.tool_calls
        if piece.usage is not None:
            final_usage = piece.usage
        if delta or piece.finish_reason:
            yield sse_data(chunk(delta, piece.finish_reason))
    if include_usage:
        usage_chunk = chunk({}, None)
        usage_chunk["choices"] = []
        usage_chunk["usage"] = _usage(
            final_usage or Usage(outcome.usage.input_tokens, outcome.usage.output_tokens)
        )
        yield sse_data(usage_chunk)
    yield sse_data("[DONE]")


@router.post("/v1/completions")
async def create_completion(
    body: CompletionCreateRequest,
    request: Request,
    principal: InferencePrincipal,
    service: Service,
) -> Response:
    entry = service.resolve(
        principal, body.model, prompt_chars=len(body.prompt_text), max_tokens=body.max_tokens
    )
    completion = body.to_completion_request()
    completion_id = f"cmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    common: dict[str, Any] = {
        "entry": entry,
        "endpoint": "completions",
        "request_id": request_id(request),
        "use_cache": cache_allowed(request),
    }
    if body.stream:
        outcome = await service.chat_stream(principal, completion, **common)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = _completion_chunks(outcome, completion_id, created, include_usage)
        return sse_response(guarded(events, request.url.path), {"x-cache": _hit(outcome.cached)})
    result = await service.chat(principal, completion, **common)
    body_out = completion_body(result.result, result.model, completion_id, created)
    return _json(body_out, result.cached)


async def _completion_chunks(
    outcome: StreamOutcome, completion_id: str, created: int, include_usage: bool
) -> AsyncIterator[bytes]:
    final_usage: Usage | None = None
    async for piece in outcome.chunks:
        if piece.usage is not None:
            final_usage = piece.usage
        if piece.content or piece.finish_reason:
            yield sse_data(
                {
                    "id": completion_id,
                    "object": "text_completion",
                    "created": created,
                    "model": outcome.model,
                    "choices": [
                        {
                            "index": 0,
                            "text": piece.content or "",
                            "finish_reason": piece.finish_reason,
                            "logprobs": None,
                        }
                    ],
                }
            )
    if include_usage:
        yield sse_data(
            {
                "id": completion_id,
                "object": "text_completion",
                "created": created,
                "model": outcome.model,
                "choices": [],
                "usage": _usage(
                    final_usage or Usage(outcome.usage.input_tokens, outcome.usage.output_tokens)
                ),
            }
        )
    yield sse_data("[DONE]")


@router.post("/v1/embeddings")
async def create_embeddings(
    body: EmbeddingCreateRequest,
    request: Request,
    principal: InferencePrincipal,
    service: Service,
) -> Response:
    inputs = body.inputs
    entry = service.resolve(
        principal, body.model, prompt_chars=sum(map(len, inputs)), max_tokens=None
    )
    outcome = await service.embed(
        principal, inputs, entry=entry, endpoint="embeddings", request_id=request_id(request)
    )
    return _json(
        embedding_body(
            outcome.result,
            outcome.model,
            dimensions=body.dimensions,
            encoding_format=body.encoding_format,
        ),
        None,
    )


def _model_card(entry: ModelEntry) -> dict[str, Any]:
    return {
        "id": entry.alias,
        "object": "model",
        "created": entry.created,
        "owned_by": entry.owned_by,
        "context_window": entry.context_window,
        "embeddings": entry.embeddings,
        "deployments": [
            {
                "provider": d.provider,
                "input_price_per_mtok": d.input_price_per_mtok,
                "output_price_per_mtok": d.output_price_per_mtok,
                "context_window": d.context_window,
            }
            for d in entry.deployments
        ],
    }


@router.get("/v1/models")
async def list_models(
    principal: Annotated[Principal, Depends(get_principal)],
    registry: Annotated[ModelRegistry, Depends(get_registry)],
) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [_model_card(e) for e in registry.entries() if principal.can_use(e.alias)],
    }


@router.get("/v1/models/{model_id:path}")
async def retrieve_model(
    model_id: str,
    principal: Annotated[Principal, Depends(get_principal)],
    registry: Annotated[ModelRegistry, Depends(get_registry)],
) -> dict[str, Any]:
    from inference_core.errors import NotFoundError

    entry = registry.resolve(model_id)
    if not principal.can_use(entry.alias):
        raise NotFoundError(
            f"The model '{model_id}' does not exist or you do not have access to it.",
            code="model_not_found",
        )
    return _model_card(entry)


def _hit(cached: bool | None) -> str:
    return "hit" if cached else "miss"


def _json(payload: dict[str, Any], cached: bool | None) -> Response:
    from fastapi.responses import JSONResponse

    headers = {"x-cache": _hit(cached)} if cached is not None else None
    return JSONResponse(payload, headers=headers)


__all__ = ["ChatChunk", "chat_completion_body", "router"]
