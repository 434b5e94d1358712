"""Bounded input: the number of messages, the number and size of tools (settings), on both wire
formats. 25,000 empty messages are a fast 400 that never reaches a provider."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.integration.conftest import ApiGateway, reconfigure


@pytest.fixture
def key(gateway: ApiGateway, make_account: Any) -> str:
    account = make_account()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "t"}, token=account.access_token)
    assert created.status == 201, created.text
    return str(created.json()["key"])


def _tool(i: int, description: str = "") -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": f"f{i}", "description": description, "parameters": {"type": "object"}},
    }


def test_25000_empty_messages_are_a_fast_400(gateway: ApiGateway, upstream: Any, key: str) -> None:
    body = {"model": "scripted", "messages": [{"role": "user", "content": ""}] * 25_000}
    started = time.monotonic()
    response = gateway.call("POST", "/v1/chat/completions", body, token=key)
    elapsed = time.monotonic() - started
    assert response.status == 400, response.text
    assert response.json()["error"]["code"] == "too_many_messages"
    assert elapsed < 3, elapsed
    anthropic = gateway.call(
        "POST",
        "/v1/messages",
        {
            "model": "scripted",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x"}] * 25_000,
        },
        headers={"x-api-key": key},
    )
    assert anthropic.status == 400, anthropic.text
    assert anthropic.json()["error"]["type"] == "invalid_request_error"
    assert upstream.calls == []


def test_the_message_cap_is_a_setting(
    gateway: ApiGateway, upstream: Any, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_MAX_MESSAGES="3")
    three = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}] * 3}
    assert gateway.call("POST", "/v1/chat/completions", three, token=key).status == 200
    four = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}] * 4}
    refused = gateway.call("POST", "/v1/chat/completions", four, token=key)
    assert refused.status == 400
    assert "at most 3 messages" in refused.json()["error"]["message"]


def test_too_many_tools_or_a_huge_tool_is_a_400(
    gateway: ApiGateway, upstream: Any, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_MAX_TOOLS="4", IC_MAX_TOOL_CHARS="2000")
    messages = [{"role": "user", "content": "hi"}]
    many = {"model": "scripted", "messages": messages, "tools": [_tool(i) for i in range(5)]}
    response = gateway.call("POST", "/v1/chat/completions", many, token=key)
    assert response.status == 400
    assert response.json()["error"]["code"] == "too_many_tools"
    huge = {"model": "scripted", "messages": messages, "tools": [_tool(0, "d" * 3000)]}
    response = gateway.call("POST", "/v1/chat/completions", huge, token=key)
    assert response.status == 400
    assert response.json()["error"]["code"] == "tool_too_large"
    anthropic_tools = [{"name": f"f{i}", "input_schema": {"type": "object"}} for i in range(5)]
    response = gateway.call(
        "POST",
        "/v1/messages",
        {"model": "scripted", "max_tokens": 5, "messages": messages, "tools": anthropic_tools},
        headers={"x-api-key": key},
    )
    assert response.status == 400
    assert "at most 4 tools" in json.dumps(response.json())
    assert upstream.calls == []
    fine = {"model": "scripted", "messages": messages, "tools": [_tool(i) for i in range(4)]}
    assert gateway.call("POST", "/v1/chat/completions", fine, token=key).status == 200
