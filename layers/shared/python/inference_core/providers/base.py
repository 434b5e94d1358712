"""The provider adapter interface.

Each adapter translates the canonical types (`inference_core.canonical`) to and from its upstream
and maps the upstream's errors onto `inference_core.errors.ProviderError` subclasses with
`retryable` set, so the router alone decides about retries (SDK-level retries are off).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from inference_core.canonical import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    CompletionRequest,
    Deployment,
    EmbeddingResult,
)
from inference_core.errors import InvalidRequestError


class Provider(ABC):
    """An upstream. Subclasses translate and execute; they never retry."""

    name: str = ""

    @abstractmethod
    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult: ...

    @abstractmethod
    def chat_stream(self, request: ChatRequest, deployment: Deployment) -> AsyncIterator[ChatChunk]:
        """An async iterator of chunks; the last carries `finish_reason`, and `usage` if known."""

    async def complete(self, request: CompletionRequest, deployment: Deployment) -> ChatResult:
        return await self.chat(request.as_chat(), deployment)

    def complete_stream(
        self, request: CompletionRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        return self.chat_stream(request.as_chat(), deployment)

    async def count_tokens(self, request: ChatRequest, deployment: Deployment) -> int | None:
        """The upstream's own count of `request`'s prompt tokens; None where it offers none (the
        gateway's estimator answers instead)."""
        return None

    async def embed(self, inputs: list[str], deployment: Deployment) -> EmbeddingResult:
        raise InvalidRequestError(
            f"model {deployment.model!r} does not support embeddings", code="model_not_supported"
        )

    def is_configured(self) -> bool:
        """Whether credentials/endpoint are present (for `/ready`); never makes a network call."""
        return True
