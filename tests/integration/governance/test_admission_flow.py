"""Admission and settle through the real routes over moto: limits per level, refusal bodies and
headers, reservation arithmetic, the usage aggregates, revocation on the next request."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}


def _key(client: TestClient, account: Any, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/auth/api-keys", json=fields, headers=account.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _chat(client: TestClient, token: str, **extra: Any) -> Any:
    return client.post(
        "/v1/chat/completions",
        json={**CHAT, **extra},
        headers={"Authorization": f"Bearer {token}", "Cache-Control": "no-cache"},
    )


def test_a_request_is_settled_with_its_real_usage(
    client: TestClient, make_account: Any, upstream: Any, items: Any
) -> None:
    account = make_account()
    key = _key(client, account)
    response = _chat(client, key["key"])
    assert response.status_code == 200, response.text
    item = items.key(key["id"])
    assert item["leases"]["M"] == {}
    spend = item["spend"]["M"]
    assert len(spend) == 1
    # 11 input + 5 output tokens at the primary's $3 / $15 per million
    assert abs(float(next(iter(spend.values()))["N"]) - 0.000108) < 1e-9
    tokens = item["token_window"]["M"]
    assert [float(v["N"]) for v in tokens.values()] == [16.0]
