"""The Anthropic provider: chat (plain and streamed) through the official `anthropic` SDK.

Requests and answers go through `inference_core.translation.anthropic_upstream`; this module
only executes them and maps the SDK's errors onto `ProviderError`s. Completions are chat with one user message
(the base class does that); Anthropic has no embeddings API, so `embed` keeps the base refusal.
A pass-through request (`ChatRequest.anthropic`, from `/v1/messages`) is sent as the client wrote
it, with its `anthropic-beta` values and `?beta=true`, and its answer comes back whole
(`ChatResult.anthropic_message`, `ChatChunk.anthropic_event`); `count_tokens` is Anthropic's own.
The SDK's own retries are off (the router owns the one retry loop); the upstream URL comes only
from settings or the constructor. Importing this module imports the SDK, so
`providers.create_provider` imports it only when an `anthropic` deployment is used.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import anthropic

from inference_core.canonical import (
    AnthropicPassthrough,
    ChatChunk,
    ChatRequest,
    ChatResult,
    Deployment,
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
from inference_core.translation.anthropic_upstream import (
    anthropic_message_to_chat_result,
    anthropic_stream_error,
    anthropic_stream_to_chunks,
    anthropic_stream_to_passthrough_chunks,
    chat_request_to_anthropic,
    passthrough_body,
)
from inference_core.upstream_errors import error_for_status, retry_after_seconds

if TYPE_CHECKING:
    from inference_core.settings import Settings

PROVIDER = "anthropic"
DEFAULT_BASE_URL = "https://api.anthropic.com"
# Anthropic requires max_tokens; OpenAI-style callers often leave it out.
DEFAULT_MAX_TOKENS = 1024
# SDK releases differ on which sampling parameters `messages.create` names; in the body they
# reach the API whichever release is installed.
SAMPLING_PARAMETERS = ("temperature", "top_p", "top_k")
# Fields of a Messages body that `count_tokens` refuses (it counts the prompt only).
COUNT_TOKENS_DROPS = frozenset(
    {
        "max_tokens",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "metadata",
        "service_tier",
        "container",
        "inference_geo",
        "diagnostics",
    }
)


class AnthropicProvider(Provider):
    """Anthropic's Messages API, spoken through our OpenAI-shaped types."""

    name = PROVIDER

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        http_client: Any = None,
        keys: KeyResolver | None = None,
    ):
        """`http_client` is an async client of the HTTP library the SDK is built on (`httpx2`
        for current releases, `httpx` for older ones); tests pass one over a mock transport.
        `keys` resolves a key by name at call time (so a rotated key takes over); without it,
        `api_key` is the one key."""
        self._default_max_tokens = default_max_tokens
        self._clients = UpstreamClients(
            PROVIDER,
            sdk=anthropic.AsyncAnthropic,
            default_base_url=base_url or DEFAULT_BASE_URL,
            timeout_seconds=timeout_seconds,
            http_client=http_client,
            api_key=api_key,
            keys=keys,
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, http_client: Any = None) -> AnthropicProvider:
        return cls(
            api_key=None,
            keys=provider_keys(settings).get,
            # Optional setting (a mock upstream, a proxy endpoint); operator-only.
            base_url=getattr(settings.inference, "anthropic_base_url", None),
            timeout_seconds=settings.inference.upstream_timeout_seconds,
            default_max_tokens=min(DEFAULT_MAX_TOKENS, settings.inference.max_tokens_cap),
            http_client=http_client,
        )

    def __repr__(self) -> str:  # never the key
        return f"AnthropicProvider(configured={self.is_configured()})"

    def is_configured(self) -> bool:
        return self._clients.is_configured()

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        if request.anthropic is not None:
            message = await self._post(
                deployment,
                "/v1/messages",
                passthrough_body(request.anthropic, deployment.model),
                request.anthropic,
            )
            result = anthropic_message_to_chat_result(message)
            result.anthropic_message = message
            return result
        body = chat_request_to_anthropic(request, deployment.model, self._default_max_tokens)
        try:
            message = await self._clients.for_deployment(deployment).messages.create(
                **_sdk_arguments(body)
            )
        except anthropic.AnthropicError as exc:
            raise provider_error(exc) from _safe_cause(exc)
        return anthropic_message_to_chat_result(message)

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        if request.anthropic is not None:
            stream = await self._post(
                deployment,
                "/v1/messages",
                {**passthrough_body(request.anthropic, deployment.model), "stream": True},
                request.anthropic,
                stream=True,
            )
            async with (
                aclosing(_guarded_events(stream)) as events,
                aclosing(anthropic_stream_to_passthrough_chunks(events)) as chunks,
            ):
                async for chunk in chunks:
                    yield chunk
            return
        body = chat_request_to_anthropic(request, deployment.model, self._default_max_tokens)
        try:
            stream = await self._clients.for_deployment(deployment).messages.create(
                **_sdk_arguments(body), stream=True
            )
        except anthropic.AnthropicError as exc:
            raise provider_error(exc) from _safe_cause(exc)
        # aclosing: a client that hangs up mid-stream must release the upstream connection now.
        async with (
            aclosing(_guarded_events(stream)) as events,
            aclosing(anthropic_stream_to_chunks(events)) as chunks,
        ):
            async for chunk in chunks:
                yield chunk

    async def count_tokens(self, request: ChatRequest, deployment: Deployment) -> int | None:
        """Anthropic's own count (`POST /v1/messages/count_tokens`) of what `request` would send."""
        if request.anthropic is not None:
            body = passthrough_body(request.anthropic, deployment.model)
        else:
            body = chat_request_to_anthropic(request, deployment.model, self._default_max_tokens)
        # The counting endpoint takes the prompt, not the generation settings.
        counted = {k: v for k, v in body.items() if k not in COUNT_TOKENS_DROPS}
        answer = await self._post(
            deployment, "/v1/messages/count_tokens", counted, request.anthropic
        )
        tokens = answer.get("input_tokens") if isinstance(answer, dict) else None
        if not isinstance(tokens, int) or isinstance(tokens, bool):
            raise UpstreamBadResponseError(
                "The upstream provider 'anthropic' sent a token count the gateway could not read.",
                retryable=True,
                provider=PROVIDER,
            )
        return tokens

    async def _post(
        self,
        deployment: Deployment,
        path: str,
        body: dict[str, Any],
        passthrough: AnthropicPassthrough | None,
        *,
        stream: bool = False,
    ) -> Any:
        """POST `body` as is to `deployment`'s upstream (the SDK's typed methods would drop or
        refuse fields newer than the installed release), with the client's beta flags; the
        answer as plain JSON (or the SDK's stream of plain JSON events)."""
        headers: dict[str, str] = {}
        query: dict[str, str] = {}
        if passthrough is not None and passthrough.betas:
            headers["anthropic-beta"] = ",".join(passthrough.betas)
        if passthrough is not None and passthrough.beta_query:
            query["beta"] = "true"
        client = self._clients.for_deployment(deployment)
        try:
            if stream:
                return await client.post(
                    path,
                    body=body,
                    cast_to=object,
                    options={"headers": headers, "params": query},
                    stream=True,
                    stream_cls=anthropic.AsyncStream[object],
                )
            return await client.post(
                path, body=body, cast_to=object, options={"headers": headers, "params": query}
            )
        except anthropic.AnthropicError as exc:
            raise provider_error(exc) from _safe_cause(exc)


