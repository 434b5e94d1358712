"""The official `openai` SDK against the real local stack and the real SmolLM2 model."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import openai
import pytest

SHORT = {"max_tokens": 24, "temperature": 0}


def test_chat_completion_returns_generated_text(openai_client: Any) -> None:
    reply = openai_client.chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": "Name a colour."}], **SHORT
    )
    assert reply.object == "chat.completion"
    assert reply.model == "smollm2"
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content.strip()
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0


def _tokens_generated(model_url: str) -> int:
    """The local model server's count of streamed tokens so far (across all requests)."""
    return int(httpx.get(f"{model_url}/ping", timeout=30).json()["streamed_tokens"])


def test_chat_completion_streams_several_chunks_before_the_last(
    openai_client: Any, local_stack: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": f"Count from one to ten. ({uuid.uuid4().hex[:6]})"}],
        stream=True,
        stream_options={"include_usage": True},
        **SHORT,
    )
    generated_at_first_chunk: int | None = None
    pieces: list[str] = []
    finish = None
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
            if generated_at_first_chunk is None:
                generated_at_first_chunk = _tokens_generated(local_stack["model_url"])
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
    generated_at_end = _tokens_generated(local_stack["model_url"])
    assert len(pieces) >= 3, pieces
    # Tokens arrive as they are generated, not in one buffered burst at the end: when the first
    # content chunk reached the client, the model had not yet produced the rest of the reply.
    assert generated_at_first_chunk is not None
    assert generated_at_first_chunk < generated_at_end, (generated_at_first_chunk, generated_at_end)
    assert finish in ("stop", "length")
    assert usage is not None and usage.completion_tokens > 0


def test_identical_request_is_a_cache_hit_and_can_be_replayed_as_a_stream(
    local_stack: dict[str, Any],
) -> None:
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": f"Say yes. {uuid.uuid4().hex}"}],
        "max_tokens": 8,
        "temperature": 0,
    }
    headers = {"Authorization": f"Bearer {local_stack['api_key']}"}
    url = local_stack["api_url"] + "/v1/chat/completions"
    with httpx.Client(timeout=120) as client:
        first = client.post(url, json=body, headers=headers)
        second = client.post(url, json=body, headers=headers)
        streamed = client.post(url, json={**body, "stream": True}, headers=headers)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert (
        first.json()["choices"][0]["message"]["content"]
        == second.json()["choices"][0]["message"]["content"]
    )
    assert streamed.headers["x-cache"] == "hit"
    assert streamed.text.rstrip().endswith("data: [DONE]")


def test_completions(openai_client: Any) -> None:
    reply = openai_client.completions.create(
        model="smollm2", prompt="The sky is", max_tokens=8, temperature=0
    )
    assert reply.object == "text_completion"
    assert reply.choices[0].text.strip()


def test_embeddings(openai_client: Any) -> None:
    result = openai_client.embeddings.create(model="smollm2", input=["hello world", "goodbye moon"])
    assert len(result.data) == 2
    first, second = result.data[0].embedding, result.data[1].embedding
    assert len(first) == len(second) > 64
    assert first != second


def test_models_list_and_retrieve(openai_client: Any) -> None:
    ids = [m.id for m in openai_client.models.list()]
    assert "smollm2" in ids
    assert openai_client.models.retrieve("smollm2").id == "smollm2"
    with pytest.raises(openai.NotFoundError):
        openai_client.models.retrieve("no-such-model")


def test_wrong_key_is_an_authentication_error(local_stack: dict[str, Any]) -> None:
    client = openai.OpenAI(
        base_url=local_stack["api_url"] + "/v1", api_key="sk-ic-wrong", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(
            model="smollm2", messages=[{"role": "user", "content": "hi"}]
        )


def test_unknown_model_is_not_found(openai_client: Any) -> None:
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(
            model="gpt-17", messages=[{"role": "user", "content": "hi"}]
        )


def test_empty_messages_is_a_bad_request(openai_client: Any) -> None:
    with pytest.raises(openai.BadRequestError):
        openai_client.chat.completions.create(model="smollm2", messages=[])


def test_client_cannot_redirect_the_upstream(openai_client: Any) -> None:
    with pytest.raises(openai.BadRequestError):
        openai_client.chat.completions.create(
            model="smollm2",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"api_base": "http://attacker.invalid"},
        )


