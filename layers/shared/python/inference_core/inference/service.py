"""One request through the gateway, after authentication: resolve → validate → cache → route →
settle, all inside one call (`chat`, `chat_stream` or `embed`).

Every caller (the OpenAI, Anthropic and native routes, and the batch worker) makes exactly one of
those calls with the model alias it was given, so a new door cannot skip the registry lookup, the
model permission, the size and context-window checks or the usage line. Per request this makes at
most two DynamoDB calls of its own: the cache read, and on a miss one BatchWriteItem for the usage
line plus the cache fill (a hit writes nothing: see `_settle`).

Governed requests (every caller but the anonymous one of a public gateway) make three DynamoDB
calls instead: before the provider call ONE round trip, the admission transaction
(`inference_core.governance`) concurrently with the cache read; after it ONE settle transaction
(usage replaces the reservation, the lease is released, the ledger line, the daily aggregates and
the cache fill are written). A cache hit is admitted and settled too ($0, counted as a request).
Inside an HTTP request the settle is deferred to `inference_core.after_response`: it runs once
the client has the last byte it needs (after a stream's `[DONE]`), before the response ends.

Guardrails (`inference_core.guardrails`) wrap `chat`, `chat_stream` and `embed`: the caller's
input checks run first (a blocked request never reaches the cache or a provider; a redacted one is
what the provider and the cache key see), the output checks run on the answer or the stream, so
every door (OpenAI, Anthropic, native, text operations, batch lines) gets them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from inference_core import after_response, estimate
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
    ProviderError,
)
from inference_core.observability import (
    RequestUsage,
    emit_request_metrics,
    log_request,
    record_unmetered,
)
from inference_core.parameters import check_supported
from inference_core.registry import ModelEntry, ModelRegistry
from inference_core.translation.anthropic_wire import events_from_message, message_from_events

if TYPE_CHECKING:
    from inference_core.db.admission import Admission
    from inference_core.db.cache import CacheRepository
    from inference_core.db.usage import UsageRepository
    from inference_core.governance import Governance, GovernedCaller
    from inference_core.guardrails.engine import RequestGuard
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
    async def count_tokens(self, model: ModelEntry, request: ChatRequest) -> Routed[int | None]: ...


@dataclass
class ChatOutcome:
    result: ChatResult
    model: str
    cached: bool
    usage: RequestUsage
    # Fields of the request the serving deployment could not take and dropped (its
    # `drop_unsupported`); the API names them in `x-ic-dropped-params`.
    dropped_params: list[str] = field(default_factory=list)


@dataclass
class StreamOutcome:
    """A stream that settles usage (ledger, log line, metrics) when it is exhausted or closed."""

    model: str
    cached: bool
    chunks: AsyncIterator[ChatChunk]
    usage: RequestUsage
    dropped_params: list[str] = field(default_factory=list)


@dataclass
class TokenCount:
    input_tokens: int
    model: str
    source: str  # "provider" (the upstream's own counter) or "estimate" (`inference_core.estimate`)


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
        governance: Governance | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.settings = settings
        self.registry = registry
        self.router = router
        self.cache = cache
        self.usage = usage
        self.governance = governance
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
        """The registry entry for `alias`, once the caller may use it and some deployment can
        take the request: `max_tokens` up to a deployment's own `max_output_tokens` (or the
        gateway's cap), `prompt_tokens + max_tokens` within its context window, and
        `prompt_chars` under the size cap, which refuses nothing a context window could hold.
        `_servable` then narrows the entry to the deployments that can take it."""
        entry = self.registry.resolve(alias)
        if not caller.can_use(entry.alias):
            raise PermissionDeniedError(
                f"Your credentials are not allowed to use the model '{entry.alias}'.",
                code="model_not_allowed",
            )
        limits = self.settings.inference
        widest = max(d.context_window for d in entry.deployments)
        char_limit = max(limits.max_prompt_chars, widest * estimate.CHARS_PER_TOKEN)
        if prompt_chars > char_limit:
            raise InvalidRequestError(
                f"The prompt is {prompt_chars} characters; the limit is {char_limit}.",
                code="prompt_too_large",
                param="messages",
            )
        output_limit = max(self._output_limit(d) for d in entry.deployments)
        if max_tokens is not None and max_tokens > output_limit:
            raise InvalidRequestError(
                f"max_tokens is {max_tokens}; the most the model '{entry.alias}' allows is "
                f"{output_limit}.",
                code="max_tokens_too_large",
                param="max_tokens",
            )
        needed = prompt_tokens + (max_tokens or 0)
        if needed > widest:
            raise ContextWindowExceededError(
                f"This model's maximum context length is {widest} tokens; the "
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

    def _output_limit(self, deployment: Deployment) -> int:
        return deployment.max_output_tokens or self.settings.inference.max_tokens_cap

    def _servable(self, entry: ModelEntry, request: ChatRequest | CompletionRequest) -> ModelEntry:
        """`entry` narrowed to the deployments that can take `request`: within their own output
        limit and context window, and, for a request with fields only Anthropic can take, an
        Anthropic deployment or one that drops them. None left: the first one's refusal (400)."""
        untranslated = getattr(request, "untranslated", None) or []
        max_tokens = request.max_tokens or 0
        prompt = estimate.prompt_tokens(request)
        refusals: list[InferenceCoreError] = []
        kept: list[Deployment] = []
        for deployment in entry.deployments:
            if (
                untranslated
                and deployment.provider != "anthropic"
                and not deployment.drop_unsupported
            ):
                field_name, others = untranslated[0], untranslated[1:]
                also = f" (nor {', '.join(others)})" if others else ""
                refusals.append(
                    InvalidRequestError(
                        f"{field_name}: the model '{entry.alias}' is served by a "
                        f"'{deployment.provider}' deployment, which cannot take this field{also}"
                        " (only Anthropic deployments can); remove it, or ask for the "
                        "deployment to drop what it cannot take.",
                        code="unsupported_parameter",
                        param=field_name.split(":")[0],
                    )
                )
            elif max_tokens > self._output_limit(deployment):
                refusals.append(
                    InvalidRequestError(
                        f"max_tokens is {max_tokens}; the most the model '{entry.alias}' allows "
                        f"is {self._output_limit(deployment)}.",
                        code="max_tokens_too_large",
                        param="max_tokens",
                    )
                )
            elif prompt + max_tokens > deployment.context_window:
                refusals.append(
                    ContextWindowExceededError(
                        f"This model's maximum context length is {deployment.context_window} "
                        f"tokens; the request needs about {prompt + max_tokens} (prompt + "
                        "max_tokens).",
                        param="messages",
                    )
                )
            else:
                kept.append(deployment)
        if not kept:
            raise refusals[0]
        if len(kept) == len(entry.deployments):
            return entry
        return dataclasses.replace(entry, deployments=tuple(kept))

    @staticmethod
    def _dropped(request: ChatRequest | CompletionRequest, deployment: Deployment) -> list[str]:
        untranslated = getattr(request, "untranslated", None) or []
        return [] if deployment.provider == "anthropic" else list(untranslated)

    async def count_tokens(
        self, caller: Caller, request: ChatRequest, alias: str | None
    ) -> TokenCount:
        """Prompt tokens of `request` for the model `alias`: the first deployment's own counter
        where its provider has one (Anthropic), the gateway's estimator otherwise or when that
        counter is unavailable. Costs nothing upstream and records no usage."""
        entry = self._resolve(
            caller,
            alias,
            prompt_chars=estimate.prompt_chars(request),
            prompt_tokens=estimate.prompt_tokens(request),
            max_tokens=None,
        )
        untranslated = request.untranslated or []
        first = entry.deployments[0]
        if first.provider == "anthropic" or not untranslated or first.drop_unsupported:
            try:
                routed = await self.router.count_tokens(
                    dataclasses.replace(entry, deployments=(first,)), request
                )
            except ProviderError:
                routed = None
            if routed is not None and routed.result is not None:
                return TokenCount(int(routed.result), entry.alias, "provider")
        else:
            self._servable(entry, request)  # the 400 naming the field
        return TokenCount(estimate.prompt_tokens(request), entry.alias, "estimate")

    # ---- guardrails (the engine loads at the first request whose policy has a check on) ----

    def guard(self, caller: Caller) -> RequestGuard | None:
        from inference_core.guardrails.engine import request_guard

        return request_guard(self.settings, caller)

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
        """Answer one request for the model alias `model` (None: the registry's default), with
        the caller's guardrails on the request (before anything else) and on the answer."""
        guard = self.guard(caller)
        if guard is not None:
            request = guard.check_input(request)
        outcome = await self._chat(
            caller,
            request,
            model=model,
            endpoint=endpoint,
            request_id=request_id,
            use_cache=use_cache,
        )
        if guard is not None:
            outcome.result = guard.check_result(outcome.result)
        return outcome

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
        """`_chat_stream` with the caller's guardrails on the request and on the stream."""
        guard = self.guard(caller)
        if guard is not None:
            request = guard.check_input(request)
        outcome = await self._chat_stream(
            caller,
            request,
            model=model,
            endpoint=endpoint,
            request_id=request_id,
            use_cache=use_cache,
        )
        if guard is not None:
            outcome.chunks = guard.stream(outcome.chunks)
        return outcome

    async def _chat(
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
        serving = self._servable(entry, request)
        check_supported(request, serving.deployments, alias=entry.alias)
        started = self._clock()
        usage = self._new_usage(caller, entry, endpoint, request_id, stream=False)
        admission, (key, cached) = await self._admit_and_lookup(
            caller, entry, request, use_cache, request_id
        )
        if cached is not None:
            usage.cached = True
            await self._settle(
                usage, started, cached.usage, None, cache_fill=None, admission=admission
            )
            return ChatOutcome(cached, entry.alias, True, usage)
        try:
            if isinstance(request, CompletionRequest):
                routed = await self.router.complete(serving, request)
            else:
                routed = await self.router.chat(serving, request)
        except InferenceCoreError as exc:
            usage.status = exc.code
            await self._settle(usage, started, Usage(), None, cache_fill=None, admission=admission)
            raise
        result: ChatResult = routed.result
        fill = self._cache_fill(key, caller, entry, result)
        await self._settle(
            usage, started, result.usage, routed.deployment, cache_fill=fill, admission=admission
        )
        return ChatOutcome(
            result, entry.alias, False, usage, self._dropped(request, routed.deployment)
        )

    async def _chat_stream(
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
        serving = self._servable(entry, request)
        check_supported(request, serving.deployments, alias=entry.alias)
        started = self._clock()
        usage = self._new_usage(caller, entry, endpoint, request_id, stream=True)
        admission, (key, cached) = await self._admit_and_lookup(
            caller, entry, request, use_cache, request_id
        )
        if cached is not None:
            usage.cached = True
            return StreamOutcome(
                entry.alias, True, self._replay(cached, usage, started, admission), usage
            )
        try:
            if isinstance(request, CompletionRequest):
                routed = await self.router.complete_stream(serving, request)
            else:
                routed = await self.router.chat_stream(serving, request)
        except InferenceCoreError as exc:
            usage.status = exc.code
            await self._settle(usage, started, Usage(), None, cache_fill=None, admission=admission)
            raise
        prompt_tokens = estimate.prompt_tokens(request)
        return StreamOutcome(
            entry.alias,
            False,
            self._relay(
                routed.chunks,
                routed.deployment,
                usage,
                started,
                key,
                caller,
                entry,
                prompt_tokens,
                admission,
            ),
            usage,
            self._dropped(request, routed.deployment),
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
        admission: Admission | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Relay the provider's chunks; however the stream ends (done, upstream failure, or the
        client walking away, which closes this generator and with it the upstream call) the
        tokens so far are settled."""
        text: list[str] = []
        tool_calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        stop_sequence: str | None = None
        final_usage: Usage | None = None
        logprobs: list[Any] = []
        native_events: list[dict[str, Any]] = []
        completed = False
        try:
            async for chunk in chunks:
                if chunk.anthropic_event is not None:
                    native_events.append(chunk.anthropic_event)
                stop_sequence = chunk.stop_sequence or stop_sequence
                if chunk.content:
                    text.append(chunk.content)
                if chunk.logprobs:
                    logprobs.extend(chunk.logprobs.get("content") or [])
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
                    logprobs={"content": logprobs} if logprobs else None,
                    stop_sequence=stop_sequence,
                    anthropic_message=message_from_events(native_events) if native_events else None,
                )
                fill = self._cache_fill(key, caller, entry, result)
            elif usage.status == "ok":
                usage.status = "client_disconnected"
            await self._settle(
                usage, started, final_usage, deployment, cache_fill=fill, admission=admission
            )

    async def _replay(
        self,
        result: ChatResult,
        usage: RequestUsage,
        started: float,
        admission: Admission | None = None,
    ) -> AsyncIterator[ChatChunk]:
        try:
            if result.anthropic_message is not None:
                for event in events_from_message(result.anthropic_message):
                    yield ChatChunk(anthropic_event=event)
                return
            if result.tool_calls:
                yield ChatChunk(
                    tool_calls=[{"index": i, **call} for i, call in enumerate(result.tool_calls)]
                )
            for piece in _pieces(result.content or ""):
                yield ChatChunk(content=piece)
            yield ChatChunk(
                finish_reason=result.finish_reason,
                usage=result.usage,
                stop_sequence=result.stop_sequence,
            )
        finally:
            await self._settle(
                usage, started, result.usage, None, cache_fill=None, admission=admission
            )

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
        """Embed `inputs` with the alias `model`; the caller's input guardrails check them first
        (a blocked input never reaches a provider, a redacted one is what the provider embeds)."""
        guard = self.guard(caller)
        if guard is not None:
            inputs = guard.check_embedding_inputs(inputs)
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
        tokens = sum(max(1, estimate.text_tokens(t)) for t in inputs)
        cost = max(d.cost(Usage(tokens, 0)) for d in entry.deployments)
        admission = await self._admit(caller, request_id, tokens, cost)
        try:
            routed = await self.router.embed(entry, inputs)
        except InferenceCoreError as exc:
            usage.status = exc.code
            await self._settle(usage, started, Usage(), None, cache_fill=None, admission=admission)
            raise
        result: EmbeddingResult = routed.result
        if not result.usage.input_tokens:
            result.usage.input_tokens = tokens
        await self._settle(
            usage, started, result.usage, routed.deployment, cache_fill=None, admission=admission
        )
        return EmbeddingOutcome(result, entry.alias, usage)

    # ---- governance ----

    def reservation(
        self, entry: ModelEntry, request: ChatRequest | CompletionRequest
    ) -> tuple[int, float]:
        """(tokens, USD) to reserve: the estimated prompt plus max_tokens (or the deployments'
        output cap, `max_output_tokens` or else `IC_MAX_TOKENS_CAP`, within the context window),
        priced at the most expensive deployment the router may fall back to."""
        prompt = estimate.prompt_tokens(request)
        output = request.max_tokens
        if output is None:
            default_cap = self.settings.inference.max_tokens_cap
            cap = max(d.max_output_tokens or default_cap for d in entry.deployments)
            output = max(0, min(cap, entry.context_window - prompt))
        cost = max(d.cost(Usage(prompt, output)) for d in entry.deployments)
        return prompt + output, cost

    async def _admit(
        self, caller: Caller, request_id: str, tokens: int, cost: float
    ) -> Admission | None:
        if self.governance is None:
            return None
        return await asyncio.to_thread(
            self.governance.admit,
            cast("GovernedCaller", caller),
            request_id=request_id,
            tokens=tokens,
            cost_usd=cost,
        )

    async def _admit_and_lookup(
        self,
        caller: Caller,
        entry: ModelEntry,
        request: ChatRequest | CompletionRequest,
        use_cache: bool,
        request_id: str,
    ) -> tuple[Admission | None, tuple[str | None, ChatResult | None]]:
        """The admission write and the cache read, concurrently: one round trip."""
        tokens, cost = self.reservation(entry, request)
        admission, looked_up = await asyncio.gather(
            self._admit(caller, request_id, tokens, cost),
            self._lookup(caller, entry, request, use_cache),
        )
        return admission, looked_up

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
        if payload.get("anthropic"):
            payload["anthropic"]["body"].pop("metadata", None)  # nor does Anthropic's
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
        admission: Admission | None = None,
    ) -> None:
        usage.latency_ms = (self._clock() - started) * 1000
        usage.input_tokens = tokens.input_tokens
        usage.output_tokens = tokens.output_tokens
        if deployment is not None:
            usage.provider = deployment.provider
            usage.deployment = deployment.label
            usage.cost_usd = deployment.cost(tokens)

        def write() -> Awaitable[None]:
            return asyncio.to_thread(self._write_settle, usage, cache_fill, admission)

        # Off the client's wait: inside a request the write runs once the client has the last
        # byte it needs, before the response ends (`inference_core.after_response`). Shielded
        # either way: a client that walks away cancels the stream's task, and the settle (which
        # releases the lease and meters the tokens so far) must still happen.
        if not after_response.defer(write):
            await asyncio.shield(write())

    def _write_settle(
        self, usage: RequestUsage, cache_fill: Any, admission: Admission | None
    ) -> None:
        metered = True
        if admission is not None and self.governance is not None:
            metered = self.governance.settle(
                admission,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=usage.cost_usd,
                cached=usage.cached,
                model=usage.model,
                ledger=self.usage.ledger_line(usage),
                cache_entry=cache_fill,
            )
        elif not usage.cached:
            metered = self.usage.record(usage, cache_fill)
        if metered is False:  # lost after its retries (None: a repository that cannot tell)
            record_unmetered(usage)
        log_request(usage)
        emit_request_metrics(usage)


def result_to_cache(result: ChatResult) -> dict[str, Any]:
    cached: dict[str, Any] = {
        "content": result.content,
        "finish_reason": result.finish_reason,
        "tool_calls": result.tool_calls,
        "usage": {
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
        },
    }
    if result.logprobs is not None:
        cached["logprobs"] = result.logprobs
    if result.stop_sequence:
        cached["stop_sequence"] = result.stop_sequence
    if result.anthropic_message is not None:
        cached["anthropic_message"] = result.anthropic_message
    return cached


def result_from_cache(raw: dict[str, Any]) -> ChatResult:
    usage = raw.get("usage") or {}
    # Replayed from the cache, nothing was read from or written to an upstream's prompt cache.
    return ChatResult(
        content=raw.get("content"),
        finish_reason=raw.get("finish_reason", "stop"),
        usage=Usage(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))),
        tool_calls=raw.get("tool_calls"),
        logprobs=raw.get("logprobs"),
        stop_sequence=raw.get("stop_sequence"),
        anthropic_message=raw.get("anthropic_message"),
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
