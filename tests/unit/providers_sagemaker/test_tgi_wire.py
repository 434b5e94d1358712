"""The adapter against the wire shapes of the pinned TGI 3.0.1 container (router/src/lib.rs and
server.rs at v3.0.1): its GrammarType `response_format`, its single-object streamed `tool_calls`,
its tool-call answers, and shapes it must never turn into a 500."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from inference_core.canonical import ChatChunk, ChatRequest, Deployment
from inference_core.errors import InvalidRequestError, UpstreamBadResponseError
from inference_core.providers.sagemaker import SageMakerProvider
from inference_core.translation.tgi import chat_payload

from .fakes import FakeRuntime, RawStream, frames, sse, usage_chunk

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def tgi_chunk(
    *, content: str | None = None, tool_text: str | None = None, finish: str | None = None
) -> dict[str, Any]:
    """A `chat.completion.chunk` exactly as TGI 3.0.1 serializes `ChatCompletionChunk::new`."""
    if tool_text is not None:
        delta: dict[str, Any] = {
            "role": "assistant",
            "tool_calls": {
                "index": 0,
                "id": "",
                "type": "function",
                "function": {"name": None, "arguments": tool_text},
            },
        }
    else:
        delta = {"role": "assistant", "content": content or ""}
    return {
        "object": "chat.completion.chunk",
        "id": "",
        "created": 1733000000,
        "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "system_fingerprint": "3.0.1-sha-bb9095a",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


def collect(provider: SageMakerProvider, request: ChatRequest, deployment: Deployment) -> list:
    async def run() -> list[ChatChunk]:
        return [c async for c in provider.chat_stream(request, deployment)]

    return asyncio.run(run())


def ask(**extra: Any) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": "Weather in Paris?"}], **extra)


# ---- our request → TGI's ----


def test_json_schema_becomes_tgis_json_grammar() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    body = chat_payload(
        ask(
            response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
        ),
        stream=False,
    )
    assert body["response_format"] == {"type": "json", "value": schema}


def test_text_response_format_is_left_out() -> None:
    assert "response_format" not in chat_payload(ask(response_format={"type": "text"}), stream=True)


@pytest.mark.parametrize(
    "response_format",
    [{"type": "json_schema", "json_schema": {"name": "x"}}, {"type": "xml"}],
    ids=["json_schema without a schema", "an unknown type"],
)
def test_a_response_format_tgi_cannot_take_is_a_400_naming_the_field(
    runtime: FakeRuntime,
    provider: SageMakerProvider,
    deployment: Deployment,
    response_format: dict[str, Any],
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        asyncio.run(provider.chat(ask(response_format=response_format), deployment))
    assert caught.value.status_code == 400 and caught.value.param == "response_format"
    assert runtime.calls == []  # never reached the endpoint


def test_tools_with_a_grammar_are_refused_before_the_endpoint(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    # TGI: "Grammar and tools are mutually exclusive" (a 422 that would otherwise be a 502).
    request = ask(tools=[WEATHER], response_format={"type": "json_object"})
    with pytest.raises(InvalidRequestError):
        asyncio.run(provider.chat(request, deployment))
    assert runtime.calls == []


def test_a_tool_round_trip_is_sent_as_messages_tgi_can_deserialize() -> None:
    # TGI 3.0's Message has a required string-or-parts `content` and no `tool_calls` field.
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
    ]
    body = chat_payload(ChatRequest(messages=messages, tools=[WEATHER]), stream=False)
    assistant = body["messages"][1]
    assert set(assistant) == {"role", "content"}
    assert json.loads(assistant["content"]) == {
        "function": {"_name": "get_weather", "city": "Paris"}
    }
    assert body["messages"][2] == {"role": "tool", "content": "18C and sunny"}
    assert all(isinstance(m["content"], (str, list)) for m in body["messages"])


def test_tool_choice_is_dropped_without_tools() -> None:
    assert "tool_choice" not in chat_payload(ask(tool_choice="auto"), stream=False)


# ---- TGI's answers → ours ----


def test_a_streamed_tgi_tool_call_becomes_one_openai_tool_call(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    # The grammar's output, token by token, as TGI 3.0.1 streams it.
    tokens = [
        '{"',
        "function",
        '":',
        ' {"',
        "_name",
        '":',
        ' "get_weather",',
        ' "city":',
        ' "Paris"}}',
    ]
    events = [tgi_chunk(tool_text=t) for t in tokens[:-1]]
    events.append(tgi_chunk(tool_text=tokens[-1], finish="eos_token"))
    runtime.will_stream(RawStream(frames(sse(*events, usage_chunk(30, 9), "[DONE]"))))

    chunks = collect(provider, ask(tools=[WEATHER]), deployment)

    calls = [c.tool_calls for c in chunks if c.tool_calls]
    assert len(calls) == 1
    (call,) = calls[0]
    assert call["index"] == 0 and call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert chunks[-1].finish_reason == "tool_calls"
    assert (chunks[-1].usage.input_tokens, chunks[-1].usage.output_tokens) == (30, 9)
    assert not any(c.content for c in chunks)


def test_tgis_no_tool_choice_streams_as_text(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    text = '{"function": {"_name": "no_tool", "content": "I cannot tell."}}'
    events = [tgi_chunk(tool_text=text[:20]), tgi_chunk(tool_text=text[20:], finish="eos_token")]
    runtime.will_stream(RawStream(frames(sse(*events, "[DONE]"))))
    chunks = collect(provider, ask(tools=[WEATHER]), deployment)
    assert "".join(c.content or "" for c in chunks) == "I cannot tell."
    assert chunks[-1].finish_reason == "stop"


def test_an_unfinished_streamed_tool_call_is_a_clean_bad_response(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    events = [tgi_chunk(tool_text='{"function": {"_na'), tgi_chunk(tool_text="", finish="length")]
    runtime.will_stream(RawStream(frames(sse(*events, "[DONE]"))))
    with pytest.raises(UpstreamBadResponseError) as caught:
        collect(provider, ask(tools=[WEATHER]), deployment)
    assert caught.value.retryable  # nothing reached the client: the router may fall back


def test_tgis_plain_text_stream_with_eos_token(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    events = [
        tgi_chunk(content="Hel"),
        tgi_chunk(content="lo"),
        tgi_chunk(content="", finish="eos_token"),
    ]
    runtime.will_stream(RawStream(frames(sse(*events, "[DONE]"))))
    chunks = collect(provider, ask(), deployment)
    assert "".join(c.content or "" for c in chunks) == "Hello"
    assert chunks[-1].finish_reason == "stop"


def test_tgis_non_streamed_tool_call_answer(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return(
        {
            "object": "chat.completion",
            "id": "",
            "created": 1733000000,
            "model": "tgi",
            "system_fingerprint": "3.0.1-sha-bb9095a",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "0",
                                "type": "function",
                                "function": {
                                    "description": None,
                                    "name": "get_weather",
                                    "arguments": {"city": "Paris"},
                                },
                            }
                        ],
                    },
                    "logprobs": None,
                    "finish_reason": "eos_token",
                }
            ],
            "usage": {"prompt_tokens": 30, "completion_tokens": 9, "total_tokens": 39},
        }
    )
    result = asyncio.run(provider.chat(ask(tools=[WEATHER]), deployment))
    assert result.finish_reason == "tool_calls" and result.content is None
    assert result.tool_calls is not None
    assert json.loads(result.tool_calls[0]["function"]["arguments"]) == {"city": "Paris"}


def test_tgis_error_event_mid_stream_is_a_bad_response(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    # InferError::into_openai_event at v3.0.1.
    error = {"error": {"message": "Input validation error", "http_status_code": 422}}
    runtime.will_stream(RawStream(frames(sse(error))))
    with pytest.raises(UpstreamBadResponseError):
        collect(provider, ask(), deployment)


@pytest.mark.parametrize(
    "event",
    [
        {"choices": "nope"},
        {"choices": [{"index": 0, "delta": "text"}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": 5}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": {"function": None}}}]},
        {"choices": [None]},
        "not json at all",
        [1, 2],
    ],
)
def test_no_streamed_shape_becomes_a_500(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment, event: Any
) -> None:
    runtime.will_stream(RawStream(frames(sse(event, "[DONE]"))))
    with pytest.raises(UpstreamBadResponseError) as caught:
        collect(provider, ask(), deployment)
    assert caught.value.retryable


@pytest.mark.parametrize(
    "body",
    [
        {"choices": "nope"},
        {"choices": [{"message": "text"}]},
        {"choices": [{"message": {"tool_calls": [5]}}]},
        {"choices": [{"message": {"tool_calls": [{"function": "x"}]}}]},
        [1, 2],
    ],
)
def test_no_answer_shape_becomes_a_500(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment, body: Any
) -> None:
    runtime.will_return(body)
    with pytest.raises(UpstreamBadResponseError):
        asyncio.run(provider.chat(ask(), deployment))


def test_single_object_deltas_that_name_their_function_pass_through(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    def delta(call: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        event = tgi_chunk(tool_text="")
        event["choices"][0]["delta"]["tool_calls"] = call
        event["choices"][0]["finish_reason"] = finish
        return event

    first = {
        "index": 0,
        "id": "call_7",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    rest = {
        "index": 0,
        "id": "",
        "type": "function",
        "function": {"name": None, "arguments": '{"city": "Oslo"}'},
    }
    runtime.will_stream(RawStream(frames(sse(delta(first), delta(rest, "tool_calls"), "[DONE]"))))
    chunks = collect(provider, ask(tools=[WEATHER]), deployment)
    calls = [d for c in chunks for d in c.tool_calls or []]
    assert calls[0]["id"] == "call_7" and calls[0]["function"]["name"] == "get_weather"
    assert json.loads("".join(d["function"].get("arguments", "") for d in calls)) == {
        "city": "Oslo"
    }
    assert chunks[-1].finish_reason == "tool_calls"
