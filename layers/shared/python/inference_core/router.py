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
from inference_core.resilience import CircuitBreaker, ColdTracker, describe_deployments
from inference_core.upstream_errors import CIRCUIT_OPEN, COLD, REQUEST_REJECTED

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    from inference_core.registry import ModelEntry, ModelRegistry
    from inference_core.settings import Settings

T = TypeVar("T")
ProviderCall = Callable[[Provider, Deployment], Awaitable[T]]


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
        cold: ColdTracker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.registry = registry
        self.settings = settings
        self._provider_factory = provider_factory
        self._providers: dict[str, Provider] = {}
        self._sleep = sleep
        self._rng = rng
        self._tracer = tracer
        self.preset, self.policy = settings.inference.resilience
        self.breaker = breaker or CircuitBreaker(
            failures=self.policy.breaker_failures,
            cooldown_seconds=self.policy.breaker_recovery_seconds,
            clock=clock,
        )
        self.cold = cold or ColdTracker(
            recheck_seconds=self.policy.cold_recheck_seconds, clock=clock
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

    def describe(self) -> dict[str, Any]:
        """The active policy and every deployment's breaker and cold state (for superusers)."""
        return {
            "preset": self.preset,
            "policy": {
                **self.policy.model_dump(),
                "max_attempts_per_deployment": self.policy.max_attempts_per_deployment,
                "retry_base_delay_seconds": self.settings.inference.retry_base_delay_seconds,
                "retry_max_delay_seconds": self.settings.inference.retry_max_delay_seconds,
            },
            "models": {
                entry.alias: describe_deployments(entry.deployments, self.breaker, self.cold)
                for entry in self.registry.entries()
            },
        }

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
        max_attempts = self.policy.max_attempts_per_deployment
        attempts = 0
        last_error: ProviderError | None = None
        for deployment in entry.deployments:
            if not self.cold.admit(deployment):
                last_error = self._skipped_cold(deployment)
                continue  # cold: on to the next deployment without a call
            for attempt in range(1, max_attempts + 1):
                grant = self.breaker.acquire(deployment)
                if not grant:
                    last_error = self._skipped_open(deployment)
                    break
                attempts += 1
                verdict = False
                try:
                    provider = self.provider(deployment.provider)
                    async with self._subsegment(operation, deployment, attempt):
                        result = await call(provider, deployment)
                    verdict = True
                except ProviderError as exc:
                    last_error = exc
                    if exc.code == REQUEST_REJECTED:
                        raise  # the request itself is bad; the next deployment would agree
                    if exc.code == COLD:
                        # Not broken, just not there yet: no retries burned, no breaker count.
                        self.cold.mark_cold(deployment)
                        self._log_failure(deployment, operation, attempt, exc, None)
                        break
                    verdict = True
                    self.breaker.record_failure(deployment, trial=grant == "trial")
                    delay = self._retry_delay(exc, attempt, max_attempts, deployment)
                    self._log_failure(deployment, operation, attempt, exc, delay)
                    if delay is None:
                        break  # on to the next deployment
                    await self._sleep(delay)
                    continue
                finally:
                    if not verdict and grant == "trial":
                        self.breaker.release(deployment)  # cancelled or refused: no verdict
                self.cold.mark_warm(deployment)
                self.breaker.record_success(deployment)
                return RoutedResult(result=result, deployment=deployment, attempts=attempts)
        assert last_error is not None  # a registry entry always has a deployment
        raise last_error

    def _skipped_open(self, deployment: Deployment) -> ProviderError:
        return UpstreamUnavailableError(
            f"The deployment '{deployment.label}' is failing; its circuit breaker is open.",
            provider=deployment.provider,
            retry_after=max(1.0, self.breaker.seconds_until_trial(deployment)),
            code=CIRCUIT_OPEN,
        )

    def _skipped_cold(self, deployment: Deployment) -> ProviderError:
        return UpstreamUnavailableError(
            f"The deployment '{deployment.label}' is scaling up from zero; retry shortly.",
            provider=deployment.provider,
            retry_after=max(1.0, self.cold.seconds_until_probe(deployment)),
            code=COLD,
        )

    def _log_failure(
        self,
        deployment: Deployment,
        operation: str,
        attempt: int,
        exc: ProviderError,
        delay: float | None,
    ) -> None:
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
