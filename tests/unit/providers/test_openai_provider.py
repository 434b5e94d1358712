"""The OpenAI adapter against a recorded-shape fake upstream: the real `openai` SDK over a mock
transport."""

from __future__ import annotations

import pytest

from inference_core.canonical import ChatRequest, CompletionRequest, Deployment, Usage
from inference_core.errors import (
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from inference_core.providers.openai import OpenAIProvider
from inference_core.settings import get_settings
from inference_core.upstream_errors import REQUEST_REJECTED

from .conftest import (
    API_KEY,
    FakeUpstream,
    collect,
    connect_error_reply,
    formatted,
    json_reply,
    openai_sse,
    sse_reply,
    timeout_reply,
)

pytestmark = pytest.mark.anyio

GPT = Deployment(provider="openai", model="gpt-4o-mini")
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def provider_for(upstream: FakeUpstream, **kwargs) -> OpenAIProvider:
    return OpenAIProvider(api_key=API_KEY, http_client=upstream.client(), **kwargs)


def completion(message: dict, finish_reason: str = "stop", usage=(12, 3)) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def stream_chunk(delta: dict | None = None, finish_reason=None, usage=None) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
        "usage": None
        if usage is None
        else {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }


# ---- plain chat ----


async def test_chat_sends_the_request_through_and_reads_the_answer():
    upstream = FakeUpstream(json_reply(completion({"role": "assistant", "content": "Paris."})))
    request = ChatRequest(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Capital of France?"},
        ],
        max_tokens=20,
        temperature=0.2,
        top_p=0.9,
        stop=["\n\n"],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
        response_format={"type": "json_object"},
        seed=7,
        user="end-user-1",
    )

    result = await provider_for(upstream).chat(request, GPT)

    assert result.content == "Paris."
    assert result.finish_reason == "stop"
    assert result.usage == Usage(input_tokens=12, output_tokens=3)
    sent = upstream.requests[0]
    assert str(sent.url) == "https://api.openai.com/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert upstream.body() == {
        "model": "gpt-4o-mini",
        "messages": request.messages,
        "max_completion_tokens": 20,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "tools": [WEATHER_TOOL],
        "tool_choice": "auto",
        "response_format": {"type": "json_object"},
        "seed": 7,
        "user": "end-user-1",
    }


async def test_chat_leaves_out_what_the_caller_left_unset_and_a_tool_choice_without_tools():
    upstream = FakeUpstream(json_reply(completion({"role": "assistant", "content": "hi"})))
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}], tool_choice="none")

    await provider_for(upstream).chat(request, GPT)

    assert upstream.body() == {"model": "gpt-4o-mini", "messages": request.messages}


async def test_chat_reads_tool_calls():
    call = {
        "id": "call_abc",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    upstream = FakeUpstream(
        json_reply(
            completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls")
        )
    )
    request = ChatRequest(messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER_TOOL])

    result = await provider_for(upstream).chat(request, GPT)

    assert result.finish_reason == "tool_calls"
    assert result.content is None
    assert result.tool_calls == [call]


async def test_base_url_comes_from_the_constructor_only():
    upstream = FakeUpstream(json_reply(completion({"role": "assistant", "content": "ok"})))
    provider = provider_for(upstream, base_url="http://mock-upstream.internal/v1")

    await provider.chat(ChatRequest(messages=[{"role": "user", "content": "hi"}]), GPT)

    assert str(upstream.requests[0].url) == "http://mock-upstream.internal/v1/chat/completions"


async def test_from_settings_reads_the_key_and_without_one_refuses_before_any_request(monkeypatch):
    monkeypatch.setenv("IC_OPENAI_API_KEY", API_KEY)
    get_settings.cache_clear()
    assert OpenAIProvider.from_settings(get_settings()).is_configured()

    monkeypatch.delenv("IC_OPENAI_API_KEY")
    get_settings.cache_clear()
    upstream = FakeUpstream()
    unconfigured = OpenAIProvider.from_settings(get_settings(), http_client=upstream.client())
    assert not unconfigured.is_configured()
    with pytest.raises(UpstreamUnavailableError) as caught:
        await unconfigured.chat(ChatRequest(messages=[{"role": "user", "content": "hi"}]), GPT)
    assert caught.value.retryable is False
    assert upstream.requests == []


def test_repr_never_shows_the_key():
    assert API_KEY not in repr(OpenAIProvider(api_key=API_KEY))


