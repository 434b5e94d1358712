"""`/v1/text_processing/*` through the real Mangum handler and the real router over moto, with
the scripted upstream answering: the structured answer, the repair-then-502 path in OpenAI's
error format, per-item batch errors, and the usage line of each call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference_core.canonical import ChatRequest, ChatResult, Deployment, Usage


@pytest.fixture
def key(make_account: Any, gateway: Any, upstream: Any) -> str:
    account = make_account()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "t"}, token=account.access_token)
    assert created.status == 201, created.text
    return str(created.json()["key"])


def answer_with(upstream: Any, monkeypatch: pytest.MonkeyPatch, reply: str) -> list[ChatRequest]:
    seen: list[ChatRequest] = []

    async def chat(request: ChatRequest, deployment: Deployment) -> ChatResult:
        upstream.calls.append(deployment.model)
        seen.append(request)
        return ChatResult(reply, "stop", Usage(30, 8))

    monkeypatch.setattr(upstream, "chat", chat)
    return seen


def test_operations_are_listed_with_their_options(gateway: Any, key: str) -> None:
    response = gateway.call("GET", "/v1/text_processing/operations", token=key)
    assert response.status == 200
    names = [op["name"] for op in response.json()["data"]]
    assert names == ["summarize", "sentiment", "key_points", "questions", "qa"]


def test_sentiment_returns_the_structured_answer_and_is_metered(
    gateway: Any, upstream: Any, key: str, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = answer_with(upstream, monkeypatch, '{"label": "positive", "confidence": 0.8}')
    body = {"operation": "sentiment", "text": "I love this product."}
    response = gateway.call("POST", "/v1/text_processing/process", body, token=key)
    assert response.status == 200, response.text
    out = response.json()
    assert out["result"] == {"label": "positive", "confidence": 0.8}
    assert (out["operation"], out["template_version"], out["model"]) == (
        "sentiment",
        "v1",
        "scripted",
    )
    assert out["usage"] == {"input_tokens": 30, "output_tokens": 8} and out["repaired"] is False
    assert "I love this product." in seen[0].messages[-1]["content"]
    [item] = aws.scan("ic-usage")
    assert item["endpoint"]["S"] == "text_processing.sentiment"


def test_an_unparseable_answer_is_repaired_once_then_a_502_in_openai_format(
    gateway: Any, upstream: Any, key: str
) -> None:
    body = {"operation": "qa", "text": "Paris is in France.", "options": {"question": "Where?"}}
    response = gateway.call("POST", "/v1/text_processing/process", body, token=key)
    assert response.status == 502
    error = response.json()["error"]
    assert error["code"] == "model_output_invalid" and error["type"] == "api_error"
    assert upstream.calls == ["primary", "primary"]  # the first try and the one repair


def test_bad_input_is_a_400_before_any_provider_call(gateway: Any, upstream: Any, key: str) -> None:
    for body in (
        {"operation": "qa", "text": "x"},
        {"operation": "translate", "text": "x"},
        {"operation": "summarize", "text": ""},
    ):
        response = gateway.call("POST", "/v1/text_processing/process", body, token=key)
        assert response.status == 400, (body, response.text)
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert upstream.calls == []


def test_batch_reports_results_and_errors_per_item(
    gateway: Any, upstream: Any, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_with(upstream, monkeypatch, json.dumps({"key_points": ["one", "two"]}))
    body = {
        "items": [
            {"operation": "key_points", "text": "One. Two.", "options": {"count": 2}},
            {"operation": "key_points", "text": "x", "options": {"count": 50}},
        ]
    }
    response = gateway.call("POST", "/v1/text_processing/batch_process", body, token=key)
    assert response.status == 200, response.text
    first, second = response.json()["results"]
    assert first["status"] == "ok" and first["result"]["result"] == {"key_points": ["one", "two"]}
    assert second["status"] == "error" and second["error"]["status"] == 400
    assert "options.count" in second["error"]["message"]


def test_text_operations_need_credentials(gateway: Any, upstream: Any) -> None:
    body = {"operation": "sentiment", "text": "x"}
    assert gateway.call("POST", "/v1/text_processing/process", body).status == 401