def test_upstream_failure_is_a_server_error(openai_client: Any) -> None:
    with pytest.raises(openai.InternalServerError):
        openai_client.chat.completions.create(
            model="broken", messages=[{"role": "user", "content": "hi"}]
        )


def _create_key(local_stack: dict[str, Any], **scopes: Any) -> str:
    with httpx.Client(base_url=local_stack["api_url"], timeout=30) as client:
        login = client.post(
            "/v1/auth/login",
            json={"email": local_stack["email"], "password": local_stack["password"]},
        )
        login.raise_for_status()
        token = login.json()["access_token"]
        created = client.post(
            "/v1/auth/api-keys",
            json={"name": "e2e", **scopes},
            headers={"Authorization": f"Bearer {token}"},
        )
        created.raise_for_status()
        return str(created.json()["key"])


def test_key_without_the_model_is_permission_denied(local_stack: dict[str, Any]) -> None:
    key = _create_key(local_stack, allowed_models=["broken"])
    client = openai.OpenAI(base_url=local_stack["api_url"] + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(
            model="smollm2", messages=[{"role": "user", "content": "hi"}], max_tokens=4
        )


def test_rate_limit_is_a_rate_limit_error_with_retry_after(local_stack: dict[str, Any]) -> None:
    key = _create_key(local_stack, rpm_limit=1)
    client = openai.OpenAI(base_url=local_stack["api_url"] + "/v1", api_key=key, max_retries=0)
    client.models.list()  # control-plane calls are not counted
    client.embeddings.create(model="smollm2", input="one")
    with pytest.raises(openai.RateLimitError) as caught:
        client.embeddings.create(model="smollm2", input="two")
    assert int(caught.value.response.headers["retry-after"]) >= 1


def test_jwt_access_token_works_as_bearer(local_stack: dict[str, Any]) -> None:
    with httpx.Client(base_url=local_stack["api_url"], timeout=60) as client:
        token = client.post(
            "/v1/auth/login",
            json={"email": local_stack["email"], "password": local_stack["password"]},
        ).json()["access_token"]
    client = openai.OpenAI(base_url=local_stack["api_url"] + "/v1", api_key=token, max_retries=0)
    reply = client.chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )
    assert reply.choices[0].message.content is not None


def test_native_generate_and_chat_with_history(local_stack: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {local_stack['api_key']}"}
    with httpx.Client(base_url=local_stack["api_url"], timeout=120, headers=headers) as client:
        generated = client.post(
            "/v1/generate", json={"prompt": "Once upon a time", "max_tokens": 8}
        )
        assert generated.status_code == 200
        body = generated.json()
        assert (
            body["generated_text"].strip()
            and body["model"] == "smollm2"
            and body["tokens_generated"] > 0
        )
        first = client.post("/v1/chat", json={"message": "My name is Ada.", "max_tokens": 8})
        session_id = first.json()["session_id"]
        second = client.post(
            "/v1/chat",
            json={"message": "What is my name?", "session_id": session_id, "max_tokens": 8},
        )
        assert second.status_code == 200 and second.json()["history_length"] == 4
        missing = client.post("/v1/chat", json={"message": "hi", "session_id": "nope"})
        assert missing.status_code == 404


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_a_streamed_tool_call_through_tgis_wire_format(openai_client: Any) -> None:
    # The local model server streams tool calls as TGI 3.0.1 does (one object per token, the
    # name inside the generated JSON); the SDK still receives OpenAI's tool-call deltas.
    stream = openai_client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": f"Weather in Oslo? ({uuid.uuid4().hex[:6]})"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        stream=True,
        max_tokens=64,
        temperature=0,
    )
    names: list[str] = []
    arguments: list[str] = []
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        for call in chunk.choices[0].delta.tool_calls or []:
            if call.function and call.function.name:
                names.append(call.function.name)
            if call.function and call.function.arguments:
                arguments.append(call.function.arguments)
        finish = chunk.choices[0].finish_reason or finish
    assert names == ["get_weather"]
    assert "city" in json.loads("".join(arguments))
    assert finish == "tool_calls"


def test_json_schema_response_format_reaches_tgi_as_its_grammar(openai_client: Any) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    reply = openai_client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": f"A number as JSON. ({uuid.uuid4().hex[:6]})"}],
        response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
        max_tokens=48,
        temperature=0,
    )
    assert isinstance(json.loads(reply.choices[0].message.content)["n"], int)
