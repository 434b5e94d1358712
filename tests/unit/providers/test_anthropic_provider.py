"""The Anthropic adapter against a recorded-shape fake upstream (the real `anthropic` SDK, a mock
transport): translation on the wire, stop reasons, streams, and error mapping."""

from __future__ import annotations

import pytest

from inference_core.canonical import ChatRequest, CompletionRequest, Deployment, Usage
from inference_core.errors import (
    InvalidRequestError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from inference_core.providers.anthropic import AnthropicProvider
from inference_core.settings import get_settings
from inference_core.upstream_errors import REQUEST_REJECTED

from .conftest import (
    API_KEY,
    FakeUpstream,
    anthropic_sse,
    collect,
    connect_error_reply,
    formatted,
    json_reply,
    sse_reply,
    timeout_reply,
)

pytestmark = pytest.mark.anyio

# A made-up model id: the SDK warns about deprecated real ones, and warnings fail tests.
CLAUDE = Deployment(provider="anthropic", model="claude-test-1")
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def provider_for(upstream: FakeUpstream, **kwargs) -> AnthropicProvider:
    return AnthropicProvider(api_key=API_KEY, http_client=upstream.client(), **kwargs)


def message(content: list[dict], stop_reason: str = "end_turn", usage=(10, 4)) -> dict:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-1",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }


def message_start(input_tokens: int = 15) -> dict:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-test-1",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        },
    }


def text_block(index: int, *pieces: str) -> list[dict]:
    return [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": p},
            }
            for p in pieces
        ),
        {"type": "content_block_stop", "index": index},
    ]


def tool_block(index: int, tool_id: str, name: str, *json_pieces: str) -> list[dict]:
    return [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "tool_use", "id": tool_id, "name": name, "input": {}},
        },
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": p},
            }
            for p in json_pieces
        ),
        {"type": "content_block_stop", "index": index},
    ]


def message_end(stop_reason: str, output_tokens: int) -> list[dict]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
        {"type": "message_stop"},
    ]


def sent_key(request) -> str | None:
    """The credential on the wire: `x-api-key` (older SDKs) or a bearer token (newer ones)."""
    if "x-api-key" in request.headers:
        return request.headers["x-api-key"]
    return request.headers.get("authorization", "").removeprefix("Bearer ")


# ---- plain chat ----


async def test_chat_translates_the_request_and_reads_the_answer():
    upstream = FakeUpstream(json_reply(message([{"type": "text", "text": "Paris."}])))
    request = ChatRequest(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Capital of France?"},
        ],
        temperature=1.6,
        top_p=0.9,
        stop=["\n\n"],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        user="end-user-1",
    )

    result = await provider_for(upstream).chat(request, CLAUDE)

    assert result.content == "Paris."
    assert result.finish_reason == "stop"
    assert result.usage == Usage(10, 4)
    sent = upstream.requests[0]
    assert str(sent.url) == "https://api.anthropic.com/v1/messages"
    assert sent_key(sent) == API_KEY
    assert upstream.body() == {
        "model": "claude-test-1",
        "max_tokens": 1024,  # Anthropic requires it; the caller left it out
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Capital of France?"}],
        "temperature": 1.0,  # OpenAI's scale tops out at 2, Anthropic's at 1
        "top_p": 0.9,
        "stop_sequences": ["\n\n"],
        "tools": [
            {
                "name": "get_weather",
                "description": "Weather for a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
        "tool_choice": {"type": "any"},
        "metadata": {"user_id": "end-user-1"},
    }


async def test_chat_sends_a_tool_round_trip_as_tool_use_and_tool_result_blocks():
    upstream = FakeUpstream(
        json_reply(
            message(
                [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "toolu_2",
                        "name": "get_weather",
                        "input": {"city": "Rome"},
                    },
                ],
                stop_reason="tool_use",
            )
        )
    )
    request = ChatRequest(
        messages=[
            {"role": "user", "content": "Weather in Oslo, then Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "-3C, snow"},
        ],
        tools=[WEATHER_TOOL],
    )

    result = await provider_for(upstream).chat(request, CLAUDE)

    assert upstream.body()["messages"] == [
        {"role": "user", "content": "Weather in Oslo, then Rome?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                }
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "-3C, snow"}],
        },
    ]
    assert result.finish_reason == "tool_calls"
    assert result.content == "Checking."
    assert result.tool_calls == [
        {
            "id": "toolu_2",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
        }
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
    ],
)
async def test_stop_reasons_become_openai_finish_reasons(stop_reason, finish_reason):
    upstream = FakeUpstream(json_reply(message([{"type": "text", "text": "x"}], stop_reason)))

    result = await provider_for(upstream).chat(
        ChatRequest(messages=[{"role": "user", "content": "hi"}]), CLAUDE
    )

    assert result.finish_reason == finish_reason


