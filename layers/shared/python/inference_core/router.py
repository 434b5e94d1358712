"""The router: serve a model alias from its deployments in order, with the gateway's one retry loop.

For each deployment (skipping those whose circuit breaker is open, unless all are): call the
provider; on a retryable `ProviderError` wait (exponential backoff with full jitter, or the
upstream's Retry-After when that is longer) and try again, up to
`settings.inference.max_attempts_per_deployment` times; then move on to the next deployment. A
non-retryable failure of one deployment (its credentials, its model) moves on at once, but an
upstream's verdict that *the request* is bad is raised at once: every deployment would refuse it.
When every deployment has failed, the last `ProviderError` is raised (the API maps it to
502/503/504). Streams are retried only until their first chunk exists; after that the client has
seen output and a failure ends the stream.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from inference_core.canonical import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    CompletionRequest,
    Deployment,
    EmbeddingResult,
)
from inference_core.errors import ProviderError, UpstreamUnavailableError
from inference_core.observability import get_logger
from inference_core.providers.base import Provider
from inference_core.upstream_errors import REQUEST_REJECTED

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    from inference_core.registry import ModelEntry, ModelRegistry
    from inference_core.settings import Settings

T = TypeVar("T")
ProviderCall = Callable[[Provider, Deployment], Awaitable[T]]

# Circuit breaker defaults; settings may override them (`circuit_breaker_failures`,
# `circuit_breaker_cooldown_seconds` on the inference settings) once they exist there.
BREAKER_FAILURES = 5
BREAKER_COOLDOWN_SECONDS = 30.0
# The admin API's recent error rate: the last calls of each deployment within this window.
RECENT_CALLS = 200
RECENT_SECONDS = 300.0



@dataclass
class RoutedResult(Generic[T]):
    result: T
    deployment: Deployment  # the one that answered (for usage, cost and logs)
    attempts: int  # provider calls made, over all deployments


@dataclass
class RoutedStream:
    deployment: Deployment
    chunks: AsyncIterator[ChatChunk]  # starts with the chunk the router already pulled
    attempts: int


class CircuitBreaker:
    """Process-local, per deployment: `failures` consecutive failures open the circuit for
    `cooldown_seconds`. After the cooldown the next call is a trial: one more failure reopens it
    at once, a success closes it."""

    def __init__(
        self,
        *,
        failures: int = BREAKER_FAILURES,
        cooldown_seconds: float = BREAKER_COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.failures = failures
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._consecutive: dict[str, int] = {}
        self._open_until: dict[str, float] = {}
        # (time, failed) of recent calls per deployment, for the admin API's error rate.
        self._recent: dict[str, collections.deque[tuple[float, bool]]] = {}

    def is_open(self, deployment: Deployment) -> bool:
        return self._clock() < self._open_until.get(deployment.label, float("-inf"))

    def _remember(self, deployment: Deployment, failed: bool) -> None:
        recent = self._recent.setdefault(deployment.label, collections.deque(maxlen=RECENT_CALLS))
        recent.append((self._clock(), failed))

    def health(self, deployment: Deployment) -> dict[str, Any]:
        """`state` (closed | open | half_open), consecutive failures, and the error rate of this
        process's calls in the last `RECENT_SECONDS` (None without calls)."""
        label = deployment.label
        now = self._clock()
        if now < self._open_until.get(label, float("-inf")):
            state = "open"
        elif label in self._open_until:
            state = "half_open"
        else:
            state = "closed"
        recent = [failed for at, failed in self._recent.get(label, ()) if now - at <= RECENT_SECONDS]
        return {
            "circuit_state": state,
            "consecutive_failures": self._consecutive.get(label, 0),
            "recent_calls": len(recent),
            "recent_error_rate": round(sum(recent) / len(recent), 4) if recent else None,
        }

    def record_success(self, deployment: Deployment) -> None:
        self._remember(deployment, False)
        self._consecutive.pop(deployment.label, None)
        self._open_until.pop(deployment.label, None)

    def record_failure(self, deployment: Deployment) -> None:
        self._remember(deployment, True)
        count = self._consecutive.get(deployment.label, 0) + 1
        self._consecutive[deployment.label] = count
        if count >= self.failures:
            self._open_until[deployment.label] = self._clock() + self.cooldown_seconds


