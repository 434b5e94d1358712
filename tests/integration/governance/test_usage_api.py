"""`GET /v1/usage` from the daily aggregates, and the limits and spend `GET /v1/auth/api-keys`
shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}
COST = (11 * 3.0 + 5 * 15.0) / 1_000_000  # one scripted answer at the primary's prices


def _key(client: TestClient, account: Any, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/auth/api-keys", json=fields, headers=account.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _chat(client: TestClient, token: str, model: str = "scripted", cache: bool = False) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    if not cache:
        headers["Cache-Control"] = "no-cache"
    response = client.post("/v1/chat/completions", json={**CHAT, "model": model}, headers=headers)
    assert response.status_code == 200, response.text


def test_a_key_sees_its_own_usage_and_a_user_sees_all_of_theirs(
    client: TestClient, make_account: Any, upstream: Any
) -> None:
    account = make_account()
    first, second = _key(client, account), _key(client, account)
    _chat(client, first["key"])
    _chat(client, first["key"], model="other")
    _chat(client, second["key"])
    _chat(client, account.access_token)
    stranger = make_account()
    _chat(client, stranger.access_token)

    mine = client.get("/v1/usage", headers={"Authorization": f"Bearer {first['key']}"}).json()
    assert mine["total_requests"] == 2
    assert (mine["total_input_tokens"], mine["total_output_tokens"]) == (22, 10)
    # "other" has no prices: only the scripted answer cost anything
    assert abs(mine["total_cost_usd"] - COST) < 1e-12
    assert [row["day"] for row in mine["data"]] == [datetime.now(UTC).date().isoformat()]

    user = client.get("/v1/usage", params={"group_by": "key"}, headers=account.auth).json()
    assert user["total_requests"] == 4
    by_key = {row["key_id"]: row["requests"] for row in user["data"]}
    assert by_key == {first["id"]: 2, second["id"]: 1, None: 1}

    by_model = client.get("/v1/usage", params={"group_by": "model"}, headers=account.auth).json()
    assert {row["model"]: row["requests"] for row in by_model["data"]} == {
        "other": 1,
        "scripted": 3,
    }


def test_a_cached_answer_is_a_request_at_zero_cost(
    client: TestClient, make_account: Any, upstream: Any
) -> None:
    account = make_account()
    _chat(client, account.access_token, cache=True)
    _chat(client, account.access_token, cache=True)
    usage = client.get("/v1/usage", headers=account.auth).json()
    assert usage["total_requests"] == 2 and usage["total_cached_requests"] == 1
    assert abs(usage["total_cost_usd"] - COST) < 1e-12


def test_refused_requests_are_not_usage_and_the_range_is_checked(
    client: TestClient, make_account: Any, upstream: Any
) -> None:
    account = make_account()
    key = _key(client, account, rpm_limit=1)
    _chat(client, key["key"])
    refused = client.post(
        "/v1/chat/completions",
        json=CHAT,
        headers={"Authorization": f"Bearer {key['key']}", "Cache-Control": "no-cache"},
    )
    assert refused.status_code == 429
    headers = {"Authorization": f"Bearer {key['key']}"}
    assert client.get("/v1/usage", headers=headers).json()["total_requests"] == 1
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    past = client.get("/v1/usage", params={"start": yesterday, "end": yesterday}, headers=headers)
    assert past.json()["total_requests"] == 0 and past.json()["data"] == []
    for params in (
        {"start": "2026-13-01"},
        {"start": "2026-02-02", "end": "2026-02-01"},
        {"group_by": "team"},
        {"start": "2020-01-01", "end": "2026-01-01"},
    ):
        bad = client.get("/v1/usage", params=params, headers=headers)
        assert bad.status_code == 400, params
        assert bad.json()["error"]["type"] == "invalid_request_error"
    assert client.get("/v1/usage").status_code == 401


def test_api_keys_show_limits_this_periods_spend_and_what_remains(
    client: TestClient, make_account: Any, upstream: Any
) -> None:
    account = make_account()
    key = _key(
        client,
        account,
        max_budget_usd=0.01,
        budget_period="day",
        tpm_limit=5000,
        max_parallel_requests=2,
    )
    assert (key["max_budget_usd"], key["budget_period"], key["spend_usd"]) == (0.01, "day", 0.0)
    _chat(client, key["key"])
    [listed] = client.get("/v1/auth/api-keys", headers=account.auth).json()["data"]
    assert listed["tpm_limit"] == 5000 and listed["max_parallel_requests"] == 2
    assert abs(listed["spend_usd"] - COST) < 1e-12
    assert abs(listed["budget_remaining_usd"] - (0.01 - COST)) < 1e-12


def test_a_key_shows_when_it_was_last_used(
    client: TestClient, make_account: Any, upstream: Any
) -> None:
    account = make_account()
    key, idle = _key(client, account), _key(client, account)
    assert key["last_used_at"] is None
    before = int(datetime.now(UTC).timestamp())
    _chat(client, key["key"])
    listed = client.get("/v1/auth/api-keys", headers=account.auth).json()["data"]
    used = {entry["id"]: entry["last_used_at"] for entry in listed}
    assert used[idle["id"]] is None
    assert before <= used[key["id"]] <= int(datetime.now(UTC).timestamp())


def test_a_keys_limits_may_only_narrow_its_owners(
    client: TestClient, make_account: Any, items: Any
) -> None:
    account = make_account()
    items.set_user(account.user_id, max_budget_usd=1.0, tpm_limit=1000)
    wider = client.post("/v1/auth/api-keys", json={"max_budget_usd": 2.0}, headers=account.auth)
    assert wider.status_code == 403 and wider.json()["error"]["param"] == "max_budget_usd"
    wider = client.post("/v1/auth/api-keys", json={"tpm_limit": 1001}, headers=account.auth)
    assert wider.status_code == 403
    assert _key(client, account, max_budget_usd=0.5, tpm_limit=1000)["tpm_limit"] == 1000
