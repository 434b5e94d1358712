"""The inference service with a scripted router and in-memory repositories (no AWS, no network)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, CompletionRequest, Usage
from inference_core.db.chat_history import HistorySave
from inference_core.errors import (
    ContextWindowExceededError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    UpstreamUnavailableError,
)
from inference_core.inference.chat_sessions import ChatSessionService
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
    first = run(service.chat(Caller(), chat(), model="small", endpoint="chat", request_id="r1"))
    second = run(service.chat(Caller(), chat(), model="small", endpoint="chat", request_id="r2"))
    assert (first.cached, second.cached) == (False, True)
    assert second.result.content == first.result.content == "Hello there, friend."
    assert len(router.calls) == 1
    # The hit is not written to the ledger (it is in the log line and metrics).
    assert [r.cached for r in usage.records] == [False]


def test_cache_is_scoped_to_the_tenant_and_the_request() -> None:
    service, router, _ = make_service()
    run(service.chat(Caller("a"), chat(), model="small", endpoint="chat", request_id="r1"))
    other_tenant = run(
        service.chat(Caller("b"), chat(), model="small", endpoint="chat", request_id="r2")
    )
    other_prompt = run(
        service.chat(Caller("a"), chat("Hey"), model="small", endpoint="chat", request_id="r3")
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
    for rid in ("r1", "r2"):
        outcome = run(
            service.chat(
                Caller(), chat(), model="small", endpoint="chat", request_id=rid, use_cache=False
            )
        )
        assert not outcome.cached
    assert len(router.calls) == 2


def test_usage_carries_tokens_and_cost_from_the_registry_prices() -> None:
    service, _, usage = make_service()
    run(service.chat(Caller(), chat(), model="small", endpoint="chat", request_id="r1"))
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

    async def collect() -> tuple[list[ChatChunk], bool]:
        outcome = await service.chat_stream(
            Caller(), chat(), model="small", endpoint="chat", request_id="r"
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
@pytest.mark.parametrize("stream", [False, True], ids=["chat", "chat_stream"])
def test_bad_requests_are_refused_before_any_provider(
    kwargs: dict[str, Any], error: type[Exception], stream: bool
) -> None:
    service, router, usage = make_service(max_prompt_chars=10_000, max_tokens_cap=4096)
    request = ChatRequest(
        messages=[{"role": "user", "content": "x" * kwargs.get("prompt_chars", 10)}],
        max_tokens=kwargs.get("max_tokens", 10),
    )
    call = service.chat_stream if stream else service.chat
    with pytest.raises(error):
        run(
            call(
                kwargs.get("caller", Caller()),
                request,
                model=kwargs.get("alias", "small"),
                endpoint="chat",
                request_id="r",
            )
        )
    assert router.calls == [] and usage.records == []


@pytest.mark.parametrize(
    ("inputs", "alias", "error"),
    [
        (["x"], "nope", NotFoundError),
        (["x" * 6000, "x" * 4001], "other", InvalidRequestError),
        (["x" * 4100], "other", ContextWindowExceededError),
    ],
)
def test_bad_embedding_requests_are_refused_before_any_provider(
    inputs: list[str], alias: str, error: type[Exception]
) -> None:
    service, router, usage = make_service(max_prompt_chars=10_000)
    with pytest.raises(error):
        run(service.embed(Caller(), inputs, model=alias, endpoint="embeddings", request_id="r"))
    assert router.calls == [] and usage.records == []


def test_provider_failure_is_recorded_with_its_code_and_raised() -> None:
    service, _, usage = make_service(
        router=ScriptedRouter(fail=UpstreamUnavailableError("down", retryable=True))
    )
    with pytest.raises(UpstreamUnavailableError):
        run(service.chat(Caller(), chat(), model="small", endpoint="chat", request_id="r1"))
    assert usage.records[0].status == "upstream_unavailable"


def test_embeddings_refused_for_a_model_without_them() -> None:
    service, router, _ = make_service()
    with pytest.raises(InvalidRequestError):
        run(service.embed(Caller(), ["x"], model="small", endpoint="embeddings", request_id="r"))
    assert router.calls == []


@dataclass
class Member(Caller):
    user_id: str = "user-1"


class MemoryHistory:
    def __init__(self) -> None:
        self.saved: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}

    def load(self, session_id: str, user_id: str) -> list[dict[str, Any]]:
        owner, _model, messages = self.saved.get(session_id, ("", "", []))
        if owner != user_id:
            raise NotFoundError("no such session", code="session_not_found")
        return list(messages)

    def append(
        self,
        session_id: str,
        user_id: str,
        model: str,
        turn: list[dict[str, Any]],
        ttl_seconds: int,
    ) -> HistorySave:
        _owner, _model, stored = self.saved.get(session_id, (user_id, model, []))
        self.saved[session_id] = (user_id, model, [*stored, *turn])
        return HistorySave(saved=True, length=len(stored) + len(turn))


def chat_turn(
    sessions: ChatSessionService, text: str, session_id: str | None, **kwargs: Any
) -> Any:
    return run(
        sessions.turn(
            kwargs.pop("caller", Member()),
            text,
            session_id=session_id,
            model="small",
            system=kwargs.pop("system", None),
            max_tokens=kwargs.pop("max_tokens", 50),
            temperature=0,
            request_id="r",
            use_cache=False,
        )
    )


def test_a_chat_session_sends_only_the_newest_turns_that_fit_and_keeps_them_all() -> None:
    service, router, _ = make_service(router=ScriptedRouter(answer="ok"))
    history = MemoryHistory()
    sessions = ChatSessionService(inference=service, history=history, ttl_seconds=60)
    session_id = None
    # Each turn is ~300 tokens; the window is 1,000 (minus max_tokens and the system prompt).
    for turn in range(6):
        outcome = chat_turn(sessions, f"{turn} " + "x" * 1200, session_id, system="Be brief.")
        session_id = outcome.session_id
    assert outcome.history_length == 12 and outcome.reply == "ok" and not outcome.cached
    stored = history.saved[session_id][2]
    assert len(stored) == 12 and stored[-1] == {"role": "assistant", "content": "ok"}
    sent = router.calls[-1].messages
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert sent[-1]["content"].startswith("5 ")
    kept = len(sent) - 1
    assert 2 <= kept < 11  # trimmed to the newest turns (the stored reply to this one aside)
    assert sent[1:] == stored[-(kept + 1) : -1]


def test_a_chat_session_of_another_user_is_not_found_and_reaches_no_provider() -> None:
    service, router, _ = make_service()
    sessions = ChatSessionService(inference=service, history=MemoryHistory(), ttl_seconds=60)
    first = chat_turn(sessions, "Hi", None)
    with pytest.raises(NotFoundError):
        chat_turn(sessions, "Hi", first.session_id, caller=Member(user_id="someone-else"))
    assert len(router.calls) == 1


def test_a_chat_message_that_alone_cannot_fit_is_refused_and_not_saved() -> None:
    service, router, _ = make_service()
    history = MemoryHistory()
    sessions = ChatSessionService(inference=service, history=history, ttl_seconds=60)
    with pytest.raises(ContextWindowExceededError):
        chat_turn(sessions, "x" * 4000, None)
    assert router.calls == [] and history.saved == {}
