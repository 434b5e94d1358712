"""The inference service with a scripted router and in-memory repositories (no AWS, no network)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, CompletionRequest, Usage
from inference_core.errors import (
    ContextWindowExceededError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    UpstreamUnavailableError,
)
from inference_core.inference.service import InferenceService
from inference_core.registry import ModelRegistry
from inference_core.settings import Settings

REGISTRY = ModelRegistry.from_dict(
    {
        "default_model": "small",
        "models": {
            "small": {
                "deployments": [
                    {
                        "provider": "sagemaker",
                        "model": "ep",
                        "input_price_per_mtok": 2.0,
                        "output_price_per_mtok": 10.0,
                        "context_window": 1000,
                    }
                ]
            },
            "other": {
                "deployments": [{"provider": "openai", "model": "gpt", "context_window": 1000}]
            },
        },
    }
)


@dataclass
class Caller:
    tenant_id: str = "tenant-a"
    key_id: str | None = "key-1"
    allowed: set[str] | None = None

    def can_use(self, model_alias: str) -> bool:
        return self.allowed is None or model_alias in self.allowed


@dataclass
class Routed:
    result: Any
    deployment: Any
    attempts: int = 1


@dataclass
class StreamRouted:
    deployment: Any
    chunks: AsyncIterator[ChatChunk]


@dataclass
class ScriptedRouter:
    answer: str = "Hello there, friend."
    fail: Exception | None = None
    calls: list[Any] = field(default_factory=list)

    async def chat(self, entry: Any, request: Any) -> Routed:
        self.calls.append(request)
        if self.fail:
            raise self.fail
        return Routed(ChatResult(self.answer, "stop", Usage(100, 20)), entry.deployments[0])

    complete = chat

    async def chat_stream(self, entry: Any, request: Any) -> StreamRouted:
        self.calls.append(request)
        if self.fail:
            raise self.fail

        async def chunks() -> AsyncIterator[ChatChunk]:
            for word in self.answer.split(" "):
                yield ChatChunk(content=word + " ")
            yield ChatChunk(finish_reason="stop", usage=Usage(100, 20))

        return StreamRouted(entry.deployments[0], chunks())

    complete_stream = chat_stream


class MemoryCache:
    def __init__(self) -> None:
        self.items: dict[str, tuple[str, dict[str, Any]]] = {}

    def get(self, key: str, tenant_id: str) -> dict[str, Any] | None:
        found = self.items.get(key)
        return found[1] if found and found[0] == tenant_id else None

    def entry(
        self, key: str, *, tenant_id: str, model: str, response: dict[str, Any], ttl_seconds: int
    ) -> Any:
        return (key, tenant_id, response)


class MemoryUsage:
    def __init__(self, cache: MemoryCache) -> None:
        self.records: list[Any] = []
        self.cache = cache

    def record(self, usage: Any, cache_entry: Any = None) -> None:
        self.records.append(usage)
        if cache_entry is not None:
            key, tenant, response = cache_entry
            self.cache.items[key] = (tenant, response)


def make_service(
    router: ScriptedRouter | None = None, **inference: Any
) -> tuple[InferenceService, ScriptedRouter, MemoryUsage]:
    settings = Settings()
    for name, value in inference.items():
        setattr(settings.inference, name, value)
    router = router or ScriptedRouter()
    cache = MemoryCache()
    usage = MemoryUsage(cache)
    service = InferenceService(
        settings=settings, registry=REGISTRY, router=router, cache=cache, usage=usage
    )
    return service, router, usage


def chat(text: str = "Hi") -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}], max_tokens=50, temperature=0)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_second_identical_request_is_served_from_the_cache_without_the_provider() -> None:
    service, router, usage = make_service()
    entry = service.resolve(Caller(), "small", prompt_chars=2, max_tokens=50)
    first = run(service.chat(Caller(), chat(), entry=entry, endpoint="chat", request_id="r1"))
    second = run(service.chat(Caller(), chat(), entry=entry, endpoint="chat", request_id="r2"))
    assert (first.cached, second.cached) == (False, True)
    assert second.result.content == first.result.content == "Hello there, friend."
    assert len(router.calls) == 1
    # The hit is not written to the ledger (it is in the log line and metrics).
    assert [r.cached for r in usage.records] == [False]


def test_cache_is_scoped_to_the_tenant_and_the_request() -> None:
    service, router, _ = make_service()
    entry = service.resolve(Caller(), "small", prompt_chars=2, max_tokens=50)
    run(service.chat(Caller("a"), chat(), entry=entry, endpoint="chat", request_id="r1"))
    other_tenant = run(
        service.chat(Caller("b"), chat(), entry=entry, endpoint="chat", request_id="r2")
    )
    other_prompt = run(
        service.chat(Caller("a"), chat("Hey"), entry=entry, endpoint="chat", request_id="r3")
    )
    assert not other_tenant.cached and not other_prompt.cached
    assert len(router.calls) == 3


def test_cache_key_ignores_the_end_user_label_but_not_parameters() -> None:
    a = InferenceService.cache_key(
        "t", "small", ChatRequest(messages=[{"role": "user", "content": "x"}], user="u1")
    )
    b = InferenceService.cache_key(
        "t", "small", ChatRequest(messages=[{"role": "user", "content": "x"}], user="u2")
    )
    c = InferenceService.cache_key(
        "t", "small", ChatRequest(messages=[{"role": "user", "content": "x"}], temperature=1)
    )
    d = InferenceService.cache_key("t", "small", CompletionRequest(prompt="x"))
    assert a == b
    assert len({a, c, d}) == 3


def test_use_cache_false_always_reaches_the_provider() -> None:
    service, router, _ = make_service()
    entry = service.resolve(Caller(), "small", prompt_chars=2, max_tokens=50)
    for rid in ("r1", "r2"):
        outcome = run(
            service.chat(
                Caller(), chat(), entry=entry, endpoint="chat", request_id=rid, use_cache=False
            )
        )
        assert not outcome.cached
    assert len(router.calls) == 2


def test_usage_carries_tokens_and_cost_from_the_registry_prices() -> None:
    service, _, usage = make_service()
    entry = service.resolve(Caller(), "small", prompt_chars=2, max_tokens=50)
    run(service.chat(Caller(), chat(), entry=entry, endpoint="chat", request_id="r1"))
    record = usage.records[0]
    assert (record.input_tokens, record.output_tokens) == (100, 20)
    assert record.cost_usd == pytest.approx((100 * 2.0 + 20 * 10.0) / 1_000_000)
    assert (
        record.provider == "sagemaker"
        and record.key_id == "key-1"
        and record.tenant_id == "tenant-a"
    )


def test_stream_then_cached_replay_streams_in_several_chunks() -> None:
    service, router, usage = make_service(router=ScriptedRouter(answer="one two three four five"))
    entry = service.resolve(Caller(), "small", prompt_chars=2, max_tokens=50)

    async def collect() -> tuple[list[ChatChunk], bool]:
        outcome = await service.chat_stream(
            Caller(), chat(), entry=entry, endpoint="chat", request_id="r"
        )
        return [c async for c in outcome.chunks], outcome.cached

    _live, live_cached = run(collect())
    replay, replay_cached = run(collect())
    assert (live_cached, replay_cached) == (False, True)
    text = "".join(c.content or "" for c in replay)
    assert text.strip() == "one two three four five"
    assert sum(1 for c in replay if c.content) >= 5
    assert replay[-1].finish_reason == "stop"
    assert len(router.calls) == 1
    assert len(usage.records) == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"alias": "nope"}, NotFoundError),
        ({"prompt_chars": 10_001}, InvalidRequestError),
        ({"max_tokens": 5000}, InvalidRequestError),
        ({"prompt_chars": 3700, "max_tokens": 100}, ContextWindowExceededError),
        ({"caller": Caller(allowed={"other"})}, PermissionDeniedError),
    ],
)
def test_bad_requests_are_refused_before_any_provider(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    service, router, usage = make_service(max_prompt_chars=10_000, max_tokens_cap=4096)
    with pytest.raises(error):
        service.resolve(
            kwargs.get("caller", Caller()),
            kwargs.get("alias", "small"),
            prompt_chars=kwargs.get("prompt_chars", 10),
            max_tokens=kwargs.get("max_tokens", 10),
        )
    assert router.calls == [] and usage.records == []


def test_provider_failure_is_recorded_with_its_code_and_raised() -> None:
    service, _, usage = make_service(
        router=ScriptedRouter(fail=UpstreamUnavailableError("down", retryable=True))
    )
    entry = service.resolve(Caller(), "small", prompt_chars=2, max_tokens=50)
    with pytest.raises(UpstreamUnavailableError):
        run(service.chat(Caller(), chat(), entry=entry, endpoint="chat", request_id="r1"))
    assert usage.records[0].status == "upstream_unavailable"


def test_embeddings_refused_for_a_model_without_them() -> None:
    service, router, _ = make_service()
    entry = service.resolve(Caller(), "small", prompt_chars=2, max_tokens=None)
    with pytest.raises(InvalidRequestError):
        run(service.embed(Caller(), ["x"], entry=entry, endpoint="embeddings", request_id="r"))
    assert router.calls == []