# ---- streaming chat ----


async def test_chat_stream_yields_text_then_one_last_chunk_with_finish_reason_and_usage():
    upstream = FakeUpstream(
        sse_reply(
            openai_sse(
                stream_chunk({"role": "assistant", "content": ""}),
                stream_chunk({"content": "Hel"}),
                stream_chunk({"content": "lo"}),
                stream_chunk({}, finish_reason="stop"),
                stream_chunk(None, usage=(9, 2)),
                "[DONE]",
            )
        )
    )
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}], max_tokens=5)

    chunks = await collect(provider_for(upstream).chat_stream(request, GPT))

    assert [c.content for c in chunks] == ["Hel", "lo", None]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == Usage(9, 2)
    assert all(c.finish_reason is None for c in chunks[:-1])
    body = upstream.body()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_chat_stream_passes_tool_call_deltas_with_their_index():
    upstream = FakeUpstream(
        sse_reply(
            openai_sse(
                stream_chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                    }
                ),
                stream_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
                stream_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]}),
                stream_chunk({}, finish_reason="tool_calls"),
                stream_chunk(None, usage=(20, 8)),
                "[DONE]",
            )
        )
    )
    request = ChatRequest(messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER_TOOL])

    chunks = await collect(provider_for(upstream).chat_stream(request, GPT))

    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert deltas[0] == {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert "".join(d["function"]["arguments"] for d in deltas) == '{"city":"Oslo"}'
    assert all(d["index"] == 0 for d in deltas)
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].usage == Usage(20, 8)


async def test_a_stream_cut_mid_way_raises_from_the_iterator_after_what_arrived():
    upstream = FakeUpstream(
        sse_reply(
            openai_sse(stream_chunk({"content": "Once"}), stream_chunk({"content": " upon"})),
            cut=True,
        )
    )
    stream = provider_for(upstream).chat_stream(
        ChatRequest(messages=[{"role": "user", "content": "a story"}]), GPT
    )

    received = []
    with pytest.raises(UpstreamBadResponseError) as caught:
        async for chunk in stream:
            received.append(chunk.content)

    assert received == ["Once", " upon"]
    assert caught.value.retryable is True  # the router decides; it never retries after output
    assert API_KEY not in formatted(caught.value)


async def test_a_stream_that_ends_without_a_finish_reason_is_an_error_not_an_answer():
    upstream = FakeUpstream(sse_reply(openai_sse(stream_chunk({"content": "Once"}))))
    stream = provider_for(upstream).chat_stream(
        ChatRequest(messages=[{"role": "user", "content": "a story"}]), GPT
    )

    with pytest.raises(UpstreamBadResponseError):
        await collect(stream)


async def test_an_error_when_opening_a_stream_raises_on_the_first_pull():
    upstream = FakeUpstream(
        json_reply({"error": {"message": "slow down"}}, 429, headers={"retry-after": "2"})
    )
    stream = provider_for(upstream).chat_stream(
        ChatRequest(messages=[{"role": "user", "content": "hi"}]), GPT
    )

    with pytest.raises(UpstreamUnavailableError) as caught:
        await anext(stream)

    assert caught.value.retryable is True
    assert caught.value.retry_after == 2.0


# ---- upstream failures ----


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (500, UpstreamBadResponseError, True),
        (502, UpstreamBadResponseError, True),
        (503, UpstreamUnavailableError, True),
        (504, UpstreamTimeoutError, True),
        (408, UpstreamTimeoutError, True),
        (409, UpstreamBadResponseError, True),
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
    # The worst case: an upstream body that repeats the key and the prompt.
    body = {"error": {"message": f"Incorrect API key provided: {API_KEY} for 'secret prompt'"}}
    upstream = FakeUpstream(json_reply(body, status))

    with pytest.raises(error_class) as caught:
        await provider_for(upstream).chat(
            ChatRequest(messages=[{"role": "user", "content": "secret prompt"}]), GPT
        )

    error = caught.value
    assert error.retryable is retryable
    assert error.provider == "openai"
    assert API_KEY not in formatted(error)
    assert "secret prompt" not in formatted(error)
    assert len(upstream.requests) == 1  # the SDK's own retries are off


