"""The process's object graph for inference: settings bound to the PynamoDB models, the model
registry, the router over the providers, the repositories and the services, each built once.

The one place that composes them, so the API (`api/deps.py`, FastAPI `Depends` wrappers only) and
the batch worker (`batch/runtime.py`) get the same service built the same way. Nothing here
imports FastAPI, and nothing is built at import time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from inference_core.registry import ModelRegistry, load_registry

if TYPE_CHECKING:
    from inference_core.db.chat_history import ChatHistoryRepository
    from inference_core.governance import Governance
    from inference_core.inference.chat_sessions import ChatSessionService
    from inference_core.inference.responses import ResponsesService
    from inference_core.inference.service import InferenceService
    from inference_core.router import Router
    from inference_core.settings import Settings
    from inference_core.text_processing.service import TextProcessingService


@lru_cache(maxsize=1)
def bound_settings() -> Settings:
    """The settings, with the PynamoDB models pointed at their tables (once per process)."""
    from inference_core.db.models import configure_models
    from inference_core.settings import get_settings

    settings = get_settings()
    configure_models(settings)
    return settings


def get_registry() -> ModelRegistry:
    from inference_core.settings import get_settings  # pydantic-settings: not at import

    return load_registry(get_settings().inference.model_registry_path)


@lru_cache(maxsize=1)
def get_router() -> Router:
    from inference_core.observability import get_tracer
    from inference_core.providers import create_provider
    from inference_core.router import Router

    settings = bound_settings()
    return Router(
        get_registry(),
        provider_factory=lambda name: create_provider(name, settings),
        settings=settings,
        tracer=None if settings.aws.local_mode else get_tracer(),
    )


@lru_cache(maxsize=1)
def get_governance() -> Governance:
    """The process's governance: the resolution cache and the admission store (one per process,
    shared by the API's inference routes, its auth dependency and the batch worker)."""
    from inference_core.governance import Governance

    return Governance(settings=bound_settings())


@lru_cache(maxsize=1)
def get_inference_service() -> InferenceService:
    from inference_core.db.cache import CacheRepository
    from inference_core.db.usage import UsageRepository
    from inference_core.inference.service import InferenceService

    settings = bound_settings()
    return InferenceService(
        settings=settings,
        registry=get_registry(),
        router=get_router(),
        cache=CacheRepository(),
        usage=UsageRepository(),
        governance=get_governance(),
    )


@lru_cache(maxsize=1)
def get_chat_history() -> ChatHistoryRepository:
    from inference_core.db.chat_history import ChatHistoryRepository

    settings = bound_settings().inference
    return ChatHistoryRepository(
        max_turns=settings.chat_history_max_turns, max_bytes=settings.chat_history_max_bytes
    )


@lru_cache(maxsize=1)
def get_chat_sessions() -> ChatSessionService:
    from inference_core.inference.chat_sessions import ChatSessionService

    return ChatSessionService(
        inference=get_inference_service(),
        history=get_chat_history(),
        ttl_seconds=bound_settings().inference.chat_session_ttl_seconds,
    )


@lru_cache(maxsize=1)
def get_responses_service() -> ResponsesService:
    from inference_core.db.responses import ResponsesRepository
    from inference_core.inference.responses import ResponsesService

    return ResponsesService(
        inference=get_inference_service(),
        store=ResponsesRepository(),
        ttl_seconds=bound_settings().inference.responses_ttl_seconds,
    )


@lru_cache(maxsize=1)
def get_text_processing() -> TextProcessingService:
    from inference_core.text_processing.service import TextProcessingService

    return TextProcessingService(
        inference=get_inference_service(), settings=bound_settings().text_processing
    )


def reset_wiring() -> None:
    """Forget everything built here (tests, and the CLI after it changes settings)."""
    bound_settings.cache_clear()
    get_router.cache_clear()
    get_governance.cache_clear()
    get_inference_service.cache_clear()
    get_chat_history.cache_clear()
    get_chat_sessions.cache_clear()
    get_responses_service.cache_clear()
    get_text_processing.cache_clear()
    load_registry.cache_clear()
