"""The hot path: one conditional UpdateItem authorizes and counts; the limit holds in DynamoDB."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import (
    ApiGateway,
    AwsEnv,
    DynamoCalls,
    freeze_inference_clock,
    reconfigure,
)

PROBE = "/v1/probe"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _minute_start() -> float:
    return float(int(time.time()) // 60 * 60)


def _new_key(client: TestClient, account: Any, **scopes: Any) -> dict[str, Any]:
    response = client.post("/v1/auth/api-keys", json=scopes, headers=account.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_one_dynamodb_call_authorizes_and_counts_a_request(
    client: TestClient, probe: TestClient, make_account: Any, dynamodb_calls: DynamoCalls
) -> None:
    account = make_account()
    key = _new_key(client, account)
    # Open this minute's windows (the first request of a minute costs one extra call).
    probe.post(PROBE, headers=_bearer(key["key"]))
    probe.post(PROBE, headers=account.auth)

    dynamodb_calls.reset()
    assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 200
    assert dynamodb_calls.operations == ["UpdateItem"]

    dynamodb_calls.reset()
    response = probe.post(PROBE, headers=account.auth)
    assert response.status_code == 200 and response.json()["user_id"] == account.user_id
    assert dynamodb_calls.operations == ["UpdateItem"]


def test_over_the_limit_is_429_with_retry_after(
    client: TestClient, probe: TestClient, make_account: Any
) -> None:
    account = make_account()
    key = _new_key(client, account, rpm_limit=3)
    clock = freeze_inference_clock(probe, _minute_start() + 10)
    for _ in range(3):
        assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 200
    refused = probe.post(PROBE, headers=_bearer(key["key"]))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "50"
    assert refused.json()["error"]["type"] == "rate_limit_error"
    # Refusals are not counted; the limit is per key, so the user's session is unaffected.
    clock.advance(20)
    assert probe.post(PROBE, headers=_bearer(key["key"])).headers["retry-after"] == "30"
    assert probe.post(PROBE, headers=account.auth).status_code == 200


def test_the_window_rolls_over_each_minute(
    client: TestClient,
    probe: TestClient,
    make_account: Any,
    dynamodb_calls: DynamoCalls,
    aws: AwsEnv,
) -> None:
    account = make_account()
    key = _new_key(client, account, rpm_limit=2)
    clock = freeze_inference_clock(probe, _minute_start() + 58)
    assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 200
    assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 200
    assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 429

    clock.advance(3)  # the next minute
    dynamodb_calls.reset()
    assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 200
    # The count fails on the stale window, then one conditional write starts the new one.
    assert dynamodb_calls.operations == ["UpdateItem", "UpdateItem"]
    dynamodb_calls.reset()
    assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 200
    assert dynamodb_calls.operations == ["UpdateItem"]
    assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 429

    [item] = aws.scan("ic-api-keys")
    assert int(item["window_start"]["N"]) == int(clock.now // 60)
    assert int(item["window_count"]["N"]) == 2
    assert int(item["last_used_at"]["N"]) == int(clock.now)


def test_the_limit_holds_across_separately_configured_processes(
    client: TestClient, make_account: Any
) -> None:
    from inference_core.auth.api_keys import hash_api_key
    from inference_core.db.api_keys import ApiKeysRepository
    from inference_core.db.models import ApiKeyModel, configure_models
    from inference_core.errors import RateLimitError
    from inference_core.settings import Settings

    account = make_account()
    key_hash = hash_api_key(_new_key(client, account, rpm_limit=3)["key"])
    now = _minute_start() + 5

    # Two "processes": each binds the models itself and so talks through its own client.
    configure_models(Settings())
    first = ApiKeysRepository(now=lambda: now)
    first.authorize_and_count(key_hash)
    first.authorize_and_count(key_hash)
    first_client = ApiKeyModel._get_connection().connection.client
    configure_models(Settings())
    second = ApiKeysRepository(now=lambda: now)
    assert ApiKeyModel._get_connection().connection.client is not first_client
    assert second.authorize_and_count(key_hash).window_count == 3
    with pytest.raises(RateLimitError) as refused:
        second.authorize_and_count(key_hash)
    assert refused.value.retry_after == 55
    with pytest.raises(RateLimitError):
        first.authorize_and_count(key_hash)


def test_jwt_sessions_are_counted_per_user(
    client: TestClient, probe: TestClient, make_account: Any
) -> None:
    account = make_account(rpm_limit=2)
    second_session = client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    ).json()
    freeze_inference_clock(probe, _minute_start() + 1)
    assert probe.post(PROBE, headers=account.auth).status_code == 200
    assert probe.post(PROBE, headers=_bearer(second_session["access_token"])).status_code == 200
    # Both sessions share the user's window.
    assert probe.post(PROBE, headers=account.auth).status_code == 429


def test_data_plane_refuses_revoked_and_wrong_tokens(
    client: TestClient, probe: TestClient, make_account: Any
) -> None:
    account = make_account()
    assert probe.post(PROBE, headers=_bearer(account.refresh_token)).status_code == 401
    assert probe.post(PROBE, headers=_bearer("sk-ic-" + "A" * 43)).status_code == 401
    assert probe.post(PROBE).status_code == 401
    client.post(
        "/v1/auth/change-password",
        json={"current_password": account.password, "new_password": "a whole new passphrase"},
        headers=account.auth,
    )
    # tokens_valid_after moved: the old access token is refused in the same single call.
    response = probe.post(PROBE, headers=account.auth)
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
    # A token, if sent, is still checked (and counted).
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


def test_real_inference_route_answers_429_before_any_provider(
    client: TestClient, probe: TestClient, gateway: ApiGateway, make_account: Any
) -> None:
    account = make_account()
    key = _new_key(client, account, rpm_limit=1)
    assert probe.post(PROBE, headers=_bearer(key["key"])).status_code == 200  # the one request
    response = gateway.call(
        "POST",
        "/v1/chat/completions",
        {"model": "smollm2", "messages": [{"role": "user", "content": "hi"}]},
        token=key["key"],
    )
    assert response.status == 429
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["type"] == "rate_limit_error"
