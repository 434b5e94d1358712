"""The Anthropic pass-through, piece by piece: the provider forwarding a client's own Messages body
(beta header and query, raw answers, `count_tokens`) against a recorded-shape upstream, the
translation of its answers and streams, the registry's per-deployment limits and alias patterns,
the service choosing deployments that can take a request, and the estimator over a native body."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anthropic
import pytest

from inference_core import estimate
from inference_core.canonical import (
    AnthropicPassthrough,
    ChatChunk,
    ChatRequest,
    ChatResult,
    Deployment,
    Usage,
)
from inference_core.errors import (
    ContextWindowExceededError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    UpstreamBadResponseError,
    UpstreamUnavailableError,
)
from inference_core.inference.service import InferenceService
from inference_core.providers.anthropic import AnthropicProvider
from inference_core.registry import ModelRegistry
from inference_core.settings import Settings
from inference_core.translation.anthropic_messages import (
    anthropic_count_request_to_chat,
    anthropic_request_to_chat,
    chat_result_to_anthropic_message,
    chunks_to_anthropic_events,
)
from inference_core.translation.anthropic_wire import events_from_message, message_from_events

from .conftest import (
    API_KEY,
    FakeUpstream,
    anthropic_sse,
    collect,
    formatted,
    json_reply,
    sse_reply,
)

pytestmark = pytest.mark.anyio

CLAUDE = Deployment(provider="anthropic", model="claude-test-1")
BODY: dict[str, Any] = {
    "model": "claude-alias",
    "max_tokens": 32_000,
    "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    "thinking": {"type": "adaptive"},
    "output_config": {"effort": "medium"},
    "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
    "metadata": {"user_id": "u-1"},
}
MESSAGE: dict[str, Any] = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-test-1",
    "content": [
        {"type": "thinking", "thinking": "Short answer.", "signature": "sig=="},
        {"type": "text", "text": "Hello!"},
        {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"path": "a.py"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 3,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 900,
        "output_tokens": 25,
    },
}


def passthrough_request(body: dict[str, Any] | None = None, **flags: Any) -> ChatRequest:
    request, _, _ = anthropic_request_to_chat(body or BODY, **flags)
    return request


def provider_for(upstream: FakeUpstream) -> AnthropicProvider:
    return AnthropicProvider(api_key=API_KEY, http_client=upstream.client())


async def aiter_of(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


# ---- the provider ----


async def test_a_passthrough_request_is_posted_as_the_client_wrote_it() -> None:
    upstream = FakeUpstream(json_reply(MESSAGE))
    request = passthrough_request(betas=["context-management-2025-06-27", "x-1"], beta_query=True)

    result = await provider_for(upstream).chat(request, CLAUDE)

    sent = upstream.requests[0]
    assert sent.url.path == "/v1/messages" and sent.url.params["beta"] == "true"
    assert sent.headers["anthropic-beta"] == "context-management-2025-06-27,x-1"
    assert upstream.body() == {**BODY, "model": "claude-test-1"}
    assert result.anthropic_message == MESSAGE  # whole, thinking and all
    assert result.content == "Hello!" and result.finish_reason == "tool_calls"
    assert result.usage == Usage(1003, 25, cached_input_tokens=900, cache_creation_input_tokens=100)


async def test_without_betas_nothing_extra_is_sent() -> None:
    upstream = FakeUpstream(json_reply(MESSAGE))
    await provider_for(upstream).chat(passthrough_request(), CLAUDE)
    sent = upstream.requests[0]
    assert "beta" not in sent.url.params and "anthropic-beta" not in sent.headers


async def test_a_passthrough_request_goes_to_the_deployments_own_upstream_and_key() -> None:
    upstream = FakeUpstream(json_reply(MESSAGE))
    keys = {"anthropic": API_KEY, "anthropic-team-b": "sk-ant-TEAM-B-91c2"}
    provider = AnthropicProvider(api_key=None, keys=keys.get, http_client=upstream.client())
    team_b = Deployment(
        provider="anthropic",
        model="claude-test-1",
        base_url="https://anthropic-proxy.internal.example",
        api_key="anthropic-team-b",
    )

    await provider.chat(passthrough_request(), team_b)

    sent = upstream.requests[0]
    assert sent.url.host == "anthropic-proxy.internal.example"
    assert "sk-ant-TEAM-B-91c2" in (
        sent.headers.get("x-api-key", "") + sent.headers.get("authorization", "")
    )
    assert API_KEY not in str(sent.headers)


async def test_a_passthrough_stream_carries_every_event_and_its_reading() -> None:
    events = events_from_message(MESSAGE)
    upstream = FakeUpstream(sse_reply(anthropic_sse(*events)))

    chunks = await collect(provider_for(upstream).chat_stream(passthrough_request(), CLAUDE))

    assert upstream.body()["stream"] is True
    assert [c.anthropic_event for c in chunks if c.anthropic_event] == events
    assert "".join(c.content or "" for c in chunks) == "Hello!"
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].usage == Usage(
        1003, 25, cached_input_tokens=900, cache_creation_input_tokens=100
    )


async def test_a_cut_passthrough_stream_is_a_retryable_bad_response() -> None:
    events = events_from_message(MESSAGE)[:-1]  # no message_stop
    upstream = FakeUpstream(sse_reply(anthropic_sse(*events)))

    with pytest.raises(UpstreamBadResponseError) as caught:
        await collect(provider_for(upstream).chat_stream(passthrough_request(), CLAUDE))

    assert caught.value.retryable is True


async def test_an_error_event_mid_stream_is_ours() -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "SECRET-ECHO"}}
    events = [*events_from_message(MESSAGE)[:3], overloaded]
    upstream = FakeUpstream(sse_reply(anthropic_sse(*events)))

    with pytest.raises(ProviderError) as caught:
        await collect(provider_for(upstream).chat_stream(passthrough_request(), CLAUDE))

    assert "SECRET-ECHO" not in formatted(caught.value)


async def test_passthrough_errors_are_ours_and_never_echo_the_upstream() -> None:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "SECRET-ECHO"}}
    upstream = FakeUpstream(json_reply(body, status=429, headers={"retry-after": "3"}))

    with pytest.raises(UpstreamUnavailableError) as caught:  # the gateway's 429 is its own
        await provider_for(upstream).chat(passthrough_request(), CLAUDE)

    assert caught.value.retry_after == 3
    assert "SECRET-ECHO" not in formatted(caught.value) and API_KEY not in formatted(caught.value)


async def test_count_tokens_asks_anthropic_with_the_prompt_only() -> None:
    upstream = FakeUpstream(json_reply({"input_tokens": 4242}))
    request, _ = anthropic_count_request_to_chat(
        {k: v for k, v in BODY.items() if k != "max_tokens"}, betas=["b-1"]
    )

    assert await provider_for(upstream).count_tokens(request, CLAUDE) == 4242

    assert upstream.requests[0].url.path == "/v1/messages/count_tokens"
    assert upstream.requests[0].headers["anthropic-beta"] == "b-1"
    sent = upstream.body()
    assert "max_tokens" not in sent and "metadata" not in sent
    assert sent["thinking"] == {"type": "adaptive"} and sent["model"] == "claude-test-1"


async def test_count_tokens_of_a_canonical_request_translates_it() -> None:
    upstream = FakeUpstream(json_reply({"input_tokens": 9}))
    request = ChatRequest(
        messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}]
    )
    assert await provider_for(upstream).count_tokens(request, CLAUDE) == 9
    assert upstream.body() == {
        "model": "claude-test-1",
        "messages": [{"role": "user", "content": "hi"}],
        "system": "S",
    }


# ---- the endpoint side ----


def test_a_passthrough_answer_is_the_upstreams_own_message() -> None:
    result = ChatResult("Hello!", "tool_calls", Usage(1003, 25), anthropic_message=MESSAGE)
    assert chat_result_to_anthropic_message(result, "claude-alias", "msg_x") == MESSAGE


def test_a_translated_answer_reports_the_stop_sequence_and_cache_usage() -> None:
    result = ChatResult("1, 2", "stop", Usage(50, 4, cached_input_tokens=40), stop_sequence="3")
    message = chat_result_to_anthropic_message(result, "m", "msg_x")
    assert (message["stop_reason"], message["stop_sequence"]) == ("stop_sequence", "3")
    assert message["usage"] == {
        "input_tokens": 10,
        "output_tokens": 4,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 40,
    }
    anthropic.types.Message.model_validate(message)


async def test_relayed_events_are_the_upstreams_with_a_ping_after_the_start() -> None:
    events = events_from_message(MESSAGE)
    chunks = [ChatChunk(anthropic_event=e) for e in events]

    relayed = await collect(chunks_to_anthropic_events(aiter_of(chunks), "m", "msg_x", 1))

    assert [name for name, _ in relayed] == [events[0]["type"], "ping"] + [
        e["type"] for e in events[1:]
    ]
    assert [e for name, e in relayed if name != "ping"] == events


def test_events_and_messages_round_trip() -> None:
    assert message_from_events(events_from_message(MESSAGE)) == MESSAGE


def test_a_stream_that_never_started_adds_up_to_nothing() -> None:
    assert message_from_events([{"type": "ping"}]) is None


def test_count_requests_refuse_max_tokens_and_stream() -> None:
    for name, value in (("max_tokens", 5), ("stream", True)):
        with pytest.raises(InvalidRequestError) as caught:
            anthropic_count_request_to_chat(
                {**{k: v for k, v in BODY.items() if k != "max_tokens"}, name: value}
            )
        assert caught.value.param == name


# ---- the registry ----


def registry(*deployments: dict[str, Any], **spec: Any) -> ModelRegistry:
    return ModelRegistry.from_dict(
        {
            "models": {
                "claude": {"deployments": list(deployments), **spec},
                "claude-sonnet-4-6": {"deployments": [{"provider": "openai", "model": "x"}]},
            }
        }
    )


def test_aliases_match_dated_ids_and_exact_names_win() -> None:
    models = registry(
        {"provider": "anthropic", "model": "claude-sonnet-4-6"},
        match=["claude-sonnet-4-6-*", "claude-opus-*"],
    )
    assert models.resolve("claude-sonnet-4-6-20260217").alias == "claude"
    assert models.resolve("claude-opus-4-7").alias == "claude"
    assert models.resolve("claude-sonnet-4-6").alias == "claude-sonnet-4-6"
    with pytest.raises(NotFoundError):
        models.resolve("claude-haiku-4-5")


def test_a_deployment_reads_its_output_limit_and_drop_flag() -> None:
    entry = registry(
        {
            "provider": "sagemaker",
            "model": "m",
            "max_output_tokens": 8000,
            "drop_unsupported": True,
        },
        match="claude-*",
    ).resolve("claude-x")
    assert entry.deployments[0].max_output_tokens == 8000
    assert entry.deployments[0].drop_unsupported is True
    assert entry.match == ("claude-*",)


# ---- the service: which deployments can take a request ----


@dataclass
class RecordingRouter:
    entries: list[Any] = field(default_factory=list)
    count: int | Exception | None = 77

    async def chat(self, entry: Any, request: Any) -> Any:
        self.entries.append(entry)
        return _Routed(ChatResult("ok", "stop", Usage(5, 1)), entry.deployments[0])

    async def count_tokens(self, entry: Any, request: Any) -> Any:
        self.entries.append(entry)
        if isinstance(self.count, Exception):
            raise self.count
        return _Routed(self.count, entry.deployments[0])


@dataclass
class _Routed:
    result: Any
    deployment: Any


class _Nothing:
    def get(self, key: str, tenant_id: str) -> None:
        return None

    def entry(self, *args: Any, **kwargs: Any) -> None:
        return None

    def record(self, usage: Any, cache_entry: Any = None) -> None:
        pass


@dataclass
class Caller:
    tenant_id: str = "t"
    key_id: str | None = "k"

    def can_use(self, model_alias: str) -> bool:
        return True


def service_for(
    *deployments: dict[str, Any], router: RecordingRouter | None = None
) -> tuple[InferenceService, RecordingRouter]:
    settings = Settings()
    settings.inference.max_tokens_cap = 4096
    settings.inference.cache_enabled = False
    router = router or RecordingRouter()
    service = InferenceService(
        settings=settings,
        registry=registry(*deployments),
        router=router,  # type: ignore[arg-type]  # only what these tests call
        cache=_Nothing(),  # type: ignore[arg-type]
        usage=_Nothing(),  # type: ignore[arg-type]
    )
    return service, router


async def serve(service: InferenceService, request: ChatRequest) -> Any:
    return await service.chat(
        Caller(), request, model="claude", endpoint="messages", request_id="r"
    )


ANTHROPIC = {
    "provider": "anthropic",
    "model": "c",
    "context_window": 200_000,
    "max_output_tokens": 64_000,
}
LOCAL = {"provider": "sagemaker", "model": "l", "context_window": 8_000}


async def test_fields_only_anthropic_takes_skip_other_deployments() -> None:
    service, router = service_for(ANTHROPIC, {**LOCAL, "context_window": 200_000})
    request = passthrough_request({**BODY, "max_tokens": 1000})

    outcome = await serve(service, request)

    assert [d.provider for d in router.entries[0].deployments] == ["anthropic"]
    assert outcome.dropped_params == []


async def test_a_request_without_them_may_fall_back_anywhere() -> None:
    service, router = service_for(ANTHROPIC, LOCAL)
    plain = {"model": "claude", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    await serve(service, passthrough_request(plain))
    assert [d.provider for d in router.entries[0].deployments] == ["anthropic", "sagemaker"]


async def test_max_tokens_beyond_a_deployments_limit_skips_it() -> None:
    service, router = service_for(ANTHROPIC, LOCAL)
    plain = {
        "model": "claude",
        "max_tokens": 32_000,
        "messages": [{"role": "user", "content": "hi"}],
    }
    await serve(service, passthrough_request(plain))
    assert [d.provider for d in router.entries[0].deployments] == ["anthropic"]


async def test_no_deployment_able_to_take_it_is_the_first_refusal() -> None:
    service, router = service_for(LOCAL)
    with pytest.raises(InvalidRequestError) as caught:
        await serve(service, passthrough_request({**BODY, "max_tokens": 100}))
    assert caught.value.param == "context_management" and router.entries == []

    plain = {"model": "claude", "max_tokens": 4097, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(InvalidRequestError) as too_many:
        await serve(service, passthrough_request(plain))
    assert too_many.value.param == "max_tokens"

    long = "word " * 7_000
    with pytest.raises(ContextWindowExceededError):
        await serve(
            service,
            passthrough_request(
                {
                    "model": "claude",
                    "max_tokens": 100,
                    "messages": [{"role": "user", "content": long}],
                }
            ),
        )


async def test_a_lenient_deployment_serves_and_names_what_it_dropped() -> None:
    service, _ = service_for({**LOCAL, "drop_unsupported": True})
    outcome = await serve(service, passthrough_request({**BODY, "max_tokens": 100}))
    assert outcome.dropped_params == ["context_management", "output_config", "thinking"]


async def test_count_tokens_prefers_the_providers_count_and_falls_back_to_the_estimate() -> None:
    service, _ = service_for(ANTHROPIC)
    request, _ = anthropic_count_request_to_chat(
        {k: v for k, v in BODY.items() if k != "max_tokens"}
    )
    counted = await service.count_tokens(Caller(), request, "claude")
    assert (counted.input_tokens, counted.source) == (77, "provider")

    down, _ = service_for(
        ANTHROPIC, router=RecordingRouter(count=UpstreamUnavailableError("down", retryable=True))
    )
    estimated = await down.count_tokens(Caller(), request, "claude")
    assert estimated.source == "estimate"
    assert estimated.input_tokens == estimate.prompt_tokens(request)


async def test_count_tokens_for_a_strict_deployment_refuses_what_it_cannot_take() -> None:
    service, router = service_for(LOCAL)
    request, _ = anthropic_count_request_to_chat(
        {k: v for k, v in BODY.items() if k != "max_tokens"}
    )
    with pytest.raises(InvalidRequestError):
        await service.count_tokens(Caller(), request, "claude")
    assert router.entries == []


# ---- the estimator over a native body ----


def test_a_document_counts_as_a_fixed_figure_not_by_its_base64() -> None:
    pdf = {"type": "base64", "media_type": "application/pdf", "data": "A" * 400_000}
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": pdf},
                    {"type": "text", "text": "Sum up"},
                ],
            }
        ]
    }
    tokens = estimate.anthropic_body_tokens(body)
    assert estimate.IMAGE_TOKENS < tokens < estimate.IMAGE_TOKENS + 50


def test_a_passthrough_estimate_sees_what_the_canonical_form_dropped() -> None:
    body = {
        "model": "m",
        "max_tokens": 5,
        "messages": [
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": "t" * 4000, "signature": "s"}],
            },
            {"role": "user", "content": "ok"},
        ],
    }
    request = passthrough_request(body)
    assert estimate.prompt_tokens(request) >= 1000
    assert estimate.chat_prompt_tokens(request) < 20
    assert isinstance(request.anthropic, AnthropicPassthrough)
    json.dumps(request.anthropic.body)  # plain JSON, cacheable