async def test_the_default_max_tokens_respects_the_gateway_cap(monkeypatch):
    monkeypatch.setenv("IC_MAX_TOKENS_CAP", "256")
    monkeypatch.setenv("IC_ANTHROPIC_API_KEY", API_KEY)
    get_settings.cache_clear()
    upstream = FakeUpstream(json_reply(message([{"type": "text", "text": "ok"}])))
    provider = AnthropicProvider.from_settings(get_settings(), http_client=upstream.client())

    await provider.chat(ChatRequest(messages=[{"role": "user", "content": "hi"}]), CLAUDE)

    assert provider.is_configured()
    assert upstream.body()["max_tokens"] == 256


async def test_complete_is_chat_with_one_user_message():
    upstream = FakeUpstream(json_reply(message([{"type": "text", "text": " world"}])))

    result = await provider_for(upstream).complete(
        CompletionRequest(prompt="hello", max_tokens=5), CLAUDE
    )

    assert result.content == " world"
    assert upstream.body()["messages"] == [{"role": "user", "content": "hello"}]
    assert upstream.body()["max_tokens"] == 5


async def test_what_anthropic_cannot_do_is_refused_before_any_request():
    upstream = FakeUpstream()
    provider = provider_for(upstream)

    with pytest.raises(InvalidRequestError):
        await provider.embed(["text"], CLAUDE)
    with pytest.raises(InvalidRequestError) as caught:
        await provider.chat(
            ChatRequest(
                messages=[{"role": "user", "content": "hi"}],
                response_format={"type": "json_object"},
            ),
            CLAUDE,
        )

    assert caught.value.param == "response_format"
    assert upstream.requests == []


async def test_without_a_key_the_provider_is_not_configured_and_refuses_without_a_request():
    upstream = FakeUpstream()
    provider = AnthropicProvider(api_key=None, http_client=upstream.client())

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider.chat(ChatRequest(messages=[{"role": "user", "content": "hi"}]), CLAUDE)

    assert not provider.is_configured()
    assert caught.value.retryable is False
    assert upstream.requests == []


# ---- streaming ----


async def test_chat_stream_yields_text_deltas_and_ends_with_finish_reason_and_usage():
    upstream = FakeUpstream(
        sse_reply(
            anthropic_sse(
                message_start(input_tokens=15),
                {"type": "ping"},
                *text_block(0, "Hel", "lo", "!"),
                *message_end("end_turn", 3),
            )
        )
    )

    chunks = await collect(
        provider_for(upstream).chat_stream(
            ChatRequest(messages=[{"role": "user", "content": "hi"}]), CLAUDE
        )
    )

    assert [c.content for c in chunks] == ["Hel", "lo", "!", None]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == Usage(15, 3)
    assert upstream.body()["stream"] is True


