"""The Responses API over moto in-process (create, stream, store, continue, retrieve, list, delete,
tenant isolation, refusals), plus the chat-completions parameters and the native routes' streaming
that came with it: the real router in front of a recording scripted upstream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, Deployment, Usage
from tests.integration.inference.conftest import REGISTRY, ScriptedUpstream

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@dataclass
class RecordingUpstream(ScriptedUpstream):
    """The scripted upstream that also keeps every request; with tools, it calls the first one."""

    requests: list[ChatRequest] = field(default_factory=list)

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        self.requests.append(request)
        if request.tools and not any(m["role"] == "tool" for m in request.messages):
            self._maybe_fail(deployment)
            call = {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": request.tools[0]["function"]["name"],
                    "arguments": '{"city":"Paris"}',
                },
            }
            return ChatResult(None, "tool_calls", Usage(20, 7), tool_calls=[call])
        return await super().chat(request, deployment)

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        self.requests.append(request)
        async for chunk in super().chat_stream(request, deployment):
            yield chunk


@pytest.fixture
def upstream(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Any]:
    from inference_core.api.deps import reset_dependencies
    from inference_core.settings import get_settings

    registry = tmp_path / "models.json"
    registry.write_text(json.dumps(REGISTRY))
    monkeypatch.setenv("IC_MODEL_REGISTRY_PATH", str(registry))
    monkeypatch.setenv("IC_MAX_TOKENS_CAP", "1000")
    get_settings.cache_clear()
    reset_dependencies()
    fake = RecordingUpstream()
    monkeypatch.setattr("inference_core.providers.create_provider", lambda name, settings: fake)
    yield fake
    reset_dependencies()


def _key(client: Any, account: Any) -> dict[str, str]:
    created = client.post("/v1/auth/api-keys", json={"name": "t"}, headers=account.auth)
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


@pytest.fixture
def alice(client: Any, make_account: Any) -> dict[str, str]:
    return _key(client, make_account())


@pytest.fixture
def bob(client: Any, make_account: Any) -> dict[str, str]:
    return _key(client, make_account())


def create(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        "/v1/responses",
        json={"model": "scripted", "input": "Hi", **body},
        headers={**headers, "Cache-Control": "no-cache"},
    )


def test_create_answers_with_a_response_object_and_stores_it(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    response = create(client, alice, instructions="Be brief.", metadata={"k": "v"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "response" and body["id"].startswith("resp_")
    assert body["status"] == "completed" and body["model"] == "scripted"
    [message] = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"][0] == {
        "type": "output_text",
        "text": "Hello from primary",
        "annotations": [],
        "logprobs": [],
    }
    assert body["usage"] == {
        "input_tokens": 11,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 16,
    }
    assert body["instructions"] == "Be brief." and body["metadata"] == {"k": "v"}
    # The instructions went to the model as the system prompt.
    assert upstream.requests[0].messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    stored = client.get(f"/v1/responses/{body['id']}", headers=alice)
    assert stored.status_code == 200 and stored.json() == body


def test_previous_response_id_sends_the_whole_conversation_and_lists_it(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    first = create(client, alice, input="My name is Ada.").json()
    second = create(client, alice, input="What is my name?", previous_response_id=first["id"])
    assert second.status_code == 200, second.text
    assert upstream.requests[-1].messages == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello from primary"},
        {"role": "user", "content": "What is my name?"},
    ]
    items = client.get(f"/v1/responses/{second.json()['id']}/input_items", headers=alice).json()
    assert items["object"] == "list" and items["has_more"] is False
    texts = [item["content"][0]["text"] for item in items["data"]]
    assert texts == ["What is my name?", "Hello from primary", "My name is Ada."]  # newest first
    assert items["first_id"] == items["data"][0]["id"]
    assert items["last_id"] == items["data"][-1]["id"]


def test_input_items_paginate_with_after_before_limit_and_order(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    inputs = [{"role": "user", "content": f"m{i}"} for i in range(5)]
    created = create(client, alice, input=inputs).json()
    url = f"/v1/responses/{created['id']}/input_items"
    page1 = client.get(url, params={"limit": 2, "order": "asc"}, headers=alice).json()
    assert [i["content"][0]["text"] for i in page1["data"]] == ["m0", "m1"]
    assert page1["has_more"] is True
    page2 = client.get(
        url, params={"limit": 2, "order": "asc", "after": page1["last_id"]}, headers=alice
    ).json()
    assert [i["content"][0]["text"] for i in page2["data"]] == ["m2", "m3"]
    page3 = client.get(
        url, params={"limit": 2, "order": "asc", "after": page2["last_id"]}, headers=alice
    ).json()
    assert [i["content"][0]["text"] for i in page3["data"]] == ["m4"]
    assert page3["has_more"] is False
    before = client.get(url, params={"before": page2["first_id"]}, headers=alice).json()
    assert [i["content"][0]["text"] for i in before["data"]] == ["m4", "m3"]  # newest first
    desc = client.get(url, params={"after": page2["first_id"]}, headers=alice).json()
    assert [i["content"][0]["text"] for i in desc["data"]] == ["m1", "m0"]


def test_another_tenants_response_is_a_404_everywhere(
    client: Any, upstream: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    created = create(client, alice).json()
    rid = created["id"]
    for method, path in (
        ("GET", f"/v1/responses/{rid}"),
        ("GET", f"/v1/responses/{rid}/input_items"),
        ("DELETE", f"/v1/responses/{rid}"),
    ):
        response = client.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "response_not_found"
    continued = create(client, bob, previous_response_id=rid)
    assert continued.status_code == 404
    assert client.get(f"/v1/responses/{rid}", headers=alice).status_code == 200


def test_delete_removes_every_item_then_404(
    client: Any, upstream: Any, alice: dict[str, str], aws: Any
) -> None:
    rid = create(client, alice).json()["id"]
    assert aws.scan("ic-responses")
    deleted = client.delete(f"/v1/responses/{rid}", headers=alice)
    assert deleted.status_code == 200
    assert deleted.json() == {"id": rid, "object": "response.deleted", "deleted": True}
    assert aws.scan("ic-responses") == []
    assert client.get(f"/v1/responses/{rid}", headers=alice).status_code == 404
    assert client.delete(f"/v1/responses/{rid}", headers=alice).status_code == 404


def test_store_false_stores_nothing(
    client: Any, upstream: Any, alice: dict[str, str], aws: Any
) -> None:
    response = create(client, alice, store=False)
    assert response.status_code == 200 and response.json()["store"] is False
    assert aws.scan("ic-responses") == []
    assert client.get(f"/v1/responses/{response.json()['id']}", headers=alice).status_code == 404


def test_function_calls_round_trip_through_previous_response_id(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    first = create(client, alice, input="Weather in Paris?", tools=[TOOL]).json()
    [call] = first["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert call["call_id"] == "call_1" and json.loads(call["arguments"]) == {"city": "Paris"}
    assert upstream.requests[0].tools == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": TOOL["parameters"],
            },
        }
    ]
    second = create(
        client,
        alice,
        tools=[TOOL],
        previous_response_id=first["id"],
        input=[{"type": "function_call_output", "call_id": "call_1", "output": "sunny"}],
    )
    assert second.status_code == 200, second.text
    assert upstream.requests[-1].messages[1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    assert second.json()["output"][0]["content"][0]["text"] == "Hello from primary"


def _events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_stream_emits_the_documented_sequence_and_stores_the_response(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    response = create(client, alice, stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    types = [kind for kind, _ in events]
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    assert all(data["type"] == kind for kind, data in events)
    final = events[-1][1]["response"]
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == "Hello from primary"
    assert final["usage"]["input_tokens"] == 11 and final["usage"]["output_tokens"] == 5
    stored = client.get(f"/v1/responses/{final['id']}", headers=alice)
    assert stored.status_code == 200 and stored.json() == final


def test_a_stream_that_fails_midway_ends_with_response_failed(
    client: Any, upstream: Any, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference_core.errors import UpstreamBadResponseError

    async def broken(self: Any, request: ChatRequest, deployment: Deployment) -> Any:
        yield ChatChunk(content="Hel")
        raise UpstreamBadResponseError("cut", provider="sagemaker")

    monkeypatch.setattr(RecordingUpstream, "chat_stream", broken)
    response = create(client, alice, stream=True)
    events = _events(response.text)
    assert events[-1][0] == "response.failed"
    failed = events[-1][1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"
    assert client.get(f"/v1/responses/{failed['id']}", headers=alice).status_code == 404


BAD_BODIES = [
    ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
    ({"tools": [{"type": "file_search", "vector_store_ids": ["vs"]}]}, "tools[0].type"),
    ({"tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]}, "tools[0].type"),
    ({"background": True}, "background"),
    ({"api_base": "http://evil.invalid"}, "api_base"),
    ({"input": [{"type": "input_file", "file_id": "f"}]}, "input[0].type"),
    (
        {"input": [{"role": "user", "content": [{"type": "input_audio"}]}]},
        "input[0].content[0].type",
    ),
    ({"input": []}, "input"),
    ({"truncation": "auto"}, "truncation"),
    ({"reasoning": {"summary": "auto"}}, "reasoning.summary"),
    ({"reasoning": {"effort": "high"}}, "reasoning_effort"),
    ({"tool_choice": {"type": "web_search_preview"}, "tools": [TOOL]}, "tool_choice"),
    ({"max_output_tokens": 5000}, "max_output_tokens"),
]


@pytest.mark.parametrize(("extra", "param"), BAD_BODIES, ids=[p for _, p in BAD_BODIES])
def test_bad_input_is_a_400_naming_the_field_and_never_reaches_a_provider(
    client: Any, upstream: Any, alice: dict[str, str], extra: dict[str, Any], param: str
) -> None:
    response = create(client, alice, **extra)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert error["param"] == param
    assert upstream.calls == [] and upstream.requests == []


def test_a_long_conversation_and_a_large_item_are_stored_in_chunks(aws: Any) -> None:
    from inference_core.db.models import ResponseRecordModel, configure_models
    from inference_core.db.responses import ResponsesRepository
    from inference_core.settings import get_settings

    configure_models(get_settings())
    repo = ResponsesRepository()
    big = {
        "type": "message",
        "id": "msg_big",
        "role": "user",
        "content": [{"type": "input_text", "text": "é" * 700_000}],
    }
    items = [big] + [
        {
            "type": "message",
            "id": f"msg_{i}",
            "role": "user",
            "content": [{"type": "input_text", "text": f"turn {i}"}],
        }
        for i in range(60)
    ]
    repo.save(
        "tenant-a", {"id": "resp_1", "object": "response", "output": []}, items, ttl_seconds=60
    )
    assert repo.input_items("tenant-a", "resp_1") == items
    rows = list(ResponseRecordModel.query("tenant-a#resp_1"))
    assert max(len(row.data) for row in rows) <= 300_000
    assert len(rows) > len(items)  # the large item took several rows


@pytest.mark.parametrize("param", ["logprobs", "reasoning_effort", "logit_bias"])
def test_chat_completions_refuses_a_parameter_the_deployments_cannot_honour(
    client: Any, upstream: Any, alice: dict[str, str], param: str
) -> None:
    value = {"logprobs": True, "reasoning_effort": "low", "logit_bias": {"1": 5}}[param]
    response = client.post(
        "/v1/chat/completions",
        json={"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], param: value},
        headers=alice,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert upstream.calls == [] and upstream.requests == []


def test_chat_completions_forwards_the_penalties_to_a_sagemaker_deployment(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "scripted",
            "messages": [{"role": "user", "content": "Hi"}],
            "presence_penalty": 0.5,
            "frequency_penalty": 0.25,
        },
        headers=alice,
    )
    assert response.status_code == 200, response.text
    sent = upstream.requests[0]
    assert (sent.presence_penalty, sent.frequency_penalty) == (0.5, 0.25)


def _data_events(text: str) -> list[Any]:
    return [
        line.removeprefix("data: ") if line == "data: [DONE]" else json.loads(line[6:])
        for line in text.splitlines()
        if line.startswith("data: ")
    ]


def test_generate_streams_pieces_then_the_whole_answer(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    response = client.post(
        "/v1/generate",
        json={"prompt": "Hi", "model": "scripted", "max_tokens": 20, "stream": True},
        headers=alice,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _data_events(response.text)
    assert events[:3] == [{"text": "Hello"}, {"text": " from"}, {"text": " primary"}]
    assert events[3] == {
        "generated_text": "Hello from primary",
        "model": "scripted",
        "tokens_generated": 5,
        "cached": False,
        "done": True,
    }
    assert events[4] == "[DONE]"


def test_chat_streams_and_keeps_the_turn_in_the_history(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    first = client.post(
        "/v1/chat",
        json={"message": "My name is Ada.", "model": "scripted", "max_tokens": 20, "stream": True},
        headers=alice,
    )
    events = _data_events(first.text)
    final = events[-2]
    assert final["done"] is True and final["reply"] == "Hello from primary"
    assert final["history_length"] == 2
    assert first.headers["x-session-id"] == final["session_id"]
    second = client.post(
        "/v1/chat",
        json={
            "message": "And mine?",
            "session_id": final["session_id"],
            "model": "scripted",
            "max_tokens": 20,
        },
        headers=alice,
    )
    assert second.status_code == 200 and second.json()["history_length"] == 4
    assert upstream.requests[-1].messages[:2] == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello from primary"},
    ]


def test_the_lambda_handler_serves_create_retrieve_and_delete(
    gateway: Any, upstream: Any, alice: dict[str, str]
) -> None:
    token = alice["Authorization"].removeprefix("Bearer ")
    created = gateway.call(
        "POST", "/v1/responses", {"model": "scripted", "input": "Hi"}, token=token
    )
    assert created.status == 200, created.text
    rid = created.json()["id"]
    retrieved = gateway.call("GET", f"/v1/responses/{rid}", token=token)
    assert retrieved.status == 200 and retrieved.json() == created.json()
    assert gateway.call("DELETE", f"/v1/responses/{rid}", token=token).status == 200
    assert gateway.call("GET", f"/v1/responses/{rid}", token=token).status == 404


def test_a_store_that_cannot_be_read_is_a_503_not_a_500(
    client: Any, upstream: Any, alice: dict[str, str], aws: Any
) -> None:
    rid = create(client, alice).json()["id"]
    aws.dynamodb.delete_table(TableName="ic-responses")
    response = client.get(f"/v1/responses/{rid}", headers=alice)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["message"] == "The response store is unavailable."


def test_a_stream_that_cannot_start_is_an_http_error_in_openai_format(
    client: Any, upstream: Any, alice: dict[str, str]
) -> None:
    from inference_core.errors import UpstreamUnavailableError

    down = UpstreamUnavailableError("overloaded", retryable=True)
    upstream.failures = {"primary": [down] * 5, "fallback": [down] * 5}
    response = create(client, alice, stream=True)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"