async def test_an_upstream_400_is_marked_as_a_rejected_request_and_401_as_bad_credentials():
    upstream = FakeUpstream(
        json_reply({"error": {"message": "bad"}}, 400),
        json_reply({"error": {"message": "bad key"}}, 401),
    )
    provider = provider_for(upstream)
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}])

    with pytest.raises(UpstreamBadResponseError) as rejected:
        await provider.chat(request, GPT)
    with pytest.raises(UpstreamBadResponseError) as credentials:
        await provider.chat(request, GPT)

    assert rejected.value.code == REQUEST_REJECTED
    assert rejected.value.status_code == 502
    assert "rejected the request" in rejected.value.message
    assert credentials.value.code != REQUEST_REJECTED
    assert "credentials" in credentials.value.message


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry-after": "7"}, 7.0), ({"retry-after-ms": "1500"}, 1.5), ({}, None)],
)
async def test_429_is_retryable_and_carries_retry_after(headers, expected):
    upstream = FakeUpstream(json_reply({"error": {"message": "rate"}}, 429, headers=headers))

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider_for(upstream).chat(
            ChatRequest(messages=[{"role": "user", "content": "hi"}]), GPT
        )

    assert caught.value.retryable is True
    assert caught.value.retry_after == expected
    assert caught.value.status_code == 503


async def test_a_timeout_is_a_retryable_504():
    upstream = FakeUpstream(timeout_reply)

    with pytest.raises(UpstreamTimeoutError) as caught:
        await provider_for(upstream).chat(
            ChatRequest(messages=[{"role": "user", "content": "hi"}]), GPT
        )

    assert caught.value.retryable is True
    assert caught.value.status_code == 504
    assert len(upstream.requests) == 1


async def test_an_unreachable_upstream_is_a_retryable_503():
    upstream = FakeUpstream(connect_error_reply)

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider_for(upstream).chat(
            ChatRequest(messages=[{"role": "user", "content": "hi"}]), GPT
        )

    assert caught.value.retryable is True
    assert API_KEY not in formatted(caught.value)


# ---- legacy completions and embeddings ----


async def test_complete_uses_the_completions_api():
    upstream = FakeUpstream(
        json_reply(
            {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": 1,
                "model": "gpt-3.5-turbo-instruct",
                "choices": [
                    {"index": 0, "text": " world", "finish_reason": "length", "logprobs": None}
                ],
                "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
            }
        )
    )
    deployment = Deployment(provider="openai", model="gpt-3.5-turbo-instruct")

    result = await provider_for(upstream).complete(
        CompletionRequest(prompt="hello", max_tokens=1, stop=["."]), deployment
    )

    assert (result.content, result.finish_reason, result.usage) == (" world", "length", Usage(2, 1))
    assert str(upstream.requests[0].url).endswith("/v1/completions")
    assert upstream.body() == {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": "hello",
        "max_tokens": 1,
        "stop": ["."],
    }


async def test_complete_stream_yields_text_and_ends_with_finish_and_usage():
    def text_chunk(text, finish=None, usage=None):
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 1,
            "model": "m",
            "choices": []
            if text is None
            else [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}],
            "usage": None
            if usage is None
            else {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": 0},
        }

    upstream = FakeUpstream(
        sse_reply(
            openai_sse(
                text_chunk(" wor"),
                text_chunk("ld"),
                text_chunk("", "stop"),
                text_chunk(None, usage=(2, 2)),
                "[DONE]",
            )
        )
    )

    chunks = await collect(
        provider_for(upstream).complete_stream(CompletionRequest(prompt="hello"), GPT)
    )

    assert "".join(c.content or "" for c in chunks) == " world"
    assert (chunks[-1].finish_reason, chunks[-1].usage) == ("stop", Usage(2, 2))
    assert upstream.body()["stream_options"] == {"include_usage": True}


async def test_embed_returns_vectors_in_input_order():
    upstream = FakeUpstream(
        json_reply(
            {
                "object": "list",
                "model": "text-embedding-3-small",
                "data": [
                    {"object": "embedding", "index": 1, "embedding": [0.3, 0.4]},
                    {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]},
                ],
                "usage": {"prompt_tokens": 4, "total_tokens": 4},
            }
        )
    )
    deployment = Deployment(provider="openai", model="text-embedding-3-small")

    result = await provider_for(upstream).embed(["first", "second"], deployment)

    assert result.vectors == [[0.1, 0.2], [0.3, 0.4]]
    assert result.usage.input_tokens == 4
    assert upstream.body() == {
        "model": "text-embedding-3-small",
        "input": ["first", "second"],
        "encoding_format": "float",
    }