async def test_chat_stream_turns_tool_use_blocks_into_indexed_tool_call_deltas():
    upstream = FakeUpstream(
        sse_reply(
            anthropic_sse(
                message_start(),
                *text_block(0, "Let me check."),
                *tool_block(1, "toolu_a", "get_weather", '{"city": ', '"Oslo"}'),
                *tool_block(2, "toolu_b", "get_time"),
                *message_end("tool_use", 40),
            )
        )
    )

    chunks = await collect(
        provider_for(upstream).chat_stream(
            ChatRequest(messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER_TOOL]),
            CLAUDE,
        )
    )

    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert deltas[0] == {
        "index": 0,
        "id": "toolu_a",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    first_args = "".join(d["function"]["arguments"] for d in deltas if d["index"] == 0)
    assert first_args == '{"city": "Oslo"}'
    second = [d for d in deltas if d["index"] == 1]
    assert second[0]["id"] == "toolu_b"
    assert "".join(d["function"]["arguments"] for d in second) == "{}"  # no arguments: valid JSON
    assert chunks[0].content == "Let me check."
    assert (chunks[-1].finish_reason, chunks[-1].usage) == ("tool_calls", Usage(15, 40))


async def test_an_overloaded_error_event_before_any_text_is_retryable():
    upstream = FakeUpstream(
        sse_reply(
            anthropic_sse(
                message_start(),
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            )
        )
    )
    stream = provider_for(upstream).chat_stream(
        ChatRequest(messages=[{"role": "user", "content": "hi"}]), CLAUDE
    )

    with pytest.raises(UpstreamUnavailableError) as caught:
        await anext(stream)

    assert caught.value.retryable is True


async def test_a_stream_cut_mid_way_raises_from_the_iterator_after_what_arrived():
    frames = anthropic_sse(message_start(), *text_block(0, "Once", " upon")[:3])
    upstream = FakeUpstream(sse_reply(frames, cut=True))
    stream = provider_for(upstream).chat_stream(
        ChatRequest(messages=[{"role": "user", "content": "a story"}]), CLAUDE
    )

    received = []
    with pytest.raises(UpstreamBadResponseError) as caught:
        async for chunk in stream:
            received.append(chunk.content)

    assert received == ["Once", " upon"]
    assert API_KEY not in formatted(caught.value)


async def test_a_stream_that_stops_without_message_stop_is_an_error_not_an_answer():
    upstream = FakeUpstream(sse_reply(anthropic_sse(message_start(), *text_block(0, "Once"))))
    stream = provider_for(upstream).chat_stream(
        ChatRequest(messages=[{"role": "user", "content": "a story"}]), CLAUDE
    )

    with pytest.raises(UpstreamBadResponseError):
        await collect(stream)


# ---- upstream failures ----


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (500, UpstreamBadResponseError, True),
        (503, UpstreamUnavailableError, True),
        (529, UpstreamUnavailableError, True),
        (504, UpstreamTimeoutError, True),
        (401, UpstreamBadResponseError, False),
        (403, UpstreamBadResponseError, False),
        (404, UpstreamBadResponseError, False),
        (400, UpstreamBadResponseError, False),
        (422, UpstreamBadResponseError, False),
    ],
)
async def test_upstream_statuses_map_to_our_errors_without_echoing_the_upstream(
    status, error_class, retryable
):
    body = {
        "type": "error",
        "error": {"type": "api_error", "message": f"bad key {API_KEY} for 'secret prompt'"},
    }
    upstream = FakeUpstream(json_reply(body, status))

    with pytest.raises(error_class) as caught:
        await provider_for(upstream).chat(
            ChatRequest(messages=[{"role": "user", "content": "secret prompt"}]), CLAUDE
        )

    error = caught.value
    assert error.retryable is retryable
    assert error.provider == "anthropic"
    assert (error.code == REQUEST_REJECTED) is (status in (400, 422))
    assert API_KEY not in formatted(error)
    assert "secret prompt" not in formatted(error)
    assert len(upstream.requests) == 1  # the SDK's own retries are off


async def test_429_is_retryable_and_carries_retry_after():
    upstream = FakeUpstream(
        json_reply(
            {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            429,
            headers={"retry-after": "3"},
        )
    )

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider_for(upstream).chat(
            ChatRequest(messages=[{"role": "user", "content": "hi"}]), CLAUDE
        )

    assert caught.value.retryable is True
    assert caught.value.retry_after == 3.0


async def test_timeouts_and_unreachable_upstreams_are_retryable():
    upstream = FakeUpstream(timeout_reply, connect_error_reply)
    provider = provider_for(upstream)
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}])

    with pytest.raises(UpstreamTimeoutError) as timed_out:
        await provider.chat(request, CLAUDE)
    with pytest.raises(UpstreamUnavailableError) as unreachable:
        await provider.chat(request, CLAUDE)

    assert timed_out.value.retryable and unreachable.value.retryable
    assert len(upstream.requests) == 2
