"""The provider adapter interface and the provider-neutral request/response types.

Our canonical shape is OpenAI's chat format (messages with `role`/`content`/`tool_calls`, stop
reasons `stop|length|tool_calls|content_filter`); each adapter translates to and from its upstream
and maps the upstream's errors onto `inference_core.errors.ProviderError` subclasses with
`retryable` set, so the router alone decides about retries (SDK-level retries are off).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from inference_core.errors import InvalidRequestError


@dataclass(frozen=True)
class Deployment:
    """One place a model alias can be served from (an entry of the model registry)."""

    provider: str  # "openai" | "anthropic" | "sagemaker"
    model: str  # the upstream model id, or the SageMaker endpoint name
    input_price_per_mtok: float = 0.0  # USD per million input tokens
    output_price_per_mtok: float = 0.0
    context_window: int = 8192
    name: str = ""  # a label for logs and metrics; defaults to "provider:model"

    @property
    def label(self) -> str:
        return self.name or f"{self.provider}:{self.model}"

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input_price_per_mtok
            + usage.output_tokens * self.output_price_per_mtok
        ) / 1_000_000


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class ChatRequest:
    """A chat request in OpenAI's message format, already validated by the API layer."""

    messages: list[dict[str, Any]]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    user: str | None = None


@dataclass
class CompletionRequest:
    """A legacy text completion (`/v1/completions`, `/v1/generate`)."""

    prompt: str
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None

    def as_chat(self) -> ChatRequest:
        return ChatRequest(
            messages=[{"role": "user", "content": self.prompt}],
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=self.stop,
            seed=self.seed,
        )


@dataclass
class ChatResult:
    content: str | None
    finish_reason: str  # OpenAI's: "stop" | "length" | "tool_calls" | "content_filter"
    usage: Usage
    tool_calls: list[dict[str, Any]] | None = (
        None  # OpenAI's shape: id, type, function{name, arguments}
    )


@dataclass
class ChatChunk:
    """One streamed increment. `tool_calls` uses OpenAI's delta shape (with `index`)."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass
class EmbeddingResult:
    vectors: list[list[float]]
    usage: Usage = field(default_factory=Usage)


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

    async def embed(self, inputs: list[str], deployment: Deployment) -> EmbeddingResult:
        raise InvalidRequestError(
            f"model {deployment.model!r} does not support embeddings", code="model_not_supported"
        )

    def is_configured(self) -> bool:
        """Whether credentials/endpoint are present (for `/ready`); never makes a network call."""
        return True
