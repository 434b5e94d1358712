"""The router's one retry loop: retries only what is retryable, backoff with jitter (through an
injected sleep and random source), fallback to the next deployment, the circuit breaker, and
streams retried only before their first chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

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
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from inference_core.providers.base import Provider
from inference_core.registry import ModelEntry, ModelRegistry
from inference_core.router import CircuitBreaker, Router
from inference_core.settings import InferenceSettings, Settings
from inference_core.upstream_errors import REQUEST_REJECTED, error_for_status

pytestmark = pytest.mark.anyio

PRIMARY = Deployment(provider="openai", model="gpt-4o-mini")
FALLBACK = Deployment(provider="anthropic", model="claude-test-1")
REQUEST = ChatRequest(messages=[{"role": "user", "content": "hi"}])


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def answer(text: str) -> ChatResult:
    return ChatResult(content=text, finish_reason="stop", usage=Usage(3, 1))


def overloaded(retry_after: float | None = None) -> ProviderError:
    return UpstreamUnavailableError("overloaded", retryable=True, retry_after=retry_after)


def credentials_rejected() -> ProviderError:
    return error_for_status(401, provider="openai")


class ScriptedProvider(Provider):
    """Answers each call with its next scripted outcome: a result, an exception, or (for streams)
    a list of chunks that may end in an exception."""

    def __init__(self, name: str, *outcomes: Any):
        self.name = name
        self.outcomes = list(outcomes)
        self.calls = 0
        self.streams_closed = 0

    def _next(self) -> Any:
        self.calls += 1
        if not self.outcomes:
            raise AssertionError(f"{self.name} was called more often than scripted")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        return self._next()

    async def embed(self, inputs: list[str], deployment: Deployment) -> EmbeddingResult:
        return self._next()

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        try:
            for item in self._next():
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.streams_closed += 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A router over a registry of PRIMARY then FALLBACK, with recorded sleeps."""

    def __init__(
        self,
        primary: ScriptedProvider,
        fallback: ScriptedProvider | None = None,
        *,
        rng: float = 0.5,
        breaker: CircuitBreaker | None = None,
        tracer: Any = None,
        **limits: Any,
    ):
        limits = {
            "max_attempts_per_deployment": 3,
            "retry_base_delay_seconds": 0.5,
            "retry_max_delay_seconds": 4.0,
            **limits,
        }
        deployments = (PRIMARY, FALLBACK) if fallback is not None else (PRIMARY,)
        self.entry = ModelEntry(alias="chat-model", deployments=deployments)
        self.providers = {"openai": primary, "anthropic": fallback}
        self.created: list[str] = []
        self.sleeps: list[float] = []
        self.router = Router(
            ModelRegistry({"chat-model": self.entry}),
            provider_factory=self._create,
            settings=Settings(inference=InferenceSettings(**limits)),
            sleep=self._sleep,
            rng=lambda: rng,
            tracer=tracer,
            breaker=breaker,
        )

    def _create(self, name: str) -> Provider:
        self.created.append(name)
        provider = self.providers[name]
        assert provider is not None
        return provider

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


# ---- success, retries and backoff ----


async def test_a_first_time_answer_comes_back_with_its_deployment():
    h = Harness(ScriptedProvider("openai", answer("hello")))

    routed = await h.router.chat("chat-model", REQUEST)

    assert routed.result.content == "hello"
    assert routed.deployment == PRIMARY
    assert routed.attempts == 1
    assert h.sleeps == []


async def test_retryable_failures_are_retried_with_exponential_backoff_and_full_jitter():
    primary = ScriptedProvider("openai", overloaded(), overloaded(), answer("third time"))
    h = Harness(primary, rng=0.5)

    routed = await h.router.chat(h.entry, REQUEST)

    assert routed.result.content == "third time"
    assert routed.attempts == 3
    # rng() * min(max, base * 2 ** (attempt - 1)): 0.5 * 0.5, then 0.5 * 1.0
    assert h.sleeps == [0.25, 0.5]


