"""Resilience presets (and their validation at start), the breaker's single half-open trial under
concurrent callers, and cold-aware routing around a self-hosted endpoint that is cold, then warm."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import ValidationError

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, Deployment, Usage
from inference_core.errors import UpstreamUnavailableError
from inference_core.providers.base import Provider
from inference_core.registry import ModelEntry, ModelRegistry
from inference_core.resilience import PRESETS, CircuitBreaker
from inference_core.router import Router
from inference_core.settings import InferenceSettings, Settings
from inference_core.upstream_errors import COLD

pytestmark = pytest.mark.anyio

SELF_HOSTED = Deployment(provider="sagemaker", model="smollm2-endpoint")
HOSTED = Deployment(provider="openai", model="gpt-4o-mini")
REQUEST = ChatRequest(messages=[{"role": "user", "content": "hi"}])


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# ---- presets ----


@pytest.mark.parametrize(
    ("preset", "retries", "failures", "recovery"),
    [("simple", 3, 5, 60), ("development", 2, 3, 30), ("production", 5, 10, 120)],
)
def test_each_preset_sets_retries_breaker_threshold_and_recovery(
    monkeypatch: pytest.MonkeyPatch, preset: str, retries: int, failures: int, recovery: float
) -> None:
    monkeypatch.setenv("IC_RESILIENCE_PRESET", preset)

    name, policy = InferenceSettings().resilience

    assert name == preset
    assert (policy.retries, policy.breaker_failures, policy.breaker_recovery_seconds) == (
        retries,
        failures,
        recovery,
    )
    assert policy.max_attempts_per_deployment == retries + 1


def test_a_json_override_starts_from_its_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IC_RESILIENCE_PRESET", '{"preset": "production", "retries": 1}')

    name, policy = InferenceSettings().resilience

    assert name == "custom (production)"
    assert policy.retries == 1
    assert policy.breaker_failures == PRESETS["production"].breaker_failures


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ('{"retries": -1}', "'retries'"),
        ('{"breaker_failures": "many"}', "'breaker_failures'"),
        ('{"breaker_recovery_seconds": 0}', "'breaker_recovery_seconds'"),
        ('{"retires": 2}', "'retires'"),  # a typo is refused, not ignored
        ('{"preset": "fast"}', "'preset'"),
        ("paranoid", "unknown preset 'paranoid'"),
        ('{"retries": 2', "not valid JSON"),
        ("[1, 2]", "must be an object"),
    ],
)
def test_a_bad_preset_refuses_to_start_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, value: str, named: str
) -> None:
    monkeypatch.setenv("IC_RESILIENCE_PRESET", value)

    with pytest.raises(ValidationError) as raised:
        Settings()

    assert "IC_RESILIENCE_PRESET" in str(raised.value)
    assert named in str(raised.value)


def test_without_a_preset_the_individual_settings_apply() -> None:
    name, policy = InferenceSettings(
        max_attempts_per_deployment=4, circuit_breaker_failures=7
    ).resilience

    assert name == "settings"
    assert policy.max_attempts_per_deployment == 4 and policy.breaker_failures == 7


# ---- fakes ----


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answer(text: str) -> ChatResult:
    return ChatResult(content=text, finish_reason="stop", usage=Usage(3, 1))


class ChatOnlyProvider(Provider):
    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        raise AssertionError("these tests route plain chat only")
        yield  # pragma: no cover - makes this an async generator


class GatedProvider(ChatOnlyProvider):
    """Answers after `gate` opens (so callers overlap), or fails with `error` while it is set."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.error: Exception | None = None

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        self.calls += 1
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return answer(f"from {self.name}")


class FakeColdEndpoint(ChatOnlyProvider):
    """A SageMaker inference component scaled to zero: "no capacity" until `warm` is set."""

    name = "sagemaker"

    def __init__(self) -> None:
        self.calls = 0
        self.warm = False

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        self.calls += 1
        if not self.warm:
            raise UpstreamUnavailableError(
                "no copy of the model yet", retryable=True, provider="sagemaker", code=COLD
            )
        return answer("from the self-hosted model")


