"""FastAPI dependencies for the inference side: one cached factory per process, overridable in tests
with `app.dependency_overrides` (auth's dependencies live in `inference_core.auth.deps`)."""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request

from inference_core.db.cache import CacheRepository
from inference_core.db.chat_history import ChatHistoryRepository
from inference_core.db.models import configure_models
from inference_core.db.usage import UsageRepository
from inference_core.inference.service import InferenceService
from inference_core.registry import ModelRegistry, load_registry
from inference_core.settings import Settings, get_settings


@lru_cache(maxsize=1)
def _bound_settings() -> Settings:
    settings = get_settings()
    configure_models(settings)
    return settings


def get_registry() -> ModelRegistry:
    return load_registry(get_settings().inference.model_registry_path)


@lru_cache(maxsize=1)
def get_inference_service() -> InferenceService:
    from inference_core.observability import get_tracer
    from inference_core.providers import create_provider
    from inference_core.router import Router

    settings = _bound_settings()
    registry = get_registry()
    router = Router(
        registry,
        provider_factory=lambda name: create_provider(name, settings),
        settings=settings,
        tracer=None if settings.aws.local_mode else get_tracer(),
    )
    return InferenceService(
        settings=settings,
        registry=registry,
        router=router,
        cache=CacheRepository(),
        usage=UsageRepository(),
    )


@lru_cache(maxsize=1)
def get_chat_history() -> ChatHistoryRepository:
    settings = _bound_settings().inference
    return ChatHistoryRepository(
        max_turns=settings.chat_history_max_turns, max_bytes=settings.chat_history_max_bytes
    )


def reset_dependencies() -> None:
    """Forget every cached dependency (tests, and the CLI after it changes settings)."""
    from inference_core.auth.deps import reset_auth_dependencies

    reset_auth_dependencies()
    _bound_settings.cache_clear()
    get_inference_service.cache_clear()
    get_chat_history.cache_clear()
    load_registry.cache_clear()


def request_id(request: Request) -> str:
    from inference_core.api.middleware import current_correlation_id

    return current_correlation_id()


def cache_allowed(request: Request) -> bool:
    """`Cache-Control: no-cache` (or `no-store`) from the client skips the response cache."""
    value = request.headers.get("cache-control", "").lower()
    return "no-cache" not in value and "no-store" not in value