async def test_the_backoff_ceiling_doubles_up_to_the_maximum_delay():
    primary = ScriptedProvider("openai", *(overloaded() for _ in range(5)), answer("ok"))
    h = Harness(
        primary,
        rng=1.0,
        breaker=CircuitBreaker(failures=100),  # keep the breaker out of this one
        max_attempts_per_deployment=6,
        retry_base_delay_seconds=1.0,
        retry_max_delay_seconds=4.0,
    )

    await h.router.chat(h.entry, REQUEST)

    assert h.sleeps == [1.0, 2.0, 4.0, 4.0, 4.0]


async def test_a_longer_retry_after_from_the_upstream_is_honoured():
    primary = ScriptedProvider("openai", overloaded(retry_after=3.0), answer("ok"))
    h = Harness(primary, rng=0.5)

    await h.router.chat(h.entry, REQUEST)

    assert h.sleeps == [3.0]  # not the jittered 0.25


async def test_a_retry_after_longer_than_the_maximum_delay_moves_on_instead_of_waiting():
    primary = ScriptedProvider("openai", overloaded(retry_after=30.0))
    fallback = ScriptedProvider("anthropic", answer("from fallback"))
    h = Harness(primary, fallback)

    routed = await h.router.chat(h.entry, REQUEST)

    assert routed.deployment == FALLBACK
    assert h.sleeps == []
    assert primary.calls == 1


async def test_a_deployment_gets_max_attempts_then_the_next_one_is_tried():
    primary = ScriptedProvider("openai", overloaded(), overloaded(), overloaded())
    fallback = ScriptedProvider("anthropic", answer("from fallback"))
    h = Harness(primary, fallback, max_attempts_per_deployment=3)

    routed = await h.router.chat(h.entry, REQUEST)

    assert routed.result.content == "from fallback"
    assert routed.deployment == FALLBACK
    assert (primary.calls, fallback.calls, routed.attempts) == (3, 1, 4)
    assert len(h.sleeps) == 2  # between attempts on one deployment, never before the fallback


# ---- what is not retried ----


async def test_a_non_retryable_failure_moves_on_to_the_next_deployment_at_once():
    primary = ScriptedProvider("openai", credentials_rejected())
    fallback = ScriptedProvider("anthropic", answer("from fallback"))
    h = Harness(primary, fallback)

    routed = await h.router.chat(h.entry, REQUEST)

    assert routed.deployment == FALLBACK
    assert primary.calls == 1
    assert h.sleeps == []


async def test_an_upstream_that_rejects_the_request_itself_is_final():
    primary = ScriptedProvider("openai", error_for_status(400, provider="openai"))
    fallback = ScriptedProvider("anthropic", answer("never"))
    h = Harness(primary, fallback)

    with pytest.raises(UpstreamBadResponseError) as caught:
        await h.router.chat(h.entry, REQUEST)

    assert caught.value.code == REQUEST_REJECTED
    assert fallback.calls == 0


async def test_our_own_validation_errors_are_raised_at_once():
    primary = ScriptedProvider("openai", InvalidRequestError("response_format unsupported"))
    fallback = ScriptedProvider("anthropic", answer("never"))
    h = Harness(primary, fallback)

    with pytest.raises(InvalidRequestError):
        await h.router.chat(h.entry, REQUEST)

    assert fallback.calls == 0


async def test_when_everything_fails_the_last_provider_error_is_raised():
    primary = ScriptedProvider("openai", credentials_rejected())
    timeout = UpstreamTimeoutError("slow", retryable=True)
    fallback = ScriptedProvider("anthropic", timeout, timeout, timeout)
    h = Harness(primary, fallback)

    with pytest.raises(UpstreamTimeoutError) as caught:
        await h.router.chat(h.entry, REQUEST)

    assert caught.value is timeout
    assert caught.value.status_code == 504


# ---- the circuit breaker ----


async def test_an_open_circuit_skips_its_deployment_until_the_cooldown_is_over():
    clock = Clock()
    breaker = CircuitBreaker(failures=2, cooldown_seconds=30, clock=clock)
    primary = ScriptedProvider(
        "openai", credentials_rejected(), credentials_rejected(), answer("primary is back")
    )
    fallback = ScriptedProvider("anthropic", answer("fb 1"), answer("fb 2"), answer("fb 3"))
    h = Harness(primary, fallback, breaker=breaker)

    for _ in range(2):  # two consecutive failures open the primary's circuit
        await h.router.chat(h.entry, REQUEST)
    skipped = await h.router.chat(h.entry, REQUEST)
    clock.now += 31
    recovered = await h.router.chat(h.entry, REQUEST)

    assert skipped.deployment == FALLBACK
    assert primary.calls == 3  # two failures, none while open, one trial after the cooldown
    assert recovered.deployment == PRIMARY
    assert not breaker.is_open(PRIMARY)


