"""OpenAI-compatible endpoints: chat completions, completions, embeddings, models."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from inference_core.api.deps import cache_allowed, get_inference_service, get_registry, request_id
from inference_core.api.sse import guarded, openai_sse, sse_response
from inference_core.auth.deps import get_inference_principal, get_principal
from inference_core.auth.principal import Principal
from inference_core.canonical import ChatChunk, Usage
from inference_core.inference.service import InferenceService, StreamOutcome
from inference_core.openai_bodies import (
    chat_completion_body,
    chat_completion_chunks,
    completion_body,
    completion_chunks,
    embedding_body,
)
from inference_core.registry import ModelEntry, ModelRegistry
from inference_core.schemas.openai import (
    ChatCompletionRequest,
    CompletionCreateRequest,
    EmbeddingCreateRequest,
    StreamOptions,
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
    chat = body.to_chat_request()
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    common: dict[str, Any] = {
        "model": body.model,
        "endpoint": "chat.completions",
        "request_id": request_id(request),
        "use_cache": cache_allowed(request),
    }
    if body.stream:
        outcome = await service.chat_stream(principal, chat, **common)
        events = chat_completion_chunks(
            outcome.chunks,
            outcome.model,
            completion_id,
            created,
            include_usage=_include_usage(body.stream_options),
            settled_usage=_settled(outcome),
        )
        return sse_response(
            guarded(openai_sse(events), request.url.path), {"x-cache": _hit(outcome.cached)}
        )
    result = await service.chat(principal, chat, **common)
    body_out = chat_completion_body(result.result, result.model, completion_id, created)
    return _json(body_out, result.cached)


@router.post("/v1/completions")
async def create_completion(
    body: CompletionCreateRequest,
    request: Request,
    principal: InferencePrincipal,
    service: Service,
) -> Response:
    completion = body.to_completion_request()
    completion_id = f"cmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    common: dict[str, Any] = {
        "model": body.model,
        "endpoint": "completions",
        "request_id": request_id(request),
        "use_cache": cache_allowed(request),
    }
    if body.stream:
        outcome = await service.chat_stream(principal, completion, **common)
        events = completion_chunks(
            outcome.chunks,
            outcome.model,
            completion_id,
            created,
            include_usage=_include_usage(body.stream_options),
            settled_usage=_settled(outcome),
        )
        return sse_response(
            guarded(openai_sse(events), request.url.path), {"x-cache": _hit(outcome.cached)}
        )
    result = await service.chat(principal, completion, **common)
    body_out = completion_body(result.result, result.model, completion_id, created)
    return _json(body_out, result.cached)


def _include_usage(options: StreamOptions | None) -> bool:
    return bool(options and options.include_usage)


def _settled(outcome: StreamOutcome) -> Callable[[], Usage]:
    """The usage the service settled the stream with (read once the stream is exhausted)."""
    return lambda: Usage(outcome.usage.input_tokens, outcome.usage.output_tokens)


@router.post("/v1/embeddings")
async def create_embeddings(
    body: EmbeddingCreateRequest,
    request: Request,
    principal: InferencePrincipal,
    service: Service,
) -> Response:
    outcome = await service.embed(
        principal,
        body.inputs,
        model=body.model,
        endpoint="embeddings",
        request_id=request_id(request),
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
                "cached_input_price_per_mtok": d.cached_input_price_per_mtok,
                "context_window": d.context_window,
            }
            for d in entry.deployments
        ],
    }


def _anthropic_model(entry: ModelEntry) -> dict[str, Any]:
    """Anthropic's ModelInfo for an alias (what the Anthropic SDK's `models.list` reads)."""
    created = datetime.fromtimestamp(entry.created, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "model",
        "id": entry.alias,
        "display_name": entry.display_name or entry.alias,
        "created_at": created,
        "lifecycle": "active",
        "max_input_tokens": max(d.context_window for d in entry.deployments),
        # Only where the registry says (otherwise the gateway-wide IC_MAX_TOKENS_CAP applies).
        "max_tokens": max((d.max_output_tokens or 0) for d in entry.deployments) or None,
    }


def _speaks_anthropic(request: Request) -> bool:
    """Anthropic's clients send `anthropic-version` on every request; OpenAI's never do."""
    return "anthropic-version" in request.headers


@router.get("/v1/models")
async def list_models(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    registry: Annotated[ModelRegistry, Depends(get_registry)],
) -> dict[str, Any]:
    entries = [e for e in registry.entries() if principal.can_use(e.alias)]
    if _speaks_anthropic(request):
        data = [_anthropic_model(e) for e in entries]
        return {
            "data": data,
            "has_more": False,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    return {"object": "list", "data": [_model_card(e) for e in entries]}


@router.get("/v1/models/{model_id:path}")
async def retrieve_model(
    request: Request,
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
    if _speaks_anthropic(request):
        return _anthropic_model(entry)
    return _model_card(entry)


def _hit(cached: bool | None) -> str:
    return "hit" if cached else "miss"


def _json(payload: dict[str, Any], cached: bool | None) -> Response:
    from fastapi.responses import JSONResponse

    headers = {"x-cache": _hit(cached)} if cached is not None else None
    return JSONResponse(payload, headers=headers)


__all__ = ["ChatChunk", "chat_completion_body", "router"]
