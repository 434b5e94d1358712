"""The Responses API ↔ canonical translation, both ways, judged by the openai SDK's own types and
its stream accumulator (what `responses.stream(...).get_final_response()` runs)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai import omit
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import FunctionTool, Response, ResponseItem, ResponseStreamEvent
from pydantic import TypeAdapter, ValidationError

from inference_core.canonical import ChatChunk, ChatResult, Usage
from inference_core.errors import InvalidRequestError
from inference_core.schemas.responses import ResponseCreateRequest
from inference_core.translation import responses as tr

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": True,
}


def request(**fields: Any) -> ResponseCreateRequest:
    return ResponseCreateRequest.model_validate({"model": "m", "input": "Hi", **fields})


def chat_for(**fields: Any) -> Any:
    body = request(**fields)
    return tr.to_chat_request(tr.normalize_input(body.input), body.params())


def frame(**fields: Any) -> tr.ResponseFrame:
    return tr.ResponseFrame(id="resp_1", model="m", created_at=1, echo=request(**fields).echo())


# ---- in ----


def test_a_string_input_is_one_user_message_and_instructions_the_system_prompt() -> None:
    chat = chat_for(instructions="Be brief.", max_output_tokens=50, temperature=0.2, top_p=0.9)
    assert chat.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert (chat.max_tokens, chat.temperature, chat.top_p) == (50, 0.2, 0.9)


def test_input_items_become_chat_messages_with_images_and_tool_calls() -> None:
    chat = chat_for(
        input=[
            {"role": "developer", "content": "Use tools."},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is here?"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
                ],
            },
            {"role": "assistant", "content": [{"type": "output_text", "text": "Let me check."}]},
            {"type": "function_call", "call_id": "c1", "name": "look", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "look", "arguments": '{"x":1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "a cat"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "a dog"}],
            },
        ]
    )
    assert chat.messages == [
        {"role": "developer", "content": "Use tools."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is here?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,AAAA", "detail": "auto"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "look", "arguments": "{}"}},
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "look", "arguments": '{"x":1}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
        {"role": "tool", "tool_call_id": "c2", "content": "a dog"},
    ]


def test_stored_input_items_have_ids_and_validate_as_sdk_items() -> None:
    items = tr.normalize_input(
        [
            {"role": "user", "content": "Hi"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "ok"},
        ]
    )
    assert all(item["id"] for item in items)
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseItem)
    for item in items:
        adapter.validate_python(item)


def test_function_tools_tool_choice_format_and_effort_are_translated() -> None:
    chat = chat_for(
        tools=[TOOL],
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
        text={
            "format": {
                "type": "json_schema",
                "name": "w",
                "schema": {"type": "object"},
                "strict": True,
            }
        },
        reasoning={"effort": "low"},
        prompt_cache_key="conv-1",
        user="u1",
    )
    assert chat.tools == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": TOOL["parameters"],
                "strict": True,
            },
        }
    ]
    assert chat.tool_choice == {"type": "function", "function": {"name": "get_weather"}}
    assert chat.response_format == {
        "type": "json_schema",
        "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": True},
    }
    assert chat.reasoning_effort == "low"
    assert chat.parallel_tool_calls is False
    assert (chat.prompt_cache_key, chat.user) == ("conv-1", "u1")
    assert chat_for(text={"format": {"type": "json_object"}}).response_format == {
        "type": "json_object"
    }
    assert chat_for(text={"format": {"type": "text"}}).response_format is None


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "web_search"},
        {"type": "web_search_preview"},
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {"type": "computer_use_preview", "display_width": 1, "display_height": 1},
        {"type": "code_interpreter", "container": {"type": "auto"}},
        {"type": "image_generation"},
        {"type": "mcp", "server_label": "x", "server_url": "https://x"},
    ],
)
def test_hosted_tools_are_refused_by_name(tool: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        chat_for(tools=[tool])
    assert caught.value.param == "tools[0].type"
    assert repr(tool["type"]) in caught.value.message and "function tools" in caught.value.message


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
            "input[0].content[0].type",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
            "input[0].content[0].file_id",
        ),
        ({"input": [{"role": "wizard", "content": "hi"}]}, "input[0].role"),
        ({"input": [{"type": "function_call", "call_id": "c"}]}, "input[0].name"),
        ({"tools": [TOOL], "tool_choice": {"type": "file_search"}}, "tool_choice"),
        ({"text": {"format": {"type": "json_schema"}}}, "text.format"),
    ],
)
def test_what_cannot_be_translated_is_a_400_naming_the_field(
    fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        chat_for(**fields)
    assert caught.value.param == param


@pytest.mark.parametrize(
    "fields",
    [
        {"background": True},
        {"truncation": "auto"},
        {"reasoning": {"summary": "auto"}},
        {"text": {"verbosity": "low"}},
        {"include": ["message.output_text.logprobs"]},
        {"top_logprobs": 3},
        {"conversation": "conv_1"},
        {"tool_choice": "sometimes"},
    ],
)
def test_unsupported_request_fields_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        request(**fields)


def test_harmless_fields_are_accepted() -> None:
    body = request(
        include=["reasoning.encrypted_content"],
        truncation="disabled",
        store=False,
        background=False,
        stream_options={"include_obfuscation": False},
    )
    assert body.store is False


# ---- out ----


def test_a_result_becomes_a_response_the_sdk_parses_with_output_text_and_usage() -> None:
    result = ChatResult(
        "Sunny.",
        "tool_calls",
        Usage(30, 12, cached_input_tokens=10, reasoning_tokens=4),
        tool_calls=[
            {
                "id": "call_9",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    )
    body = tr.response_body(frame(tools=[TOOL], metadata={"a": "b"}), result)
    response = Response.model_validate(body)
    assert response.status == "completed" and response.output_text == "Sunny."
    assert tr.output_text(body) == "Sunny."
    message, call = response.output
    assert message.type == "message" and call.type == "function_call"
    assert (call.call_id, call.name, call.arguments) == (
        "call_9",
        "get_weather",
        '{"city":"Paris"}',
    )
    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == 10
    assert response.usage.output_tokens_details.reasoning_tokens == 4
    assert response.usage.total_tokens == 42
    [tool] = response.tools
    assert isinstance(tool, FunctionTool) and tool.name == "get_weather"
    assert response.metadata == {"a": "b"}


def test_a_truncated_result_is_incomplete_for_max_output_tokens() -> None:
    body = tr.response_body(frame(), ChatResult("Once upon", "length", Usage(3, 2)))
    response = Response.model_validate(body)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"


def _accumulate(events: list[dict[str, Any]]) -> Any:
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=omit, text_format=omit)
    for event in events:
        state.handle_event(adapter.validate_python(event))
    return state._completed_response


def test_text_stream_events_are_what_the_sdk_accumulates_into_the_final_response() -> None:
    writer = tr.ResponseEvents(frame())
    events = list(writer.start())
    for chunk in (
        ChatChunk(content="Hel"),
        ChatChunk(content="lo"),
        ChatChunk(finish_reason="stop", usage=Usage(5, 2)),
    ):
        events.extend(writer.feed(chunk))
    events.extend(writer.finish(Usage()))
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = _accumulate(events)
    assert final.output_text == "Hello" and final.status == "completed"
    assert final.usage.input_tokens == 5 and final.usage.output_tokens == 2
    assert writer.response == events[-1]["response"]


def test_tool_call_stream_events_carry_argument_deltas() -> None:
    writer = tr.ResponseEvents(frame(tools=[TOOL]))
    events = list(writer.start())
    chunks = [
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
        ChatChunk(tool_calls=[{"index": 0, "function": {"arguments": '{"city":'}}]),
        ChatChunk(tool_calls=[{"index": 0, "function": {"arguments": '"Paris"}'}}]),
        ChatChunk(
            tool_calls=[
                {
                    "index": 1,
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ]
        ),
        ChatChunk(finish_reason="tool_calls", usage=Usage(9, 8)),
    ]
    for chunk in chunks:
        events.extend(writer.feed(chunk))
    events.extend(writer.finish(Usage()))
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert deltas == ['{"city":', '"Paris"}', "{}"]
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [e["arguments"] for e in done] == ['{"city":"Paris"}', "{}"]
    final = _accumulate(events)
    assert [(o.call_id, json.loads(o.arguments)) for o in final.output] == [
        ("call_1", {"city": "Paris"}),
        ("call_2", {}),
    ]


def test_a_stream_cut_at_max_tokens_ends_incomplete_and_a_failure_ends_failed() -> None:
    writer = tr.ResponseEvents(frame())
    events = [
        *writer.start(),
        *writer.feed(ChatChunk(content="a")),
        *writer.feed(ChatChunk(finish_reason="length", usage=Usage(1, 1))),
        *writer.finish(Usage()),
    ]
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}

    failing = tr.ResponseEvents(frame())
    failed = [
        *failing.start(),
        *failing.feed(ChatChunk(content="a")),
        *failing.fail("server_error", "The upstream broke."),
    ]
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    last = adapter.validate_python(failed[-1])
    assert last.type == "response.failed" and last.response.status == "failed"
    assert last.response.error.code == "server_error"
    assert [e["sequence_number"] for e in failed] == list(range(len(failed)))


# ---- every provider gets the same canonical request ----


def test_a_responses_conversation_with_tool_calls_reaches_anthropic_and_tgi() -> None:
    from inference_core.translation.anthropic_upstream import chat_request_to_anthropic
    from inference_core.translation.tgi import chat_payload

    chat = chat_for(
        instructions="Use tools.",
        tools=[TOOL],
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "get_weather",
                "arguments": '{"city":"Paris"}',
            },
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
    )
    claude = chat_request_to_anthropic(chat, "claude", 256)
    assert claude["system"] == "Use tools."
    assert [turn["role"] for turn in claude["messages"]] == ["user", "assistant", "user"]
    tool_use = claude["messages"][1]["content"][0]
    assert (tool_use["type"], tool_use["id"], tool_use["input"]) == (
        "tool_use",
        "c1",
        {"city": "Paris"},
    )
    assert claude["messages"][2]["content"][0]["type"] == "tool_result"
    assert claude["tools"][0]["name"] == "get_weather"

    tgi = chat_payload(chat, stream=False)
    assert [m["role"] for m in tgi["messages"]] == ["system", "user", "assistant", "tool"]
    assert tgi["tools"][0]["function"]["name"] == "get_weather"