def make_router(
    providers: dict[str, Provider], deployments: tuple[Deployment, ...], clock: Clock, **limits: Any
) -> Router:
    entry = ModelEntry(alias="chat-model", deployments=deployments)
    settings = Settings(
        inference=InferenceSettings(
            **{"retry_base_delay_seconds": 0.0, "retry_max_delay_seconds": 0.0, **limits}
        )
    )

    async def no_sleep(seconds: float) -> None:
        return None

    return Router(
        ModelRegistry({"chat-model": entry}),
        provider_factory=lambda name: providers[name],
        settings=settings,
        sleep=no_sleep,
        clock=clock,
    )


# ---- half-open: exactly one trial ----


async def settle(condition: Callable[[], bool]) -> None:
    """Let the event loop run until `condition` holds (bounded, so a broken router fails)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the callers did not get where the test expected")


async def open_then_recover(router: Router, primary: GatedProvider, clock: Clock) -> None:
    primary.error = UpstreamUnavailableError("down", retryable=True)
    await router.chat("chat-model", REQUEST)  # fails over; the primary's circuit opens
    assert router.breaker.state(HOSTED) == "open"
    clock.now += 61
    assert router.breaker.state(HOSTED) == "half_open"
    primary.error = None
    primary.calls = 0


async def test_half_open_lets_exactly_one_of_many_concurrent_callers_through() -> None:
    clock = Clock()
    primary, fallback = GatedProvider("openai"), GatedProvider("sagemaker")
    router = make_router(
        {"openai": primary, "sagemaker": fallback},
        (HOSTED, SELF_HOSTED),
        clock,
        resilience_preset='{"retries": 0, "breaker_failures": 1}',
    )
    await open_then_recover(router, primary, clock)
    primary.gate.clear()  # the trial call hangs until we let it answer

    callers = [asyncio.create_task(router.chat("chat-model", REQUEST)) for _ in range(10)]
    await settle(lambda: fallback.calls + primary.calls >= 10)
    assert primary.calls == 1  # one trial; nine callers went to the fallback meanwhile
    primary.gate.set()
    results = await asyncio.gather(*callers)

    assert sorted(r.deployment.provider for r in results) == ["openai"] + ["sagemaker"] * 9
    assert router.breaker.state(HOSTED) == "closed"
    after = await router.chat("chat-model", REQUEST)
    assert after.deployment == HOSTED  # traffic is back on the primary


async def test_a_failed_trial_reopens_the_circuit_at_once() -> None:
    clock = Clock()
    primary, fallback = GatedProvider("openai"), GatedProvider("sagemaker")
    router = make_router(
        {"openai": primary, "sagemaker": fallback},
        (HOSTED, SELF_HOSTED),
        clock,
        resilience_preset='{"retries": 2, "breaker_failures": 1}',
    )
    await open_then_recover(router, primary, clock)
    primary.error = UpstreamUnavailableError("still down", retryable=True)

    routed = await router.chat("chat-model", REQUEST)

    assert routed.deployment == SELF_HOSTED
    assert primary.calls == 1  # the trial is not retried
    assert router.breaker.state(HOSTED) == "open"
    assert router.breaker.seconds_until_trial(HOSTED) == 60


async def test_a_trial_whose_caller_goes_away_frees_the_trial_for_the_next_caller() -> None:
    clock = Clock()
    primary, fallback = GatedProvider("openai"), GatedProvider("sagemaker")
    router = make_router(
        {"openai": primary, "sagemaker": fallback},
        (HOSTED, SELF_HOSTED),
        clock,
        resilience_preset='{"retries": 0, "breaker_failures": 1}',
    )
    await open_then_recover(router, primary, clock)
    primary.gate.clear()
    trial = asyncio.create_task(router.chat("chat-model", REQUEST))
    await settle(lambda: primary.calls >= 1)
    trial.cancel()  # the client hung up mid-trial
    with pytest.raises(asyncio.CancelledError):
        await trial
    primary.gate.set()

    routed = await router.chat("chat-model", REQUEST)

    assert routed.deployment == HOSTED  # a new trial was allowed, and it closed the circuit
    assert router.breaker.state(HOSTED) == "closed"


def test_a_trial_that_never_reports_back_expires_after_a_recovery_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown_seconds=60, clock=clock)
    breaker.record_failure(HOSTED)
    clock.now += 61

    assert breaker.acquire(HOSTED) == "trial"
    assert breaker.acquire(HOSTED) == ""
    clock.now += 61
    assert breaker.acquire(HOSTED) == "trial"


# ---- cold-aware routing ----


async def test_a_cold_self_hosted_model_sends_traffic_on_at_once_and_back_once_warm() -> None:
    clock = Clock()
    cold_endpoint, hosted = FakeColdEndpoint(), GatedProvider("openai")
    router = make_router(
        {"sagemaker": cold_endpoint, "openai": hosted},
        (SELF_HOSTED, HOSTED),
        clock,
        resilience_preset='{"preset": "production", "cold_recheck_seconds": 20}',
    )

    first = await router.chat("chat-model", REQUEST)
    assert first.deployment == HOSTED
    assert cold_endpoint.calls == 1  # one call (which starts the scale-up), no retries burned
    assert first.attempts == 2
    assert router.breaker.state(SELF_HOSTED) == "closed"  # cold is not broken

    for _ in range(3):  # while cold, it is skipped without a call
        assert (await router.chat("chat-model", REQUEST)).deployment == HOSTED
    assert cold_endpoint.calls == 1

    clock.now += 21  # next probe: still cold
    assert (await router.chat("chat-model", REQUEST)).deployment == HOSTED
    assert cold_endpoint.calls == 2

    cold_endpoint.warm = True
    clock.now += 21
    warm = await router.chat("chat-model", REQUEST)
    assert warm.deployment == SELF_HOSTED
    assert (await router.chat("chat-model", REQUEST)).deployment == SELF_HOSTED
    assert not router.cold.is_cold(SELF_HOSTED)


async def test_an_alias_with_only_a_cold_deployment_is_a_503_with_retry_after() -> None:
    clock = Clock()
    cold_endpoint = FakeColdEndpoint()
    router = make_router(
        {"sagemaker": cold_endpoint},
        (SELF_HOSTED,),
        clock,
        resilience_preset='{"cold_recheck_seconds": 15}',
    )

    with pytest.raises(UpstreamUnavailableError) as first:
        await router.chat("chat-model", REQUEST)
    with pytest.raises(UpstreamUnavailableError) as second:
        await router.chat("chat-model", REQUEST)

    assert first.value.code == second.value.code == COLD
    assert second.value.status_code == 503 and second.value.retry_after == 15
    assert cold_endpoint.calls == 1


async def test_describe_shows_the_policy_and_each_deployments_state() -> None:
    clock = Clock()
    cold_endpoint, hosted = FakeColdEndpoint(), GatedProvider("openai")
    router = make_router(
        {"sagemaker": cold_endpoint, "openai": hosted},
        (SELF_HOSTED, HOSTED),
        clock,
        resilience_preset="development",
    )
    await router.chat("chat-model", REQUEST)

    described = router.describe()

    assert described["preset"] == "development"
    assert described["policy"]["retries"] == 2
    assert described["policy"]["max_attempts_per_deployment"] == 3
    states = {d["deployment"]: d for d in described["models"]["chat-model"]}
    assert states["sagemaker:smollm2-endpoint"]["cold"] is True
    assert states["openai:gpt-4o-mini"]["breaker"]["state"] == "closed"


def test_the_routers_refusals_tell_the_client_when_to_come_back() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from inference_core.api.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/chat/completions")
    def cold() -> None:
        raise UpstreamUnavailableError(
            "scaling up", provider="sagemaker", code=COLD, retry_after=12.2
        )

    response = TestClient(app).post("/v1/chat/completions")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "13"
    assert response.json()["error"]["code"] == COLD
