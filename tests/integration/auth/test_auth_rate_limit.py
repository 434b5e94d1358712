"""The data plane's credentials and request windows, through a real inference route: the one
admission transaction authorizes and counts, the limits hold in DynamoDB, revocation is a
condition of that write (so it holds on the very next request)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import AwsEnv, reconfigure
from tests.integration.governance.conftest import minute_start

PROBE = "/v1/probe"
CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Cache-Control": "no-cache"}


def _new_key(client: TestClient, account: Any, **scopes: Any) -> dict[str, Any]:
    response = client.post("/v1/auth/api-keys", json=scopes, headers=account.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _chat(client: TestClient, token: str) -> Any:
    return client.post("/v1/chat/completions", json=CHAT, headers=_bearer(token))


def test_one_round_trip_authorizes_and_counts_a_request(
    upstream: Any, client: TestClient, make_account: Any, count_calls: Any
) -> None:
    account = make_account()
    key = _new_key(client, account)
    operations = count_calls()
    assert _chat(client, key["key"]).status_code == 200
    # a cold resolution reads the key and its user once (then cached for up to 30 s)
    assert operations == ["GetItem", "GetItem", "TransactWriteItems", "TransactWriteItems"]
    assert _chat(client, account.access_token).status_code == 200

    for token in (key["key"], account.access_token):
        operations.clear()
        assert _chat(client, token).status_code == 200
        # the admission transaction before the provider call, the settle transaction after it
        # (this request skips the cache, whose read would run concurrently with the admission)
        assert operations == ["TransactWriteItems", "TransactWriteItems"]


def test_over_the_limit_is_429_with_retry_after(
    client: TestClient, make_account: Any, upstream: Any, freeze: Any
) -> None:
    account = make_account()
    key = _new_key(client, account, rpm_limit=3)
    clock = freeze(minute_start() + 10)
    for _ in range(3):
        assert _chat(client, key["key"]).status_code == 200
    calls = len(upstream.calls)
    refused = _chat(client, key["key"])
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "51"
    error = refused.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "rate_limit_exceeded"
    assert "API key" in error["message"] and "rpm_limit" in error["message"]
    assert len(upstream.calls) == calls  # never reached a provider
    # Refusals are not counted; the limit is per key, so the user's session is unaffected.
    clock.advance(20)
    assert _chat(client, key["key"]).headers["retry-after"] == "31"
    assert _chat(client, account.access_token).status_code == 200


def test_the_window_is_a_fixed_utc_minute(
    client: TestClient, make_account: Any, upstream: Any, freeze: Any, items: Any
) -> None:
    account = make_account()
    key = _new_key(client, account, rpm_limit=2)
    clock = freeze(minute_start() + 58)
    assert _chat(client, key["key"]).status_code == 200
    assert _chat(client, key["key"]).status_code == 200
    assert _chat(client, key["key"]).status_code == 429
    clock.advance(2)  # the boundary: a fresh window, whatever happened a second ago
    assert _chat(client, key["key"]).status_code == 200
    assert _chat(client, key["key"]).status_code == 200
    assert _chat(client, key["key"]).status_code == 429
    # the previous minute's entry went with the first admission of this one
    window = items.key(key["id"])["request_window"]["M"]
    assert window == {str(int(clock.now // 60)): {"N": "2"}}


def test_jwt_sessions_are_counted_per_user(
    client: TestClient, make_account: Any, upstream: Any, freeze: Any
) -> None:
    account = make_account(rpm_limit=2)
    second_session = client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    ).json()
    freeze(minute_start() + 1)
    assert _chat(client, account.access_token).status_code == 200
    assert _chat(client, second_session["access_token"]).status_code == 200
    # Both sessions share the user's window.
    refused = _chat(client, account.access_token)
    assert refused.status_code == 429 and "user's rpm_limit" in refused.json()["error"]["message"]


def test_the_users_limit_holds_across_all_their_keys(
    client: TestClient, make_account: Any, upstream: Any, freeze: Any
) -> None:
    account = make_account(rpm_limit=3)
    keys = [_new_key(client, account)["key"] for _ in range(3)]
    freeze(minute_start() + 1)
    assert [_chat(client, k).status_code for k in keys] == [200, 200, 200]
    refused = _chat(client, _new_key(client, account)["key"])
    assert refused.status_code == 429 and "user's rpm_limit" in refused.json()["error"]["message"]


def test_data_plane_refuses_revoked_and_wrong_tokens(
    client: TestClient, make_account: Any, upstream: Any
) -> None:
    account = make_account()
    assert _chat(client, account.access_token).status_code == 200  # cached resolution
    assert _chat(client, account.refresh_token).status_code == 401
    assert _chat(client, "sk-ic-" + "A" * 43).status_code == 401
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 401
    client.post(
        "/v1/auth/change-password",
        json={"current_password": account.password, "new_password": "a whole new passphrase"},
        headers=account.auth,
    )
    # tokens_valid_after moved: the old access token is refused by the admission write itself.
    response = _chat(client, account.access_token)
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_revoked"


def test_x_api_key_header_on_the_data_plane(
    client: TestClient, probe: TestClient, make_account: Any
) -> None:
    account = make_account()
    key = _new_key(client, account, allowed_models=["smollm2"])
    body = probe.post(PROBE, headers={"x-api-key": key["key"]}).json()
    assert body == {
        "user_id": account.user_id,
        "role": "user",
        "key_id": key["id"],
        "allowed_models": ["smollm2"],
        "rpm_limit": 60,
    }


def test_public_access_mode(
    probe: TestClient, make_account: Any, monkeypatch: pytest.MonkeyPatch, aws: AwsEnv
) -> None:
    account = make_account()
    reconfigure(monkeypatch, IC_INFERENCE_ACCESS="public")
    anonymous = probe.post(PROBE)
    assert anonymous.status_code == 200 and anonymous.json()["user_id"] == "anonymous"
    # A token, if sent, is still checked.
    assert probe.post(PROBE, headers=_bearer("not-a-token")).status_code == 401
    assert probe.post(PROBE, headers=account.auth).json()["user_id"] == account.user_id


def test_superuser_access_mode(
    probe: TestClient, make_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_account()
    admin = make_account(superuser=True)
    reconfigure(monkeypatch, IC_INFERENCE_ACCESS="superuser")
    refused = probe.post(PROBE, headers=user.auth)
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "permission_error"
    assert probe.post(PROBE, headers=admin.auth).status_code == 200
    assert probe.post(PROBE).status_code == 401
