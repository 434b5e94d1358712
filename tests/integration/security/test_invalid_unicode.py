"""A lone UTF-16 surrogate or bytes that are not UTF-8, in any JSON field of any route: a 400 in
the endpoint's own format, never a 500 (which is what register and chat.completions used to say)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import ApiGateway

LONE_SURROGATE = "\\ud800"  # as JSON spells it: six characters


def _key(gateway: ApiGateway, make_account: Any) -> str:
    account = make_account()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "t"}, token=account.access_token)
    assert created.status == 201, created.text
    return str(created.json()["key"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/auth/register",
            '{"email": "a@example.com", "password": "pw ' + LONE_SURROGATE + ' long enough"}',
        ),
        ("/v1/auth/login", '{"email": "a' + LONE_SURROGATE + '@example.com", "password": "x"}'),
        ("/v1/auth/forgot-password", '{"email": "a@example.com' + LONE_SURROGATE + '"}'),
        (
            "/v1/chat/completions",
            '{"model": "scripted", "messages": [{"role": "user", "content": "hi '
            + LONE_SURROGATE
            + '"}]}',
        ),
        ("/v1/chat", '{"message": "' + LONE_SURROGATE + '", "max_tokens": 5}'),
        ("/v1/generate", '{"prompt": "x", "model": "scr' + LONE_SURROGATE + 'ipted"}'),
        ("/v1/embeddings", '{"model": "scripted", "input": ["' + LONE_SURROGATE + '"]}'),
        # In a key, not a value: still refused.
        ("/v1/chat/completions", '{"' + LONE_SURROGATE + '": 1}'),
    ],
)
def test_a_lone_surrogate_is_a_400_in_openai_format(
    gateway: ApiGateway, upstream: Any, make_account: Any, path: str, body: str
) -> None:
    key = _key(gateway, make_account)
    response = gateway.call("POST", path, body, token=key)
    assert response.status == 400, response.text
    assert response.json()["error"]["code"] == "invalid_unicode"
    assert upstream.calls == []


def test_a_lone_surrogate_in_messages_is_a_400_in_anthropic_format(
    gateway: ApiGateway, upstream: Any, make_account: Any
) -> None:
    key = _key(gateway, make_account)
    body = (
        '{"model": "scripted", "max_tokens": 5, "messages": [{"role": "user", "content": "'
        + 'x\\udc00y"}]}'  # a lone low surrogate
    )
    response = gateway.call("POST", "/v1/messages", body, headers={"x-api-key": key})
    assert response.status == 400, response.text
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert upstream.calls == []


def test_bytes_that_are_not_utf8_are_a_400(client: Any, upstream: Any, make_account: Any) -> None:
    account = make_account()
    for path in ("/v1/auth/register", "/v1/chat/completions", "/v1/messages"):
        response = client.post(
            path,
            content=b'{"email": "\xff\xfe@example.com", "password": "x"}',
            headers={**account.auth, "content-type": "application/json"},
        )
        assert response.status_code == 400, (path, response.text)
    assert upstream.calls == []


def test_a_valid_surrogate_pair_and_an_escaped_backslash_still_work(
    gateway: ApiGateway, upstream: Any, make_account: Any
) -> None:
    key = _key(gateway, make_account)
    pair = '{"model": "scripted", "messages": [{"role": "user", "content": "\\ud83d\\ude00"}]}'
    assert gateway.call("POST", "/v1/chat/completions", pair, token=key).status == 200
    # `\\ud800` is a backslash followed by the text "ud800", not a surrogate.
    text = '{"model": "scripted", "messages": [{"role": "user", "content": "\\\\ud800"}]}'
    assert gateway.call("POST", "/v1/chat/completions", text, token=key).status == 200