class Router:
    """Routes calls for a model alias (or a resolved `ModelEntry`) to its deployments."""

    def __init__(
        self,
        registry: ModelRegistry,
        *,
        provider_factory: Callable[[str], Provider],
        settings: Settings,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        tracer: Tracer | None = None,
        breaker: CircuitBreaker | None = None,
    ):
        self.registry = registry
        self.settings = settings
        self._provider_factory = provider_factory
        self._providers: dict[str, Provider] = {}
        self._sleep = sleep
        self._rng = rng
        self._tracer = tracer
        limits = settings.inference
        self.breaker = breaker or CircuitBreaker(
            failures=getattr(limits, "circuit_breaker_failures", BREAKER_FAILURES),
            cooldown_seconds=getattr(
                limits, "circuit_breaker_cooldown_seconds", BREAKER_COOLDOWN_SECONDS
            ),
        )

    # ---- what callers use ----

    async def chat(self, model: str | ModelEntry, request: ChatRequest) -> RoutedResult[ChatResult]:
        return await self._route(model, "chat", lambda p, d: p.chat(request, d))

    async def complete(
        self, model: str | ModelEntry, request: CompletionRequest
    ) -> RoutedResult[ChatResult]:
        return await self._route(model, "complete", lambda p, d: p.complete(request, d))

    async def embed(
        self, model: str | ModelEntry, inputs: list[str]
    ) -> RoutedResult[EmbeddingResult]:
        return await self._route(model, "embed", lambda p, d: p.embed(inputs, d))

    async def count_tokens(
        self, model: str | ModelEntry, request: ChatRequest
    ) -> RoutedResult[int | None]:
        """The first deployment's own token count (None where its provider has no counter)."""
        return await self._route(model, "count_tokens", lambda p, d: p.count_tokens(request, d))

    async def chat_stream(self, model: str | ModelEntry, request: ChatRequest) -> RoutedStream:
        return await self._route_stream(
            model, "chat_stream", lambda p, d: p.chat_stream(request, d)
        )

    async def complete_stream(
        self, model: str | ModelEntry, request: CompletionRequest
    ) -> RoutedStream:
        return await self._route_stream(
            model, "complete_stream", lambda p, d: p.complete_stream(request, d)
        )

    def provider(self, name: str) -> Provider:
        """The adapter for `name`, made once per router (so SDK clients and pools are reused)."""
        if name not in self._providers:
            try:
                self._providers[name] = self._provider_factory(name)
            except ProviderError:
                raise
            except Exception as exc:  # e.g. the provider-keys secret could not be read
                raise UpstreamUnavailableError(
                    f"The provider '{name}' could not be set up.",
                    provider=name,
                    code="provider_not_configured",
                ) from exc
        return self._providers[name]

    # ---- the retry loop ----

    async def _route(
        self, model: str | ModelEntry, operation: str, call: ProviderCall[T]
    ) -> RoutedResult[T]:
        entry = self.registry.resolve(model) if isinstance(model, str) else model
        max_attempts = max(1, self.settings.inference.max_attempts_per_deployment)
        attempts = 0
        last_error: ProviderError | None = None
        for deployment in self._candidates(entry.deployments):
            for attempt in range(1, max_attempts + 1):
                attempts += 1
                try:
                    provider = self.provider(deployment.provider)
                    async with self._subsegment(operation, deployment, attempt):
                        result = await call(provider, deployment)
                except ProviderError as exc:
                    last_error = exc
                    if exc.code == REQUEST_REJECTED:
                        raise  # the request itself is bad; the next deployment would agree
                    self.breaker.record_failure(deployment)
                    delay = self._retry_delay(exc, attempt, max_attempts, deployment)
                    get_logger().warning(
                        "provider call failed",
                        extra={
                            "deployment": deployment.label,
                            "operation": operation,
                            "attempt": attempt,
                            "error_code": exc.code,
                            "retry_in_seconds": delay,
                        },
                    )
                    if delay is None:
                        break  # on to the next deployment
                    await self._sleep(delay)
                    continue
                self.breaker.record_success(deployment)
                return RoutedResult(result=result, deployment=deployment, attempts=attempts)
        assert last_error is not None  # a registry entry always has a deployment
        raise last_error

    async def _route_stream(
        self,
        model: str | ModelEntry,
        operation: str,
        open_stream: Callable[[Provider, Deployment], AsyncIterator[ChatChunk]],
    ) -> RoutedStream:
        async def first_chunk(
            provider: Provider, deployment: Deployment
        ) -> tuple[AsyncIterator[ChatChunk], ChatChunk | None]:
            # Pulling the first chunk inside the retry loop is what makes a stream retryable:
            # most upstream failures (refused, overloaded, cut at once) show up right here.
            stream = open_stream(provider, deployment)
            try:
                return stream, await anext(stream)
            except StopAsyncIteration:
                return stream, None
            except BaseException:
                await _close(stream)
                raise

        routed = await self._route(model, operation, first_chunk)
        stream, first = routed.result
        return RoutedStream(
            deployment=routed.deployment,
            chunks=self._rest_of_stream(first, stream, routed.deployment),
            attempts=routed.attempts,
        )

    async def _rest_of_stream(
        self, first: ChatChunk | None, stream: AsyncIterator[ChatChunk], deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        try:
            if first is None:
                return
            yield first
            async for chunk in stream:
                yield chunk
        except ProviderError:
            # Too late to retry (the client has output), but the breaker should know.
            self.breaker.record_failure(deployment)
            raise
        finally:
            # Also when the client hangs up: the upstream connection is released now.
            await _close(stream)

    def _candidates(self, deployments: tuple[Deployment, ...]) -> list[Deployment]:
        """Deployments in order, without those whose circuit is open, unless every one is (a
        request that might succeed beats a certain refusal)."""
        closed = [d for d in deployments if not self.breaker.is_open(d)]
        return closed or list(deployments)

    def _retry_delay(
        self, error: ProviderError, attempt: int, max_attempts: int, deployment: Deployment
    ) -> float | None:
        """Seconds to wait before retrying this deployment, or None to move on to the next."""
        if not error.retryable or attempt >= max_attempts or self.breaker.is_open(deployment):
            return None
        limits = self.settings.inference
        ceiling = min(
            limits.retry_max_delay_seconds, limits.retry_base_delay_seconds * 2 ** (attempt - 1)
        )
        delay = self._rng() * ceiling  # full jitter: spreads retries of many clients apart
        if error.retry_after is not None:
            if error.retry_after > limits.retry_max_delay_seconds:
                # The upstream asks for a longer pause than a request can afford: try elsewhere.
                return None
            delay = max(delay, error.retry_after)
        return delay

    @asynccontextmanager
    async def _subsegment(
        self, operation: str, deployment: Deployment, attempt: int
    ) -> AsyncIterator[None]:
        """An X-Ray subsegment per provider call, annotated with where it went (never a key)."""
        if self._tracer is None:
            yield
            return
        name = f"## {deployment.provider}.{operation}"
        async with self._tracer.provider.in_subsegment_async(name=name) as subsegment:
            subsegment.put_annotation("provider", deployment.provider)
            subsegment.put_annotation("deployment", deployment.label)
            # The X-Ray SDK's stub says `numbers.Number`, which mypy cannot match an int to.
            subsegment.put_annotation("attempt", attempt)  # type: ignore[arg-type]
            yield


async def _close(stream: AsyncIterator[Any]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()