async def test_when_every_circuit_is_open_the_request_fails_fast_without_a_call():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown_seconds=30, clock=clock)
    breaker.record_failure(PRIMARY)
    breaker.record_failure(FALLBACK)
    primary, fallback = ScriptedProvider("openai"), ScriptedProvider("anthropic")
    h = Harness(primary, fallback, breaker=breaker)

    with pytest.raises(UpstreamUnavailableError) as raised:
        await h.router.chat(h.entry, REQUEST)

    assert raised.value.code == "circuit_open"
    assert raised.value.status_code == 503
    assert raised.value.retry_after == 30
    assert primary.calls == fallback.calls == 0


async def test_a_circuit_that_opens_during_retries_stops_them_and_moves_on():
    breaker = CircuitBreaker(failures=2, cooldown_seconds=30, clock=Clock())
    primary = ScriptedProvider("openai", overloaded(), overloaded(), answer("never"))
    fallback = ScriptedProvider("anthropic", answer("from fallback"))
    h = Harness(primary, fallback, breaker=breaker, max_attempts_per_deployment=3)

    routed = await h.router.chat(h.entry, REQUEST)

    assert routed.deployment == FALLBACK
    assert primary.calls == 2
    assert len(h.sleeps) == 1


async def test_a_success_resets_the_count_of_consecutive_failures():
    breaker = CircuitBreaker(failures=2, cooldown_seconds=30, clock=Clock())
    primary = ScriptedProvider(
        "openai", credentials_rejected(), answer("ok"), credentials_rejected(), answer("ok")
    )
    h = Harness(primary, ScriptedProvider("anthropic", answer("fb"), answer("fb")), breaker=breaker)

    for _ in range(4):
        await h.router.chat(h.entry, REQUEST)

    assert not breaker.is_open(PRIMARY)
    assert primary.calls == 4


# ---- providers, aliases, embeddings, tracing ----


async def test_providers_are_created_once_per_name():
    h = Harness(ScriptedProvider("openai", answer("1"), answer("2"), answer("3")))

    for _ in range(3):
        await h.router.chat(h.entry, REQUEST)

    assert h.created == ["openai"]


async def test_a_provider_that_cannot_be_set_up_is_skipped_like_a_failing_one():
    fallback = ScriptedProvider("anthropic", answer("from fallback"))
    h = Harness(ScriptedProvider("openai"), fallback)

    def broken_factory(name: str) -> Provider:
        if name == "openai":
            raise RuntimeError("could not read the provider-keys secret")
        return fallback

    h.router._provider_factory = broken_factory

    routed = await h.router.chat(h.entry, REQUEST)

    assert routed.deployment == FALLBACK


async def test_an_alias_is_resolved_through_the_registry_and_an_unknown_one_is_404():
    h = Harness(ScriptedProvider("openai", answer("hi")))

    assert (await h.router.chat("chat-model", REQUEST)).deployment == PRIMARY
    with pytest.raises(NotFoundError):
        await h.router.chat("no-such-model", REQUEST)


async def test_embeddings_and_completions_are_routed_the_same_way():
    vectors = EmbeddingResult(vectors=[[0.1, 0.2]], usage=Usage(2, 0))
    primary = ScriptedProvider("openai", overloaded(), vectors, answer(" world"))
    h = Harness(primary)

    embedded = await h.router.embed(h.entry, ["hello"])
    completed = await h.router.complete(h.entry, CompletionRequest(prompt="hello"))

    assert embedded.result.vectors == [[0.1, 0.2]]
    assert embedded.attempts == 2
    assert completed.result.content == " world"  # the base class turns it into chat


class RecordingTracer:
    """Stands in for Powertools' Tracer: `tracer.provider.in_subsegment_async(name=...)`."""

    def __init__(self) -> None:
        self.subsegments: list[tuple[str, dict[str, Any]]] = []
        self.provider = self

    @asynccontextmanager
    async def in_subsegment_async(self, name: str):
        annotations: dict[str, Any] = {}
        self.subsegments.append((name, annotations))

        class Subsegment:
            def put_annotation(self, key: str, value: Any) -> None:
                annotations[key] = value

        yield Subsegment()


