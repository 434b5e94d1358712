"""OpenAI ⇄ Anthropic translation, both directions. Where Anthropic's shapes are produced (the
`/v1/messages` answers and events), the official `anthropic` SDK is the judge: it must parse
them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import pytest

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, Usage
from inference_core.errors import (
    InvalidRequestError,
    UpstreamBadResponseError,
    UpstreamUnavailableError,
)
from inference_core.translation.anthropic_messages import (
    anthropic_request_to_chat,
    chat_result_to_anthropic_message,
    chunks_to_anthropic_events,
)
from inference_core.translation.anthropic_upstream import (
    anthropic_message_to_chat_result,
    anthropic_stream_to_chunks,
    chat_request_to_anthropic,
)

try:  # the HTTP library the SDK is built on (httpx2 for current releases)
    import httpx2 as sdk_httpx
except ImportError:  # pragma: no cover - older SDK releases use httpx
    import httpx as sdk_httpx  # type: ignore[no-redef]

MODEL = "claude-test-1"  # made up: the SDK warns about deprecated real ids, and warnings fail tests
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
PNG = "iVBORw0KGgo="


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def aiter_of(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def collect(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


def sdk_client(reply: Any) -> anthropic.AsyncAnthropic:
    """The official client, answered by `reply` instead of the network."""
    transport = sdk_httpx.MockTransport(lambda request: reply)
    return anthropic.AsyncAnthropic(
        api_key="test",
        base_url="http://gateway.test",
        max_retries=0,
        http_client=sdk_httpx.AsyncClient(transport=transport),
    )


def sse_body(events: list[tuple[str, dict]]) -> bytes:
    return b"".join(f"event: {n}\ndata: {json.dumps(d)}\n\n".encode() for n, d in events)


def user(text: str) -> dict:
    return {"role": "user", "content": text}


# =============================================================================================
# Our request → Anthropic (the provider direction)
# =============================================================================================


def test_system_messages_become_the_system_prompt_and_max_tokens_gets_a_default():
    request = ChatRequest(
        messages=[
            {"role": "system", "content": "Be brief."},
            user("hi"),
            {"role": "system", "content": [{"type": "text", "text": "Answer in French."}]},
        ]
    )

    body = chat_request_to_anthropic(request, MODEL, default_max_tokens=512)

    assert body == {
        "model": MODEL,
        "max_tokens": 512,
        "system": "Be brief.\n\nAnswer in French.",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_tool_results_in_a_row_share_one_user_turn_with_the_next_user_words():
    request = ChatRequest(
        messages=[
            user("Weather in Oslo and Rome?"),
            {
                "role": "assistant",
                "content": "Checking both.",
                "tool_calls": [
                    {
                        "id": "t1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                    },
                    {
                        "id": "t2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": "-3C"},
            {"role": "tool", "tool_call_id": "t2", "content": [{"type": "text", "text": "21C"}]},
            user("And tomorrow?"),
        ],
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )

    body = chat_request_to_anthropic(request, MODEL, 100)

    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "t2", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "-3C"},
                {"type": "tool_result", "tool_use_id": "t2", "content": "21C"},
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert body["tools"][0]["input_schema"] == WEATHER["function"]["parameters"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "f"}}, {"type": "tool", "name": "f"}),
        (None, None),
    ],
)
def test_tool_choice_maps_onto_anthropics(choice, expected):
    body = chat_request_to_anthropic(
        ChatRequest(messages=[user("hi")], tools=[WEATHER], tool_choice=choice), MODEL, 10
    )
    assert body.get("tool_choice") == expected


def test_images_become_image_blocks():
    request = ChatRequest(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            }
        ]
    )

    blocks = chat_request_to_anthropic(request, MODEL, 10)["messages"][0]["content"]

    assert blocks[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
    }
    assert blocks[2] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
    }


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "system", "content": "only a system prompt"}],
        [{"role": "function", "name": "f", "content": "x"}],
        [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y"}}]}],
        [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AA"}}
                ],
            }
        ],
        [
            user("hi"),
            {
                "role": "assistant",
                "tool_calls": [{"id": "t", "function": {"name": "f", "arguments": "not json"}}],
            },
        ],
        [user("hi"), {"role": "tool", "content": "result without a call id"}],
    ],
)
def test_what_anthropic_cannot_express_is_a_400(messages):
    with pytest.raises(InvalidRequestError):
        chat_request_to_anthropic(ChatRequest(messages=messages), MODEL, 10)


# =============================================================================================
# Anthropic's answer → ours
# =============================================================================================


def test_a_message_with_text_and_tool_use_becomes_a_chat_result():
    result = anthropic_message_to_chat_result(
        {
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Let me look."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                },
            ],
            "stop_reason": "tool_use",
            "usage": {
                "input_tokens": 10,
                "cache_read_input_tokens": 90,
                "cache_creation_input_tokens": None,
                "output_tokens": 7,
            },
        }
    )

    assert result == ChatResult(
        content="Let me look.",
        finish_reason="tool_calls",
        # cached input is still input, and the cache reads are reported apart too
        usage=Usage(input_tokens=100, output_tokens=7, cached_input_tokens=90),
        tool_calls=[
            {
                "id": "toolu_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            }
        ],
    )


def test_the_sdk_message_object_translates_like_its_json():
    raw = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "Hi."}],
        "stop_reason": "max_tokens",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 2},
    }
    sdk_message = anthropic.types.Message.model_validate(raw)

    assert anthropic_message_to_chat_result(sdk_message) == anthropic_message_to_chat_result(raw)
    assert anthropic_message_to_chat_result(raw).finish_reason == "length"


@pytest.mark.anyio
async def test_stream_events_as_dicts_translate_and_an_error_event_raises():
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 4, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    ]
    received: list[ChatChunk] = []

    with pytest.raises(UpstreamUnavailableError):
        async for chunk in anthropic_stream_to_chunks(aiter_of(events)):
            received.append(chunk)

    assert [c.content for c in received] == ["Hi"]


@pytest.mark.anyio
async def test_a_stream_without_message_stop_raises_instead_of_ending_quietly():
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 4}}},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 1},
        },
    ]

    with pytest.raises(UpstreamBadResponseError):
        await collect(anthropic_stream_to_chunks(aiter_of(events)))


# =============================================================================================
# An Anthropic request → ours (the /v1/messages direction)
# =============================================================================================


def test_a_full_messages_request_becomes_a_chat_request():
    body = {
        "model": "smollm2",
        "max_tokens": 200,
        "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "-3C"},
                    {"type": "text", "text": "Warm enough?"},
                ],
            },
        ],
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "stop_sequences": ["END"],
        "tools": [
            {
                "name": "get_weather",
                "description": "Weather for a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
        "tool_choice": {"type": "any"},
        "metadata": {"user_id": "u-1"},
        "stream": True,
    }

    request, model, stream = anthropic_request_to_chat(body)

    assert (model, stream) == ("smollm2", True)
    assert request.messages == [
        {"role": "system", "content": "Be brief.\n\nBe kind."},
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "-3C"},
        {"role": "user", "content": "Warm enough?"},
    ]
    assert (request.max_tokens, request.temperature, request.top_p) == (200, 0.5, 0.9)
    assert request.stop == ["END"]
    assert request.tools == [WEATHER]
    assert request.tool_choice == "required"
    assert request.user == "u-1"


def test_a_minimal_request_defaults_to_not_streaming():
    request, model, stream = anthropic_request_to_chat(
        {"model": "m", "max_tokens": 1, "messages": [user("hi")]}
    )

    assert (model, stream) == ("m", False)
    assert request.messages == [user("hi")]
    assert request.tools is None and request.temperature is None


def test_images_and_error_results_translate():
    request, _, _ = anthropic_request_to_chat(
        {
            "model": "m",
            "max_tokens": 5,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t",
                            "content": "boom",
                            "is_error": True,
                        },
                        {"type": "text", "text": "What is this?"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                        },
                    ],
                }
            ],
        }
    )

    assert request.messages == [
        {"role": "tool", "tool_call_id": "t", "content": "Error: boom"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            ],
        },
    ]


def test_our_translation_there_and_back_keeps_the_conversation():
    body = {
        "model": MODEL,
        "max_tokens": 64,
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "-3C"}],
            },
        ],
        "stop_sequences": ["END"],
        "tools": [{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}],
        "tool_choice": {"type": "tool", "name": "get_weather"},
    }

    request, model, _ = anthropic_request_to_chat(body)
    assert chat_request_to_anthropic(request, model, default_max_tokens=1) == body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "100"}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"model": 7}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "developer", "content": "x"}]}, "messages"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages"),
        ({"messages": [{"role": "user", "content": []}]}, "messages"),
        ({"messages": [{"role": "user", "content": "x", "name": "bob"}]}, "messages"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}, "messages"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "tool_use", "id": "a", "name": "b"}]}
                ]
            },
            "messages",
        ),
        (
            {
                "messages": [
                    {"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "a"}]}
                ]
            },
            "messages",
        ),
        ({"system": 5}, "system"),
        ({"system": [{"type": "image"}]}, "system"),
        ({"messages": [{"role": "user", "content": [{"text": "no type"}]}]}, "messages"),
        ({"tools": [{"type": 3, "name": "web_search"}]}, "tools"),
        ({"temperature": 1.5}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": -0.1}, "top_p"),
        ({"top_k": -1}, "top_k"),
        ({"stop_sequences": "END"}, "stop_sequences"),
        ({"stream": "yes"}, "stream"),
        ({"tools": {"name": "f"}}, "tools"),
        ({"tools": [{"name": "f"}]}, "tools"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"tool_choice": {"type": "tool"}}, "tool_choice"),
        ({"metadata": "u-1"}, "metadata"),
    ],
)
def test_bad_requests_are_a_400_naming_the_field(body, field):
    valid = {"model": "m", "max_tokens": 10, "messages": [user("hi")]}

    with pytest.raises(InvalidRequestError) as caught:
        anthropic_request_to_chat({**valid, **body})

    assert caught.value.param == field
    assert caught.value.message.startswith(field)


def test_what_has_no_canonical_form_is_named_and_the_body_travels_along():
    body = {
        "model": "claude-x",
        "max_tokens": 32000,
        "thinking": {"type": "enabled", "budget_tokens": 8000},
        "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "base64", "data": "JVBE"}},
                    {"type": "text", "text": "Summarise", "cache_control": {"type": "ephemeral"}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "tool_use", "id": "t1", "name": "Read", "input": {"p": "a.png"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [
                            {"type": "text", "text": "the picture:"},
                            {"type": "image", "source": {"type": "base64", "data": PNG}},
                        ],
                    }
                ],
            },
        ],
        "tools": [
            {"name": "Read", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        ],
        "stream": True,
    }

    request, model, stream = anthropic_request_to_chat(
        body, betas=["context-management-2025-06-27"], beta_query=True
    )

    assert (model, stream) == ("claude-x", True)
    assert request.untranslated == [
        "context_management",
        "thinking",
        "messages.0.content.0:document",
        "messages.1.content.0:thinking",
        "messages.2.content.0.content.1:image",
        "tools.1:web_search_20250305",
    ]
    # cache_control is a hint, not a loss; the canonical form keeps what it can.
    assert request.messages[0] == {"role": "system", "content": "Be brief."}
    assert request.messages[1] == {"role": "user", "content": "Summarise"}
    assert request.messages[3] == {"role": "tool", "tool_call_id": "t1", "content": "the picture:"}
    assert [t["function"]["name"] for t in request.tools or []] == ["Read"]
    assert request.anthropic is not None
    assert request.anthropic.body == {k: v for k, v in body.items() if k != "stream"}
    assert request.anthropic.betas == ["context-management-2025-06-27"]
    assert request.anthropic.beta_query is True


def test_a_system_message_mid_conversation_is_a_system_message():
    # Claude Code 2.1 sends them (beta `mid-conversation-system-2026-04-07`).
    request, _, _ = anthropic_request_to_chat(
        {
            "model": "m",
            "max_tokens": 5,
            "messages": [
                user("hi"),
                {"role": "system", "content": "Agent types: claude"},
                {"role": "system", "content": [{"type": "text", "text": "More."}]},
            ],
        }
    )
    assert request.messages[1:] == [
        {"role": "system", "content": "Agent types: claude"},
        {"role": "system", "content": "More."},
    ]
    assert request.untranslated is None


def test_a_plain_request_loses_nothing():
    request, _, _ = anthropic_request_to_chat(
        {"model": "m", "max_tokens": 5, "messages": [user("hi")], "top_k": 3}
    )
    assert request.untranslated is None


def test_a_body_that_is_not_an_object_is_a_400():
    with pytest.raises(InvalidRequestError):
        anthropic_request_to_chat(["not", "an", "object"])  # type: ignore[arg-type]


# =============================================================================================
# Our answer → Anthropic's message and events, judged by the official SDK
# =============================================================================================


def test_a_chat_result_becomes_a_message_the_sdk_parses():
    result = ChatResult(
        content="Checking.",
        finish_reason="tool_calls",
        usage=Usage(11, 5),
        tool_calls=[
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
            }
        ],
    )

    payload = chat_result_to_anthropic_message(result, "smollm2", "msg_123")
    message = anthropic.types.Message.model_validate(payload)

    assert payload["type"] == "message"
    assert message.id == "msg_123"
    assert message.model == "smollm2"
    assert message.stop_reason == "tool_use"
    assert message.content[0].text == "Checking."
    assert message.content[1].input == {"city": "Oslo"}
    assert (message.usage.input_tokens, message.usage.output_tokens) == (11, 5)


@pytest.mark.parametrize(
    ("finish", "stop_reason"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal")],
)
def test_finish_reasons_become_stop_reasons(finish, stop_reason):
    payload = chat_result_to_anthropic_message(ChatResult("x", finish, Usage()), "m", "msg_1")
    assert payload["stop_reason"] == stop_reason


def test_an_empty_answer_still_has_one_text_block():
    payload = chat_result_to_anthropic_message(ChatResult(None, "stop", Usage()), "m", "msg_1")
    assert payload["content"] == [{"type": "text", "text": ""}]


@pytest.mark.anyio
async def test_text_chunks_become_anthropics_exact_event_sequence():
    chunks = [
        ChatChunk(content="Hel"),
        ChatChunk(content="lo"),
        ChatChunk(finish_reason="length", usage=Usage(12, 2)),
    ]

    events = await collect(chunks_to_anthropic_events(aiter_of(chunks), "smollm2", "msg_1", 9))

    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(payload["type"] == name for name, payload in events)
    assert events[0][1]["message"]["usage"] == {"input_tokens": 9, "output_tokens": 0}
    assert events[3][1] == {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "Hel"},
    }
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2][1]["usage"] == {
        "output_tokens": 2,
        "input_tokens": 12,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


@pytest.mark.anyio
async def test_the_official_sdk_streams_text_and_tool_calls_from_our_events():
    chunks = [
        ChatChunk(content="Let me "),
        ChatChunk(content="check."),
        ChatChunk(
            tool_calls=[
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        ),
        ChatChunk(tool_calls=[{"index": 0, "function": {"arguments": '{"city": '}}]),
        ChatChunk(tool_calls=[{"index": 0, "function": {"arguments": '"Oslo"}'}}]),
        ChatChunk(
            tool_calls=[
                {
                    "index": 1,
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                }
            ]
        ),
        ChatChunk(finish_reason="tool_calls", usage=Usage(30, 12)),
    ]
    events = await collect(chunks_to_anthropic_events(aiter_of(chunks), "smollm2", "msg_9", 25))
    reply = sdk_httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse_body(events)
    )

    async with sdk_client(reply).messages.stream(
        model=MODEL, max_tokens=50, messages=[user("weather?")]
    ) as stream:
        text = "".join([piece async for piece in stream.text_stream])
        final = await stream.get_final_message()

    assert text == "Let me check."
    assert final.id == "msg_9"
    assert final.stop_reason == "tool_use"
    assert [block.type for block in final.content] == ["text", "tool_use", "tool_use"]
    assert final.content[1].input == {"city": "Oslo"}
    assert (final.content[2].name, final.content[2].input) == ("get_time", {})
    assert (final.usage.input_tokens, final.usage.output_tokens) == (30, 12)


@pytest.mark.anyio
async def test_the_official_sdk_reads_our_events_with_create_stream_true():
    chunks = [ChatChunk(content="Hi"), ChatChunk(content=" there"), ChatChunk(finish_reason="stop")]
    events = await collect(chunks_to_anthropic_events(aiter_of(chunks), "smollm2", "msg_2", 4))
    reply = sdk_httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse_body(events)
    )

    stream = await sdk_client(reply).messages.create(
        model=MODEL, max_tokens=50, messages=[user("hi")], stream=True
    )
    received = [event async for event in stream]

    assert [e.type for e in received] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert "".join(e.delta.text for e in received if e.type == "content_block_delta") == "Hi there"
    assert received[-2].delta.stop_reason == "end_turn"
    assert received[-2].usage.output_tokens >= 1  # estimated when the provider gave no count


@pytest.mark.anyio
async def test_a_stream_with_no_content_still_opens_one_text_block():
    events = await collect(
        chunks_to_anthropic_events(aiter_of([ChatChunk(finish_reason="stop")]), "m", "msg_3", 1)
    )

    names = [name for name, _ in events]
    assert names[2:5] == ["content_block_start", "content_block_stop", "message_delta"]


@pytest.mark.anyio
async def test_a_failing_chunk_stream_raises_through_the_events():
    async def failing() -> AsyncIterator[ChatChunk]:
        yield ChatChunk(content="partial")
        raise UpstreamBadResponseError("cut", provider="x")

    received = []
    with pytest.raises(UpstreamBadResponseError):
        async for name, _ in chunks_to_anthropic_events(failing(), "m", "msg_4", 1):
            received.append(name)

    assert "message_stop" not in received
    assert received[-1] == "content_block_delta"
