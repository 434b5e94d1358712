"""The local model server's copy of TGI 3.0.1's wire behaviour (no model needed): what it refuses,
the tool grammar, and the streamed tool-call state machine. The adapter reads what this writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference_core.canonical import ChatRequest
from inference_core.local import tgi_container
from inference_core.translation.tgi import ChatStreamState, chat_payload, parse_chat_response

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
GENERATED = '{"function": {"_name": "get_weather", "city": "Oslo"}}'


def tokens(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize(
    "body",
    [
        {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
        {"response_format": {"type": "json_object"}},  # TGI needs a `value`
        {"response_format": {"type": "json", "value": {}}, "tools": [WEATHER]},
    ],
)
def test_what_tgi_refuses_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(tgi_container.TgiRequestError):
        tgi_container.grammar_schema(body)


def test_a_null_content_is_refused_as_tgi_does() -> None:
    with pytest.raises(tgi_container.TgiRequestError):
        tgi_container.check_messages([{"role": "assistant", "content": None}])


def test_what_the_adapter_sends_is_accepted() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    request = ChatRequest(
        messages=[{"role": "assistant", "content": None, "tool_calls": []}],
        response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
    )
    body = chat_payload(request, stream=False)
    tgi_container.check_messages(body["messages"])
    assert tgi_container.grammar_schema(body) == (schema, False)


def test_the_tool_grammar_offers_no_tool_only_under_auto() -> None:
    auto, as_tools = tgi_container.grammar_schema({"tools": [WEATHER], "tool_choice": "auto"})
    assert as_tools and auto is not None
    names = [v["properties"]["_name"]["const"] for v in auto["properties"]["function"]["anyOf"]]
    assert names == ["get_weather", "no_tool"]
    forced, _ = tgi_container.grammar_schema(
        {
            "tools": [WEATHER],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        }
    )
    assert forced is not None
    assert forced["properties"]["function"]["required"] == ["_name", "city"]


def test_a_streamed_tool_call_round_trips_through_the_adapter() -> None:
    stream = tgi_container.ToolStream()
    pieces = [p for t in tokens(GENERATED) for p in stream.feed(t)]
    assert "".join(text for text, _ in pieces) == GENERATED and all(tool for _, tool in pieces)
    events = [tgi_container.chunk(model="m", text=t, as_tool=True) for t, _ in pieces]
    events.append(tgi_container.chunk(model="m", text="", as_tool=True, finish_reason="stop"))
    state = ChatStreamState(ChatRequest(messages=[{"role": "user", "content": "?"}]), "local")
    assert [state.on_event(e, False) for e in events] == [None] * len(events)
    *calls, final = state.final_chunks(retryable=True)
    assert calls[0].tool_calls is not None
    assert calls[0].tool_calls[0]["function"]["name"] == "get_weather"
    assert json.loads(calls[0].tool_calls[0]["function"]["arguments"]) == {"city": "Oslo"}
    assert final.finish_reason == "tool_calls"


def test_no_tool_streams_only_the_content_and_stops_at_its_quote() -> None:
    stream = tgi_container.ToolStream()
    text = '{"function": {"_name": "no_tool", "content": "It is sunny."}}'
    pieces = [p for t in tokens(text, 2) for p in stream.feed(t)]
    assert stream.finished
    assert all(not tool for _, tool in pieces)
    assert "".join(t for t, _ in pieces).replace(" ", "") == "Itissunny."


def test_a_whole_tool_answer_has_tgis_shape_and_reads_back() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}
    body = tgi_container.completion(
        model="m", text=GENERATED, as_tools=True, finish_reason="stop", usage=usage
    )
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert call["id"] == "0" and call["function"]["arguments"] == {"city": "Oslo"}
    assert "content" not in body["choices"][0]["message"]
    result = parse_chat_response(
        json.dumps(body).encode(), ChatRequest(messages=[{"role": "user", "content": "?"}]), "l"
    )
    assert result.finish_reason == "tool_calls" and result.tool_calls is not None
    assert json.loads(result.tool_calls[0]["function"]["arguments"]) == {"city": "Oslo"}


def test_the_tool_prompt_is_tgis_default_tool_template() -> None:
    prompt = tgi_container.tool_prompt({"tools": [WEATHER], "tool_choice": "auto"})
    assert prompt is not None and prompt.startswith("\n---\n")
    offered = json.loads(prompt.split("\n")[2])
    assert [t["function"]["name"] for t in offered] == ["get_weather", "no_tool"]
    assert prompt.endswith(tgi_container.DEFAULT_TOOL_PROMPT)
    assert tgi_container.tool_prompt({"messages": []}) is None
