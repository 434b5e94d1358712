"""One request through the gateway, after authentication: resolve → validate → cache → route →
settle, all inside one call (`chat`, `chat_stream` or `embed`).

Every caller (the OpenAI, Anthropic and native routes, and the batch worker) makes exactly one of
those calls with the model alias it was given, so a new door cannot skip the registry lookup, the
model permission, the size and context-window checks or the usage line. Per request this makes at
most two DynamoDB calls of its own: the cache read, and on a miss one BatchWriteItem for the usage
line plus the cache fill (a hit writes nothing: see `_settle`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from inference_core import estimate
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
    ContextWindowExceededError,
    InferenceCoreError,
    InvalidRequestError,
    PermissionDeniedError,
)
from inference_core.observability import RequestUsage, emit_request_metrics, log_request
from inference_core.registry import ModelEntry, ModelRegistry

if TYPE_CHECKING:
    from inference_core.db.cache import CacheRepository
    from inference_core.db.usage import UsageRepository
    from inference_core.settings import Settings

MAX_CACHED_RESPONSE_BYTES = 300_000

_T_co = TypeVar("_T_co", covariant=True)


class Caller(Protocol):
    """Who is asking (an `auth.principal.Principal` or the worker's equivalent)."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def key_id(self) -> str | None: ...
    def can_use(self, model_alias: str) -> bool: ...


class Routed(Protocol[_T_co]):
    """A routed answer: the result and the deployment that gave it (`router.RoutedResult`)."""

    @property
    def result(self) -> _T_co: ...
    @property
    def deployment(self) -> Deployment: ...


class RoutedChunks(Protocol):
    """A routed stream: its chunks and the deployment serving it (`router.RoutedStream`)."""

    @property
    def deployment(self) -> Deployment: ...
    @property
    def chunks(self) -> AsyncIterator[ChatChunk]: ...


class ModelRouter(Protocol):
    """What the service needs of the router (`inference_core.router.Router`): one call per kind
    of request, retries, fallback and the circuit breaker behind it."""

    async def chat(self, model: ModelEntry, request: ChatRequest) -> Routed[ChatResult]: ...
    async def complete(
        self, model: ModelEntry, request: CompletionRequest
    ) -> Routed[ChatResult]: ...
    async def embed(self, model: ModelEntry, inputs: list[str]) -> Routed[EmbeddingResult]: ...
    async def chat_stream(self, model: ModelEntry, request: ChatRequest) -> RoutedChunks: ...
    async def complete_stream(
        self, model: ModelEntry, request: CompletionRequest
    ) -> RoutedChunks: ...


@dataclass
class ChatOutcome:
    result: ChatResult
    model: str
    cached: bool
    usage: RequestUsage


@dataclass
class StreamOutcome:
    """A stream that settles usage (ledger, log line, metrics) when it is exhausted or closed."""

    model: str
    cached: bool
    chunks: AsyncIterator[ChatChunk]
    usage: RequestUsage


@dataclass
class EmbeddingOutcome:
    result: EmbeddingResult
    model: str
    usage: RequestUsage


class InferenceService:
    def __init__(
        self,
        *,
        settings: Settings,
        registry: ModelRegistry,
        router: ModelRouter,
        cache: CacheRepository,
        usage: UsageRepository,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.settings = settings
        self.registry = registry
        self.router = router
        self.cache = cache
        self.usage = usage
        self._clock = clock

    # ---- validation (nothing here reaches a provider) ----

    def _resolve(
        self,
        caller: Caller,
        alias: str | None,
        *,
        prompt_chars: int,
        prompt_tokens: int,
        max_tokens: int | None,
    ) -> ModelEntry:
        """The registry entry for `alias`, once the caller may use it and the request fits:
        `prompt_chars` against the size cap, `prompt_tokens + max_tokens` against the window."""
        entry = self.registry.resolve(alias)
        if not caller.can_use(entry.alias):
            raise PermissionDeniedError(
                f"Your credentials are not allowed to use the model '{entry.alias}'.",
                code="model_not_allowed",
            )
        limits = self.settings.inference
        if prompt_chars > limits.max_prompt_chars:
            raise InvalidRequestError(
                f"The prompt is {prompt_chars} characters; the limit is {limits.max_prompt_chars}.",
                code="prompt_too_large",
                param="messages",
            )
        if max_tokens is not None and max_tokens > limits.max_tokens_cap:
            raise InvalidRequestError(
                f"max_tokens is {max_tokens}; the most this gateway allows is {limits.max_tokens_cap}.",
                code="max_tokens_too_large",
                param="max_tokens",
            )
        needed = prompt_tokens + (max_tokens or 0)
        if needed > entry.context_window:
            raise ContextWindowExceededError(
                f"This model's maximum context length is {entry.context_window} tokens; the "
                f"request needs about {needed} (prompt + max_tokens).",
                param="messages",
            )
        return entry

    def _resolve_request(
        self, caller: Caller, alias: str | None, request: ChatRequest | CompletionRequest
    ) -> ModelEntry:
        return self._resolve(
            caller,
            alias,
            prompt_chars=estimate.prompt_chars(request),
            prompt_tokens=estimate.prompt_tokens(request),
            max_tokens=request.max_tokens,
        )

    # ---- chat and completions ----

    async def chat(
        self,
        caller: Caller,
        request: ChatRequest | CompletionRequest,
        *,
        model: str | None,
        endpoint: str,
        request_id: str,
        use_cache: bool = True,
    ) -> ChatOutcome:
        """Answer one request for the model alias `model` (None: the registry's default)."""
        entry = self._resolve_request(caller, model, request)
        started = self._clock()
        usage = self._new_usage(caller, entry, endpoint, request_id, stream=False)
        key, cached = await self._lookup(caller, entry, request, use_cache)
        if cached is not None:
            usage.cached = True
            await self._settle(usage, started, cached.usage, None, cache_fill=None)
            return ChatOutcome(cached, entry.alias, True, usage)
        try:
            if isinstance(request, CompletionRequest):
                routed = await self.router.complete(entry, request)
            else:
                routed = await self.router.chat(entry, request)
        except InferenceCoreError as exc:
            usage.status = exc.code
            await self._settle(usage, started, Usage(), None, cache_fill=None)
            raise
        result: ChatResult = routed.result
        fill = self._cache_fill(key, caller, entry, result)
        await self._settle(usage, started, result.usage, routed.deployment, cache_fill=fill)
        return ChatOutcome(result, entry.alias, False, usage)

    async def chat_stream(
        self,
        caller: Caller,
        request: ChatRequest | CompletionRequest,
        *,
        model: str | None,
        endpoint: str,
        request_id: str,
        use_cache: bool = True,
    ) -> StreamOutcome:
        """Start a stream. Failures before the first chunk raise here (so the route can still
        answer with a proper error status); later ones end the stream with an error chunk."""
        entry = self._resolve_request(caller, model, request)
        started = self._clock()
        usage = self._new_usage(caller, entry, endpoint, request_id, stream=True)
        key, cached = await self._lookup(caller, entry, request, use_cache)
        if cached is not None:
            usage.cached = True
            return StreamOutcome(entry.alias, True, self._replay(cached, usage, started), usage)
        try:
            if isinstance(request, CompletionRequest):
                routed = await self.router.complete_stream(entry, request)
            else:
                routed = await self.router.chat_stream(entry, request)
        except InferenceCoreError as exc:
            usage.status = exc.code
            await self._settle(usage, started, Usage(), None, cache_fill=None)
            raise
        prompt_tokens = estimate.prompt_tokens(request)
        return StreamOutcome(
            entry.alias,
            False,
            self._relay(
                routed.chunks, routed.deployment, usage, started, key, caller, entry, prompt_tokens
            ),
            usage,
        )

    async def _relay(
        self,
        chunks: AsyncIterator[ChatChunk],
        deployment: Deployment,
        usage: RequestUsage,
        started: float,
        key: str | None,
        caller: Caller,
        entry: ModelEntry,
        prompt_tokens: int,
    ) -> AsyncIterator[ChatChunk]:
        text: list[str] = []
        tool_calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        final_usage: Usage | None = None
        completed = False
        try:
            async for chunk in chunks:
                if chunk.content:
                    text.append(chunk.content)
                for delta in chunk.tool_calls or []:
                    _merge_tool_call(tool_calls, delta)
                if chunk.finish_reason:
                    finish = chunk.finish_reason
                if chunk.usage is not None:
                    final_usage = chunk.usage
                yield chunk
            completed = True
        except InferenceCoreError as exc:
            usage.status = exc.code
            raise
        finally:
            content = "".join(text)
            if final_usage is None:
                final_usage = Usage(
                    input_tokens=prompt_tokens, output_tokens=estimate.text_tokens(content)
                )
            fill = None
            if completed and finish:
                result = ChatResult(
                    content=content,
                    finish_reason=finish,
                    usage=final_usage,
                    tool_calls=[tool_calls[i] for i in sorted(tool_calls)] or None,
                )
                fill = self._cache_fill(key, caller, entry, result)
            elif usage.status == "ok":
                usage.status = "client_disconnected"
            await self._settle(usage, started, final_usage, deployment, cache_fill=fill)

    async def _replay(
        self, result: ChatResult, usage: RequestUsage, started: float
    ) -> AsyncIterator[ChatChunk]:
        try:
            if result.tool_calls:
                yield ChatChunk(
                    tool_calls=[{"index": i, **call} for i, call in enumerate(result.tool_calls)]
                )
            for piece in _pieces(result.content or ""):
                yield ChatChunk(content=piece)
            yield ChatChunk(finish_reason=result.finish_reason, usage=result.usage)
        finally:
            await self._settle(usage, started, result.usage, None, cache_fill=None)

    # ---- embeddings ----

    async def embed(
        self,
        caller: Caller,
        inputs: list[str],
        *,
        model: str | None,
        endpoint: str,
        request_id: str,
    ) -> EmbeddingOutcome:
        chars = sum(map(len, inputs))
        entry = self._resolve(
            caller,
            model,
            prompt_chars=chars,
            prompt_tokens=estimate.chars_tokens(chars),
            max_tokens=None,
        )
        if not entry.embeddings:
            raise InvalidRequestError(
                f"The model '{entry.alias}' does not serve embeddings.",
                code="model_not_supported",
                param="model",
            )
        started = self._clock()
        usage = self._new_usage(caller, entry, endpoint, request_id, stream=False)
        try:
            routed = await self.router.embed(entry, inputs)
        except InferenceCoreError as exc:
            usage.status = exc.code
            await self._settle(usage, started, Usage(), None, cache_fill=None)
            raise
        result: EmbeddingResult = routed.result
        if not result.usage.input_tokens:
            result.usage.input_tokens = sum(max(1, estimate.text_tokens(t)) for t in inputs)
        await self._settle(usage, started, result.usage, routed.deployment, cache_fill=None)
        return EmbeddingOutcome(result, entry.alias, usage)

    # ---- helpers ----

    async def _lookup(
        self,
        caller: Caller,
        entry: ModelEntry,
        request: ChatRequest | CompletionRequest,
        use_cache: bool,
    ) -> tuple[str | None, ChatResult | None]:
        """(the cache key, or None when caching is off; the cached answer, or None on a miss)."""
        if not (use_cache and self.settings.inference.cache_enabled):
            return None, None
        key = self.cache_key(caller.tenant_id, entry.alias, request)
        hit = await asyncio.to_thread(self.cache.get, key, caller.tenant_id)
        return key, result_from_cache(hit) if hit is not None else None

    @staticmethod
    def cache_key(tenant_id: str, alias: str, request: ChatRequest | CompletionRequest) -> str:
        """Exact match on the normalized request, scoped to the tenant and the model alias."""
        payload = dataclasses.asdict(request)
        payload.pop("user", None)  # an end-user label does not change the answer
        kind = "completion" if isinstance(request, CompletionRequest) else "chat"
        canonical = json.dumps(
            {"tenant": tenant_id, "model": alias, "kind": kind, "request": payload},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return "v1:" + hashlib.sha256(canonical.encode()).hexdigest()

    def _cache_fill(
        self, key: str | None, caller: Caller, entry: ModelEntry, result: ChatResult
    ) -> Any:
        if key is None or result.finish_reason not in ("stop", "length", "tool_calls"):
            return None
        response = result_to_cache(result)
        if len(json.dumps(response)) > MAX_CACHED_RESPONSE_BYTES:
            return None
        return self.cache.entry(
            key,
            tenant_id=caller.tenant_id,
            model=entry.alias,
            response=response,
            ttl_seconds=self.settings.inference.cache_ttl_seconds,
        )

    def _new_usage(
        self, caller: Caller, entry: ModelEntry, endpoint: str, request_id: str, *, stream: bool
    ) -> RequestUsage:
        return RequestUsage(
            request_id=request_id,
            tenant_id=caller.tenant_id,
            key_id=caller.key_id,
            endpoint=endpoint,
            model=entry.alias,
            stream=stream,
        )

    async def _settle(
        self,
        usage: RequestUsage,
        started: float,
        tokens: Usage,
        deployment: Deployment | None,
        *,
        cache_fill: Any,
    ) -> None:
        usage.latency_ms = (self._clock() - started) * 1000
        usage.input_tokens = tokens.input_tokens
        usage.output_tokens = tokens.output_tokens
        if deployment is not None:
            usage.provider = deployment.provider
            usage.deployment = deployment.label
            usage.cost_usd = deployment.cost(tokens)
        if not usage.cached:
            # A cache hit costs nothing upstream: it is recorded in the log line and the metrics
            # only, which keeps a hit at two DynamoDB calls (authorize + count, cache read).
            await asyncio.to_thread(self.usage.record, usage, cache_fill)
        log_request(usage)
        emit_request_metrics(usage)


def result_to_cache(result: ChatResult) -> dict[str, Any]:
    return {
        "content": result.content,
        "finish_reason": result.finish_reason,
        "tool_calls": result.tool_calls,
        "usage": {
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
        },
    }


def result_from_cache(raw: dict[str, Any]) -> ChatResult:
    usage = raw.get("usage") or {}
    return ChatResult(
        content=raw.get("content"),
        finish_reason=raw.get("finish_reason", "stop"),
        usage=Usage(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))),
        tool_calls=raw.get("tool_calls"),
    )


def _merge_tool_call(calls: dict[int, dict[str, Any]], delta: dict[str, Any]) -> None:
    index = int(delta.get("index", 0))
    call = calls.setdefault(
        index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
    )
    if delta.get("id"):
        call["id"] = delta["id"]
    function = delta.get("function") or {}
    if function.get("name"):
        call["function"]["name"] += function["name"]
    if function.get("arguments"):
        call["function"]["arguments"] += function["arguments"]


_PIECE = re.compile(r"\s*\S+\s*|\s+")


def _pieces(text: str) -> list[str]:
    """Word-sized pieces for replaying a cached answer as a stream."""
    return _PIECE.findall(text)
