"""The OpenAI provider: chat, legacy completions and embeddings through the official `openai` SDK.

Our canonical request already is OpenAI's chat format, so the translation is thin: drop what is
unset, read the SDK's objects back into ours, map its errors onto `ProviderError`s. The SDK's own
retries are off (the router owns the one retry loop), and the upstream URL and key come only from
settings, the constructor or the deployment's registry entry (`base_url`, `api_key`: a key name),
never from a client's request; so one adapter serves any number of OpenAI-compatible upstreams. Importing this module imports the SDK,
so `providers.create_provider` imports it only when an `openai` deployment is used.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import openai

from inference_core.canonical import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    CompletionRequest,
    Deployment,
    EmbeddingResult,
    Usage,
)
from inference_core.errors import (
    ProviderError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from inference_core.provider_keys import KeyResolver, provider_keys
from inference_core.providers.base import Provider
from inference_core.providers.clients import UpstreamClients
from inference_core.upstream_errors import error_for_status, retry_after_seconds

if TYPE_CHECKING:
    from inference_core.settings import Settings

PROVIDER = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider(Provider):
    """OpenAI's chat completions, completions and embeddings APIs."""

    name = PROVIDER

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        http_client: Any = None,
        keys: KeyResolver | None = None,
    ):
        """`http_client` is an async client of the HTTP library the SDK is built on (`httpx2`
        for current releases, `httpx` for older ones); tests pass one over a mock transport.
        `keys` resolves a key by name at call time (so a rotated key takes over); without it,
        `api_key` is the one key."""
        self._clients = UpstreamClients(
            PROVIDER,
            sdk=openai.AsyncOpenAI,
            default_base_url=base_url or DEFAULT_BASE_URL,
            timeout_seconds=timeout_seconds,
            http_client=http_client,
            api_key=api_key,
            keys=keys,
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, http_client: Any = None) -> OpenAIProvider:
        return cls(
            api_key=None,
            # Optional setting (a mock upstream, a regional or proxy endpoint); operator-only.
            base_url=getattr(settings.inference, "openai_base_url", None),
            timeout_seconds=settings.inference.upstream_timeout_seconds,
            http_client=http_client,
            keys=provider_keys(settings).get,
        )

    def __repr__(self) -> str:  # never the key
        return f"OpenAIProvider(configured={self.is_configured()})"

    def is_configured(self) -> bool:
        return self._clients.is_configured()

    # ---- chat ----

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        try:
            response = await self._clients.for_deployment(deployment).chat.completions.create(
                **_chat_params(request, deployment)
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc) from _safe_cause(exc)
        if not response.choices:
            raise UpstreamBadResponseError(
                "The upstream provider 'openai' returned no choices.", provider=PROVIDER
            )
        choice = response.choices[0]
        message = choice.message
        tool_calls = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for call in message.tool_calls or []
            if getattr(call, "type", "function") == "function"
        ]
        content = message.content
        if content is None and getattr(message, "refusal", None):
            content = message.refusal
        return ChatResult(
            content=content,
            finish_reason=_finish_reason(choice.finish_reason) or "stop",
            usage=_usage(response.usage),
            tool_calls=tool_calls or None,
            logprobs=_logprobs(choice),
        )

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        params = _chat_params(request, deployment)
        try:
            stream = await self._clients.for_deployment(deployment).chat.completions.create(
                **params, stream=True, stream_options={"include_usage": True}
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc) from _safe_cause(exc)
        # aclosing: a client that hangs up mid-stream must release the upstream connection now.
        async with aclosing(_relay(stream, _chat_chunk)) as chunks:
            async for chunk in chunks:
                yield chunk

    # ---- legacy completions ----

    async def complete(self, request: CompletionRequest, deployment: Deployment) -> ChatResult:
        try:
            response = await self._clients.for_deployment(deployment).completions.create(
                **_completion_params(request, deployment)
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc) from _safe_cause(exc)
        if not response.choices:
            raise UpstreamBadResponseError(
                "The upstream provider 'openai' returned no choices.", provider=PROVIDER
            )
        choice = response.choices[0]
        return ChatResult(
            content=choice.text,
            finish_reason=_finish_reason(choice.finish_reason) or "stop",
            usage=_usage(response.usage),
        )

    async def complete_stream(
        self, request: CompletionRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        params = _completion_params(request, deployment)
        try:
            stream = await self._clients.for_deployment(deployment).completions.create(
                **params, stream=True, stream_options={"include_usage": True}
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc) from _safe_cause(exc)
        # aclosing: a client that hangs up mid-stream must release the upstream connection now.
        async with aclosing(_relay(stream, _completion_chunk)) as chunks:
            async for chunk in chunks:
                yield chunk

    # ---- embeddings ----

    async def embed(self, inputs: list[str], deployment: Deployment) -> EmbeddingResult:
        try:
            response = await self._clients.for_deployment(deployment).embeddings.create(
                model=deployment.model, input=inputs, encoding_format="float"
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc) from _safe_cause(exc)
        vectors = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
        if len(vectors) != len(inputs):
            raise UpstreamBadResponseError(
                "The upstream provider 'openai' returned the wrong number of embeddings.",
                provider=PROVIDER,
            )
        tokens = response.usage.prompt_tokens if response.usage else 0
        return EmbeddingResult(vectors=[list(v) for v in vectors], usage=Usage(tokens, 0))


def provider_error(exc: openai.OpenAIError) -> ProviderError:
    """Our error for an `openai` SDK error; the message is ours, never the upstream body."""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamTimeoutError(
            "The upstream provider 'openai' timed out.", retryable=True, provider=PROVIDER
        )
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamUnavailableError(
            "The upstream provider 'openai' could not be reached.",
            retryable=True,
            provider=PROVIDER,
        )
    if isinstance(exc, openai.APIStatusError):
        return error_for_status(
            exc.status_code,
            provider=PROVIDER,
            retry_after=retry_after_seconds(exc.response.headers),
        )
    # An error event inside a stream, or a body the SDK could not parse.
    return UpstreamBadResponseError(
        "The upstream provider 'openai' sent an error or an unreadable response.",
        retryable=True,
        provider=PROVIDER,
    )


def _safe_cause(exc: BaseException) -> BaseException | None:
    """What to chain under our error. A status error's message holds the upstream body, which
    can echo a fragment of the key ("Incorrect API key provided: sk-…"); logs and traces see
    chained exceptions, so those are cut. Connection errors carry no body and help debugging."""
    return exc if isinstance(exc, openai.APIConnectionError) else None


async def _relay(
    stream: Any, to_chunk: Callable[[Any], ChatChunk | None]
) -> AsyncGenerator[ChatChunk, None]:
    """Our chunks from an SDK stream, with the finish reason and the usage in the last one.

    OpenAI sends the finish reason in one chunk and (with `include_usage`) the usage in a final
    chunk without choices; the finish chunk is held back until the usage arrives. A stream that
    breaks, or ends without a finish reason, raises UpstreamBadResponseError: half an answer must
    not pass for a whole one. `retryable` is set because the router retries a stream only before
    its first chunk, when nothing has reached the client yet.
    """
    held: ChatChunk | None = None
    try:
        async for event in stream:
            chunk = to_chunk(event)
            if chunk is None:
                continue
            if held is not None:
                if chunk.usage is not None:
                    held.usage = chunk.usage
                if chunk.content or chunk.tool_calls:  # not expected after the finish, but kept
                    yield ChatChunk(content=chunk.content, tool_calls=chunk.tool_calls)
            elif chunk.finish_reason:
                held = chunk
            else:
                yield chunk
    except openai.OpenAIError as exc:
        error = provider_error(exc)
        if isinstance(exc, openai.APIConnectionError):
            error = _stream_cut()
        raise error from _safe_cause(exc)
    except Exception as exc:  # the transport failed mid-body (a reset, a truncated chunk)
        raise _stream_cut() from exc
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            await close()
    if held is None:
        raise _stream_cut()
    yield held


def _stream_cut() -> UpstreamBadResponseError:
    return UpstreamBadResponseError(
        "The upstream provider 'openai' ended the stream before the answer was complete.",
        retryable=True,
        provider=PROVIDER,
    )


def _chat_chunk(event: Any) -> ChatChunk | None:
    usage = _usage(event.usage) if getattr(event, "usage", None) else None
    content = tool_calls = finish_reason = logprobs = None
    if event.choices:
        choice = event.choices[0]
        delta = choice.delta
        content = getattr(delta, "content", None) or None
        if getattr(delta, "tool_calls", None):
            tool_calls = [call.model_dump(exclude_none=True) for call in delta.tool_calls]
        finish_reason = _finish_reason(choice.finish_reason)
        logprobs = _logprobs(choice)
    if content is None and tool_calls is None and finish_reason is None and usage is None:
        return None  # the role-only opening chunk, or a keep-alive
    return ChatChunk(
        content=content,
        tool_calls=tool_calls,
        finish_reason=finish_reason,
        usage=usage,
        logprobs=logprobs,
    )


def _completion_chunk(event: Any) -> ChatChunk | None:
    usage = _usage(event.usage) if getattr(event, "usage", None) else None
    content = finish_reason = None
    if event.choices:
        choice = event.choices[0]
        content = choice.text or None
        finish_reason = _finish_reason(choice.finish_reason)
    if content is None and finish_reason is None and usage is None:
        return None
    return ChatChunk(content=content, finish_reason=finish_reason, usage=usage)


def _chat_params(request: ChatRequest, deployment: Deployment) -> dict[str, Any]:
    params: dict[str, Any] = {"model": deployment.model, "messages": request.messages}
    optional = {
        # `max_tokens` is deprecated for chat and refused by reasoning models.
        "max_completion_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop,
        "tools": request.tools,
        # Without tools OpenAI refuses a tool_choice; the request means "no tools" either way.
        "tool_choice": request.tool_choice if request.tools else None,
        "response_format": request.response_format,
        "seed": request.seed,
        "user": request.user,
        "reasoning_effort": request.reasoning_effort,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
        "logit_bias": request.logit_bias,
        # Only meaningful with tools; OpenAI refuses it without them.
        "parallel_tool_calls": request.parallel_tool_calls if request.tools else None,
        "prompt_cache_key": request.prompt_cache_key,
        "logprobs": request.logprobs,
        "top_logprobs": request.top_logprobs,
    }
    params.update({key: value for key, value in optional.items() if value is not None})
    return params


def _completion_params(request: CompletionRequest, deployment: Deployment) -> dict[str, Any]:
    params: dict[str, Any] = {"model": deployment.model, "prompt": request.prompt}
    optional = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop,
        "seed": request.seed,
    }
    params.update({key: value for key, value in optional.items() if value is not None})
    return params


def _finish_reason(reason: str | None) -> str | None:
    # The deprecated `function_call` is a tool call by another name.
    return "tool_calls" if reason == "function_call" else reason


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    cached = getattr(prompt_details, "cached_tokens", None)
    reasoning = getattr(completion_details, "reasoning_tokens", None)
    return Usage(
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached_input_tokens=int(cached) if cached is not None else None,
        reasoning_tokens=int(reasoning) if reasoning is not None else None,
    )


def _logprobs(choice: Any) -> dict[str, Any] | None:
    logprobs = getattr(choice, "logprobs", None)
    if logprobs is None:
        return None
    dumped: dict[str, Any] = logprobs.model_dump(exclude_none=True)
    return dumped or None