async def test_each_provider_call_gets_a_subsegment_naming_provider_and_deployment():
    tracer = RecordingTracer()
    h = Harness(ScriptedProvider("openai", overloaded(), answer("ok")), tracer=tracer)

    await h.router.chat(h.entry, REQUEST)

    assert tracer.subsegments == [
        (
            "## openai.chat",
            {"provider": "openai", "deployment": "openai:gpt-4o-mini", "attempt": 1},
        ),
        (
            "## openai.chat",
            {"provider": "openai", "deployment": "openai:gpt-4o-mini", "attempt": 2},
        ),
    ]


# The X-Ray SDK creates its UDP emitter socket when it is first imported (it sends nothing here,
# outside a traced invocation), so this one test may create a socket.
@pytest.mark.enable_socket
async def test_the_real_powertools_tracer_works_outside_a_traced_invocation():
    from aws_lambda_powertools import Tracer

    h = Harness(ScriptedProvider("openai", answer("ok")), tracer=Tracer(service="test"))

    assert (await h.router.chat(h.entry, REQUEST)).result.content == "ok"


# ---- streams ----


async def test_a_stream_that_fails_before_its_first_chunk_is_retried():
    primary = ScriptedProvider(
        "openai",
        overloaded(),  # refused when opened
        [overloaded()],  # opened, then failed before any chunk
        [ChatChunk(content="Hel"), ChatChunk(content="lo"), ChatChunk(finish_reason="stop")],
    )
    h = Harness(primary)

    routed = await h.router.chat_stream(h.entry, REQUEST)
    chunks = [chunk async for chunk in routed.chunks]

    assert [c.content for c in chunks] == ["Hel", "lo", None]
    assert routed.attempts == 3
    assert routed.deployment == PRIMARY
    assert len(h.sleeps) == 2


async def test_a_stream_falls_back_to_the_next_deployment_before_its_first_chunk():
    primary = ScriptedProvider("openai", [credentials_rejected()])
    fallback = ScriptedProvider(
        "anthropic", [ChatChunk(content="hi"), ChatChunk(finish_reason="stop")]
    )
    h = Harness(primary, fallback)

    routed = await h.router.chat_stream(h.entry, REQUEST)

    assert routed.deployment == FALLBACK
    assert [c.content async for c in routed.chunks] == ["hi", None]
    assert primary.streams_closed == 1  # the failed attempt's stream was not left open


async def test_a_stream_that_fails_after_its_first_chunk_is_not_retried():
    cut = UpstreamBadResponseError("cut", retryable=True)
    breaker = CircuitBreaker(failures=1, cooldown_seconds=30, clock=Clock())
    primary = ScriptedProvider("openai", [ChatChunk(content="Once"), cut], [ChatChunk(content="x")])
    h = Harness(primary, breaker=breaker)

    routed = await h.router.chat_stream(h.entry, REQUEST)
    received = []
    with pytest.raises(UpstreamBadResponseError):
        async for chunk in routed.chunks:
            received.append(chunk.content)

    assert received == ["Once"]
    assert primary.calls == 1
    assert h.sleeps == []
    assert breaker.is_open(PRIMARY)  # the late failure still counts against the deployment


async def test_closing_a_routed_stream_early_closes_the_provider_stream():
    primary = ScriptedProvider(
        "openai", [ChatChunk(content="a"), ChatChunk(content="b"), ChatChunk(content="c")]
    )
    h = Harness(primary)

    routed = await h.router.chat_stream(h.entry, REQUEST)
    assert (await anext(routed.chunks)).content == "a"
    await routed.chunks.aclose()

    assert primary.streams_closed == 1


async def test_complete_stream_is_routed_like_chat_stream():
    primary = ScriptedProvider(
        "openai", overloaded(), [ChatChunk(content=" world"), ChatChunk(finish_reason="stop")]
    )
    h = Harness(primary)

    routed = await h.router.complete_stream(h.entry, CompletionRequest(prompt="hello"))

    assert [c.content async for c in routed.chunks] == [" world", None]
    assert routed.attempts == 2
