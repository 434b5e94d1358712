"""Chat completions, messages and the native routes through the real Mangum handler over moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference_core.errors import ProviderError, UpstreamUnavailableError


def fail(retryable: bool = True) -> ProviderError:
    return ProviderError("upstream said no", retryable=retryable)


CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}


@pytest.fixture
def key(make_account: Any, gateway: Any) -> str:
    account = make_account()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "t"}, token=account.access_token)
    assert created.status == 201, created.text
    return str(created.json()["key"])


def test_chat_completion_answers_and_the_repeat_is_a_cache_hit(
    gateway: Any, upstream: Any, key: str
) -> None:
    first = gateway.call("POST", "/v1/chat/completions", CHAT, token=key)
    second = gateway.call("POST", "/v1/chat/completions", CHAT, token=key)
    assert first.status == 200, first.text
    body = first.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello from primary",
        "refusal": None,
    }
    assert body["usage"] == {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.json()["choices"] == body["choices"]
    assert upstream.calls == ["primary"]


def test_no_cache_header_bypasses_the_cache(gateway: Any, upstream: Any, key: str) -> None:
    for _ in range(2):
        response = gateway.call(
            "POST", "/v1/chat/completions", CHAT, token=key, headers={"Cache-Control": "no-cache"}
        )
        assert response.headers["x-cache"] == "miss"
    assert upstream.calls == ["primary", "primary"]


def test_usage_is_recorded_with_cost_from_the_registry(
    gateway: Any, upstream: Any, key: str, aws: Any
) -> None:
    gateway.call("POST", "/v1/chat/completions", CHAT, token=key)
    items = aws.scan("ic-usage")
    assert len(items) == 1
    item = items[0]
    assert item["input_tokens"]["N"] == "11" and item["output_tokens"]["N"] == "5"
    assert float(item["cost_usd"]["N"]) == pytest.approx((11 * 3.0 + 5 * 15.0) / 1e6)
    assert item["provider"]["S"] == "sagemaker" and item["model"]["S"] == "scripted"
    assert item["cached"]["BOOL"] is False


def test_retryable_failures_fall_back_to_the_next_deployment(
    gateway: Any, upstream: Any, key: str
) -> None:
    upstream.failures["primary"] = [fail(), fail(), fail()]
    response = gateway.call("POST", "/v1/chat/completions", CHAT, token=key)
    assert response.status == 200
    assert response.json()["choices"][0]["message"]["content"] == "Hello from fallback"
    assert upstream.calls == ["primary", "primary", "fallback"]


def test_every_deployment_down_is_a_503_in_openai_format(
    gateway: Any, upstream: Any, key: str
) -> None:
    down = UpstreamUnavailableError("overloaded", retryable=True)
    upstream.failures = {"primary": [down] * 5, "fallback": [down] * 5}
    response = gateway.call("POST", "/v1/chat/completions", CHAT, token=key)
    assert response.status == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"


def test_non_retryable_failure_is_not_retried_on_the_same_deployment(
    gateway: Any, upstream: Any, key: str
) -> None:
    upstream.failures["primary"] = [fail(retryable=False)]
    response = gateway.call("POST", "/v1/chat/completions", CHAT, token=key)
    assert response.status == 200
    assert upstream.calls == ["primary", "fallback"]


BAD_CHAT_BODIES = [
    ("{not json", "malformed JSON"),
    (json.dumps({"model": "scripted", "messages": "hi"}), "messages of the wrong type"),
    (json.dumps({"model": "scripted", "messages": []}), "an empty message list"),
    (json.dumps({**CHAT, "api_base": "http://evil.invalid"}), "a client-set api_base"),
    (json.dumps({**CHAT, "base_url": "http://evil.invalid"}), "a client-set base_url"),
    (json.dumps({**CHAT, "max_tokens": 5000}), "max_tokens over the cap"),
    (json.dumps({**CHAT, "max_tokens": "many"}), "max_tokens of the wrong type"),
    (json.dumps({**CHAT, "temperature": 7}), "temperature out of range"),
    (json.dumps({**CHAT, "n": 3}), "several choices"),
    (
        json.dumps({**CHAT, "messages": [{"role": "user", "content": "x" * 60000}]}),
        "a prompt over the size limit",
    ),
    (
        json.dumps({**CHAT, "messages": [{"role": "user", "content": "x" * 16100}]}),
        "a prompt that cannot fit the context window",
    ),
    (json.dumps({**CHAT, "messages": [{"role": "wizard", "content": "hi"}]}), "an unknown role"),
    (json.dumps([1, 2]), "a JSON array"),
]


@pytest.mark.parametrize(("raw", "why"), BAD_CHAT_BODIES, ids=[w for _, w in BAD_CHAT_BODIES])
def test_bad_input_is_a_400_in_openai_format_and_never_reaches_a_provider(
    gateway: Any, upstream: Any, key: str, raw: str, why: str
) -> None:
    response = gateway.call("POST", "/v1/chat/completions", raw, token=key)
    assert response.status == 400, (why, response.text)
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert upstream.calls == []


def test_unknown_model_is_a_404_and_never_reaches_a_provider(
    gateway: Any, upstream: Any, key: str
) -> None:
    response = gateway.call("POST", "/v1/chat/completions", {**CHAT, "model": "gpt-99"}, token=key)
    assert response.status == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert upstream.calls == []


@pytest.mark.parametrize("token", [None, "sk-ic-not-a-key", "not-even-a-jwt"])
def test_missing_or_wrong_token_is_a_401(gateway: Any, upstream: Any, token: str | None) -> None:
    response = gateway.call("POST", "/v1/chat/completions", CHAT, token=token)
    assert response.status == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert upstream.calls == []


def test_messages_errors_use_anthropics_body(gateway: Any, upstream: Any, key: str) -> None:
    unauthenticated = gateway.call(
        "POST", "/v1/messages", {"model": "scripted", "max_tokens": 5, "messages": []}
    )
    malformed = gateway.call("POST", "/v1/messages", "{oops", headers={"x-api-key": key})
    no_max_tokens = gateway.call(
        "POST",
        "/v1/messages",
        {"model": "scripted", "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-api-key": key},
    )
    for response, status in ((unauthenticated, 401), (malformed, 400), (no_max_tokens, 400)):
        assert response.status == status, response.text
        body = response.json()
        assert body["type"] == "error" and body["error"]["type"] and body["error"]["message"]
    assert upstream.calls == []


def test_messages_answers_in_anthropics_shape_with_x_api_key(
    gateway: Any, upstream: Any, key: str
) -> None:
    response = gateway.call(
        "POST",
        "/v1/messages",
        {
            "model": "scripted",
            "max_tokens": 10,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers={"x-api-key": key},
    )
    assert response.status == 200, response.text
    body = response.json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["content"] == [{"type": "text", "text": "Hello from primary"}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"]["input_tokens"] == 11 and body["usage"]["output_tokens"] == 5


def test_embeddings_and_models(gateway: Any, upstream: Any, key: str) -> None:
    embedded = gateway.call(
        "POST", "/v1/embeddings", {"model": "scripted", "input": ["ab", "abcd"]}, token=key
    )
    assert embedded.status == 200, embedded.text
    assert [d["embedding"][0] for d in embedded.json()["data"]] == [2.0, 4.0]
    models = gateway.call("GET", "/v1/models", token=key)
    assert {m["id"] for m in models.json()["data"]} == {"scripted", "other"}
    assert gateway.call("GET", "/v1/models/scripted", token=key).json()["context_window"] == 4000
    assert gateway.call("GET", "/v1/models/nope", token=key).status == 404


def test_key_scoped_to_one_model_gets_403_for_another(
    gateway: Any, upstream: Any, make_account: Any
) -> None:
    account = make_account()
    created = gateway.call(
        "POST",
        "/v1/auth/api-keys",
        {"name": "narrow", "allowed_models": ["other"]},
        token=account.access_token,
    )
    narrow = created.json()["key"]
    assert gateway.call("POST", "/v1/chat/completions", CHAT, token=narrow).status == 403
    assert (
        gateway.call(
            "POST", "/v1/chat/completions", {**CHAT, "model": "other"}, token=narrow
        ).status
        == 200
    )
    assert {m["id"] for m in gateway.call("GET", "/v1/models", token=narrow).json()["data"]} == {
        "other"
    }


def test_generate_and_chat_sessions(
    gateway: Any, upstream: Any, key: str, make_account: Any
) -> None:
    generated = gateway.call("POST", "/v1/generate", {"prompt": "Once", "max_tokens": 5}, token=key)
    assert generated.json() == {
        "generated_text": "Hello from primary",
        "model": "scripted",
        "tokens_generated": 5,
        "cached": False,
    }
    first = gateway.call("POST", "/v1/chat", {"message": "Hi", "max_tokens": 5}, token=key)
    session_id = first.json()["session_id"]
    second = gateway.call(
        "POST",
        "/v1/chat",
        {"message": "Again", "session_id": session_id, "max_tokens": 5},
        token=key,
    )
    assert second.json()["history_length"] == 4
    stranger = make_account()
    stolen = gateway.call(
        "POST", "/v1/chat", {"message": "Hi", "session_id": session_id}, token=stranger.access_token
    )
    assert stolen.status == 404


def test_streamed_chat_ends_with_usage_and_done(client: Any, upstream: Any, key: str) -> None:
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={**CHAT, "stream": True, "stream_options": {"include_usage": True}},
        headers={"Authorization": f"Bearer {key}"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Hello from primary"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 5


def test_streamed_messages_use_anthropic_events(client: Any, upstream: Any, key: str) -> None:
    with client.stream(
        "POST",
        "/v1/messages",
        json={
            "model": "scripted",
            "max_tokens": 10,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers={"x-api-key": key},
    ) as response:
        events = [line[7:] for line in response.iter_lines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert events.count("content_block_delta") == 3
    assert "message_delta" in events


def test_a_failure_after_the_stream_started_ends_it_with_an_error_event(
    client: Any, upstream: Any, key: str
) -> None:
    from inference_core.errors import UpstreamBadResponseError

    async def broken(request: Any, deployment: Any) -> Any:
        yield __import__("inference_core.canonical", fromlist=["ChatChunk"]).ChatChunk(
            content="Hel"
        )
        raise UpstreamBadResponseError("the upstream cut the stream", retryable=False)

    upstream.chat_stream = broken  # type: ignore[method-assign]
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={**CHAT, "stream": True},
        headers={"Authorization": f"Bearer {key}"},
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert json.loads(lines[-1][6:])["error"]["code"] == "upstream_bad_response"
    assert "data: [DONE]" not in lines


def test_health_and_ready(gateway: Any, upstream: Any) -> None:
    assert gateway.call("GET", "/health").json() == {"status": "ok"}
    ready = gateway.call("GET", "/ready")
    assert ready.status == 200, ready.text
    assert ready.json()["checks"]["table:api_keys_table"] == {"ok": True}


def test_a_long_chat_history_is_trimmed_to_the_context_window(
    gateway: Any, upstream: Any, key: str
) -> None:
    session_id = None
    # Each turn is ~3,000 characters (~1,000 tokens); the window is 4,000 tokens.
    for turn in range(8):
        body = {"message": f"{turn} " + "x" * 3000, "max_tokens": 20}
        if session_id:
            body["session_id"] = session_id
        response = gateway.call(
            "POST", "/v1/chat", body, token=key, headers={"Cache-Control": "no-cache"}
        )
        assert response.status == 200, response.text
        session_id = response.json()["session_id"]
    assert response.json()["history_length"] == 16


def test_a_body_over_the_size_limit_is_a_413_in_the_endpoints_format(
    client: Any, upstream: Any, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 2_000_000}]}
    openai_style = client.post(
        "/v1/chat/completions", json=big, headers={"Authorization": f"Bearer {key}"}
    )
    anthropic_style = client.post(
        "/v1/messages", json={**big, "max_tokens": 5}, headers={"x-api-key": key}
    )
    assert (
        openai_style.status_code == 413
        and openai_style.json()["error"]["code"] == "request_too_large"
    )
    assert anthropic_style.status_code == 413 and anthropic_style.json()["type"] == "error"
    assert upstream.calls == []


def test_cors_headers_only_for_configured_origins(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from inference_core.api.app import create_app
    from inference_core.settings import get_settings

    monkeypatch.setenv("IC_CORS_ORIGINS", "https://app.example.com")
    get_settings.cache_clear()
    with TestClient(create_app()) as cors_client:
        allowed = cors_client.get("/health", headers={"Origin": "https://app.example.com"})
        other = cors_client.get("/health", headers={"Origin": "https://evil.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers
