"""FastAPI dependencies for the inference side: thin wrappers over the cached factories in
`inference_core.wiring` (shared with the batch worker), so tests override them with
`app.dependency_overrides` (auth's dependencies live in `inference_core.auth.deps`).

The services are `async def` although they do no I/O after the first call: FastAPI runs a plain
`def` dependency in its thread pool, one thread hop per dependency per request on the hot path.
(`get_registry` stays a plain function: the health checks call it directly.)"""

from __future__ import annotations

from fastapi import Request

from inference_core import wiring
from inference_core.inference.chat_sessions import ChatSessionService
from inference_core.inference.responses import ResponsesService
from inference_core.inference.service import InferenceService
from inference_core.registry import ModelRegistry
from inference_core.text_processing.service import TextProcessingService


def get_registry() -> ModelRegistry:
    return wiring.get_registry()


async def get_inference_service() -> InferenceService:
    return wiring.get_inference_service()


async def get_chat_sessions() -> ChatSessionService:
    return wiring.get_chat_sessions()


async def get_responses_service() -> ResponsesService:
    return wiring.get_responses_service()


async def get_text_processing() -> TextProcessingService:
    return wiring.get_text_processing()


def reset_dependencies() -> None:
    """Forget every cached dependency (tests, and the CLI after it changes settings)."""
    from inference_core.api.admin_deps import get_admin_service
    from inference_core.auth.deps import reset_auth_dependencies

    reset_auth_dependencies()
    get_admin_service.cache_clear()
    wiring.reset_wiring()


def request_id(request: Request) -> str:
    from inference_core.api.middleware import current_correlation_id

    return current_correlation_id()


def cache_allowed(request: Request) -> bool:
    """`Cache-Control: no-cache` (or `no-store`) from the client skips the response cache."""
    value = request.headers.get("cache-control", "").lower()
    return "no-cache" not in value and "no-store" not in value