def provider_error(exc: anthropic.AnthropicError) -> ProviderError:
    """Our error for an `anthropic` SDK error; the message is ours, never the upstream body."""
    if isinstance(exc, anthropic.APITimeoutError):
        return UpstreamTimeoutError(
            "The upstream provider 'anthropic' timed out.", retryable=True, provider=PROVIDER
        )
    if isinstance(exc, anthropic.APIConnectionError):
        return UpstreamUnavailableError(
            "The upstream provider 'anthropic' could not be reached.",
            retryable=True,
            provider=PROVIDER,
        )
    if isinstance(exc, anthropic.APIStatusError):
        if exc.status_code < 400:
            # An `error` event inside a 200 stream: the event's error type says what failed.
            return anthropic_stream_error(exc.body if isinstance(exc.body, dict) else {})
        return error_for_status(
            exc.status_code,
            provider=PROVIDER,
            retry_after=retry_after_seconds(exc.response.headers),
        )
    return UpstreamBadResponseError(
        "The upstream provider 'anthropic' sent a response the gateway could not read.",
        retryable=True,
        provider=PROVIDER,
    )


def _safe_cause(exc: BaseException) -> BaseException | None:
    """What to chain under our error. A status error's message holds the upstream body, which
    can echo what was sent; logs and traces see chained exceptions, so those are cut. Connection
    errors carry no body and help debugging."""
    return exc if isinstance(exc, anthropic.APIConnectionError) else None


async def _guarded_events(stream: Any) -> AsyncGenerator[Any, None]:
    """The SDK's events, with its failures mid-stream turned into ours (and the stream closed).

    A broken transport is a cut stream (UpstreamBadResponseError); `retryable` is set because the
    router retries a stream only before its first chunk, when nothing has reached the client.
    """
    try:
        async for event in stream:
            yield event
    except anthropic.APIStatusError as exc:
        raise provider_error(exc) from _safe_cause(exc)
    except Exception as exc:
        raise UpstreamBadResponseError(
            "The upstream provider 'anthropic' ended the stream before the answer was complete.",
            retryable=True,
            provider=PROVIDER,
        ) from exc
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            await close()


def _sdk_arguments(body: dict[str, Any]) -> dict[str, Any]:
    arguments = {key: value for key, value in body.items() if key not in SAMPLING_PARAMETERS}
    sampling = {key: body[key] for key in SAMPLING_PARAMETERS if key in body}
    if sampling:
        arguments["extra_body"] = sampling
    return arguments
