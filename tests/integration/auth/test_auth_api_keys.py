"""API keys: shown once, stored hashed, listed, revoked; scopes only narrow; not yours → 404."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.conftest import ApiGateway, AwsEnv

KEYS = "/v1/auth/api-keys"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _restrict_user(aws: AwsEnv, user_id: str, models: list[str], rpm: int) -> None:
    aws.dynamodb.update_item(
        TableName="ic-users",
        Key={"user_id": {"S": user_id}},
        UpdateExpression="SET allowed_models = :m, rpm_limit = :r",
        ExpressionAttributeValues={":m": {"L": [{"S": m} for m in models]}, ":r": {"N": str(rpm)}},
    )


def test_create_list_use_and_revoke_through_api_gateway(
    gateway: ApiGateway, make_account: Any, aws: AwsEnv
) -> None:
    account = make_account()
    created = gateway.call("POST", KEYS, {"name": "laptop"}, token=account.access_token)
    assert created.status == 201
    body = created.json()
    secret = body["key"]
    assert secret.startswith("sk-ic-") and len(secret) >= 6 + 43
    assert body["prefix"] == secret[: len(body["prefix"])] and body["name"] == "laptop"
    assert body["rpm_limit"] == 60 and body["allowed_models"] is None

    # Stored only as its SHA-256.
    [item] = aws.scan("ic-api-keys")
    assert item["key_hash"]["S"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(item)

    listed = gateway.call("GET", KEYS, token=account.access_token).json()
    assert listed["object"] == "list"
    [entry] = listed["data"]
    assert entry["id"] == body["id"] and "key" not in entry
    assert {"prefix", "name", "created_at", "last_used_at", "allowed_models", "rpm_limit"} <= set(
        entry
    )

    # The key works as a bearer token, and as x-api-key.
    assert gateway.call("GET", "/v1/auth/me", token=secret).status == 200
    assert gateway.call("GET", "/v1/auth/me", headers={"x-api-key": secret}).status == 200

    deleted = gateway.call("DELETE", f"{KEYS}/{body['id']}", token=account.access_token)
    assert deleted.status == 200 and deleted.json() == {
        "id": body["id"],
        "object": "api_key",
        "deleted": True,
    }
    assert gateway.call("GET", "/v1/auth/me", token=secret).status == 401
    assert gateway.call("GET", KEYS, token=account.access_token).json()["data"] == []
    assert gateway.call("DELETE", f"{KEYS}/{body['id']}", token=account.access_token).status == 404


def test_another_users_key_is_not_found(client: TestClient, make_account: Any) -> None:
    alice, mallory = make_account(), make_account()
    key = client.post(KEYS, json={}, headers=alice.auth).json()
    response = client.delete(f"{KEYS}/{key['id']}", headers=mallory.auth)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert client.get(KEYS, headers=mallory.auth).json()["data"] == []
    assert client.get("/v1/auth/me", headers=_bearer(key["key"])).status_code == 200  # still alive


def test_scopes_can_only_narrow_the_creators(
    client: TestClient, make_account: Any, aws: AwsEnv
) -> None:
    account = make_account()
    _restrict_user(aws, account.user_id, ["smollm2", "gpt-4o-mini"], rpm=30)

    wider = client.post(KEYS, json={"allowed_models": ["smollm2", "claude"]}, headers=account.auth)
    assert wider.status_code == 403
    assert wider.json()["error"]["code"] == "scope_exceeds_creator"
    faster = client.post(KEYS, json={"rpm_limit": 31}, headers=account.auth)
    assert faster.status_code == 403

    inherited = client.post(KEYS, json={}, headers=account.auth).json()
    assert (
        inherited["allowed_models"] == ["gpt-4o-mini", "smollm2"] and inherited["rpm_limit"] == 30
    )

    narrow = client.post(
        KEYS,
        json={"allowed_models": ["smollm2"], "rpm_limit": 5, "scopes": ["manage"]},
        headers=account.auth,
    ).json()
    assert narrow["allowed_models"] == ["smollm2"] and narrow["rpm_limit"] == 5

    # A (managing) key creating a key: narrowed against the key's own scopes, not the user's.
    via_key = _bearer(narrow["key"])
    assert client.post(KEYS, json={"rpm_limit": 6}, headers=via_key).status_code == 403
    assert (
        client.post(KEYS, json={"allowed_models": ["gpt-4o-mini"]}, headers=via_key).status_code
        == 403
    )
    child = client.post(KEYS, json={"rpm_limit": 2}, headers=via_key).json()
    assert child["allowed_models"] == ["smollm2"] and child["rpm_limit"] == 2


def test_key_request_validation(client: TestClient, make_account: Any) -> None:
    account = make_account()
    for body in (
        {"rpm_limit": 0},
        {"rpm_limit": "many"},
        {"scopes": ["*"]},
        {"allowed_models": [""]},
    ):
        response = client.post(KEYS, json=body, headers=account.auth)
        assert response.status_code == 400, body


CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5}


def _chat(client: TestClient, token: str) -> Any:
    return client.post("/v1/chat/completions", json=CHAT, headers=_bearer(token))


def test_revoked_key_stops_working_on_the_data_plane(
    client: TestClient, make_account: Any, upstream: Any
) -> None:
    account = make_account()
    key = client.post(KEYS, json={}, headers=account.auth).json()
    assert _chat(client, key["key"]).status_code == 200  # its levels are cached now
    client.delete(f"{KEYS}/{key['id']}", headers=account.auth)
    calls = len(upstream.calls)
    # Revocation is a condition of the admission write, never cached: the very next request.
    response = _chat(client, key["key"])
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert len(upstream.calls) == calls


def test_superuser_created_by_the_service_and_its_key(
    client: TestClient, make_account: Any, auth_service: Any
) -> None:
    admin = make_account("root@example.com", superuser=True)
    assert client.get("/v1/auth/me", headers=admin.auth).json()["role"] == "superuser"
    principal = auth_service.principal_for_user(admin.user_id)
    created = auth_service.create_api_key(principal, name="cli")
    me = client.get("/v1/auth/me", headers=_bearer(created.secret)).json()
    assert me["id"] == admin.user_id and me["role"] == "superuser"


def test_deactivating_a_user_stops_their_keys_and_sessions(
    client: TestClient, make_account: Any, auth_service: Any, upstream: Any
) -> None:
    account = make_account()
    key = client.post(KEYS, json={}, headers=account.auth).json()
    assert _chat(client, key["key"]).status_code == 200
    assert _chat(client, account.access_token).status_code == 200
    auth_service.deactivate_user(account.user_id)
    assert _chat(client, key["key"]).status_code == 401
    refused = _chat(client, account.access_token)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "account_disabled"
    assert client.get("/v1/auth/me", headers=account.auth).status_code == 401
    refresh = client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert refresh.status_code == 401
