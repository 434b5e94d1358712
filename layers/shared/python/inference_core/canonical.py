"""The canonical request and response types every layer shares; imports nothing of ours.

Our canonical shape is OpenAI's chat format (messages with `role`/`content`/`tool_calls`, stop
reasons `stop|length|tool_calls|content_filter`). Providers and translation turn it into each
upstream's shape and back; the inference service, the router and the API layer pass it around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Deployment:
    """One place a model alias can be served from (an entry of the model registry)."""

    provider: str  # "openai" | "anthropic" | "sagemaker" | "bedrock"
    model: str  # the upstream model id, the SageMaker endpoint name, or a Bedrock model/profile
    # Operator-set upstream of this deployment (never from a request): its base URL, and the name
    # of its key's entry in the provider-keys secret. None: the provider's defaults.
    base_url: str | None = None
    api_key: str | None = None
    input_price_per_mtok: float = 0.0  # USD per million input tokens
    output_price_per_mtok: float = 0.0
    context_window: int = 8192
    name: str = ""  # a label for logs and metrics; defaults to "provider:model"
    # USD per million prompt tokens the upstream served from its prompt cache; None: the
    # input price applies to them too.
    cached_input_price_per_mtok: float | None = None
    # The most `max_tokens` this deployment takes; None: the gateway's `IC_MAX_TOKENS_CAP`.
    max_output_tokens: int | None = None
    # Serve requests whose untranslatable fields are dropped (named in `x-ic-dropped-params`)
    # instead of refusing them with a 400.
    drop_unsupported: bool = False
    # SageMaker only: the inference component on the endpoint `model` (one that can scale to zero).
    inference_component: str | None = None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        # Two accounts serving one model are two deployments (own breaker, own usage lines).
        suffix = f"@{self.api_key}" if self.api_key else ""
        return f"{self.provider}:{self.model}{suffix}"

    def cost(self, usage: Usage) -> float:
        cached = min(usage.cached_input_tokens or 0, usage.input_tokens)
        cached_price = (
            self.input_price_per_mtok
            if self.cached_input_price_per_mtok is None
            else self.cached_input_price_per_mtok
        )
        return (
            (usage.input_tokens - cached) * self.input_price_per_mtok
            + cached * cached_price
            + usage.output_tokens * self.output_price_per_mtok
        ) / 1_000_000


@dataclass
class Usage:
    """Tokens billed. `input_tokens` includes the cached ones and `output_tokens` the reasoning
    ones (OpenAI's convention); the two details are None when the upstream does not report them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    # Of `input_tokens`, those written to the upstream's prompt cache (Anthropic's
    # `cache_creation_input_tokens`); None when the upstream does not report them.
    cache_creation_input_tokens: int | None = None


@dataclass
class AnthropicPassthrough:
    """A client's own Anthropic Messages request, forwarded as sent to Anthropic deployments.

    Only the Anthropic provider reads it; every other layer works on the canonical fields of the
    `ChatRequest` carrying it (translated from the same body), so validation, estimates, caching
    and usage apply alike. `betas` are the client's `anthropic-beta` values; `beta_query` its
    `?beta=true`.
    """

    body: dict[str, Any]
    betas: list[str] = field(default_factory=list)
    beta_query: bool = False


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
    # Optional sampling and tool parameters: a provider forwards them, or (parameters.py) the
    # request is refused before it reaches one that cannot honour them.
    reasoning_effort: str | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    parallel_tool_calls: bool | None = None
    prompt_cache_key: str | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    anthropic: AnthropicPassthrough | None = None
    # Fields of `anthropic.body` the canonical fields could not carry (e.g. "thinking",
    # "tools.3"): a non-Anthropic deployment refuses them unless it drops them.
    untranslated: list[str] | None = None


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
    logprobs: dict[str, Any] | None = None  # OpenAI's choice `logprobs` ({"content": [...]})
    stop_sequence: str | None = None  # the stop sequence that ended it, when the upstream says
    # The upstream's own Anthropic Message, for a pass-through request (`ChatRequest.anthropic`).
    anthropic_message: dict[str, Any] | None = None


@dataclass
class ChatChunk:
    """One streamed increment. `tool_calls` uses OpenAI's delta shape (with `index`)."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    logprobs: dict[str, Any] | None = None
    stop_sequence: str | None = None
    # The upstream's own Anthropic stream event, for a pass-through request.
    anthropic_event: dict[str, Any] | None = None


@dataclass
class EmbeddingResult:
    vectors: list[list[float]]
    usage: Usage = field(default_factory=Usage)
