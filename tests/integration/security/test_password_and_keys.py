"""Password change and reset: API keys revoked by default, every older reset or verification token
dead, and all-or-nothing (a failing step never leaves the password changed behind an error).
API keys: without the `manage` scope a key cannot mint keys or change the account; a cap on live
keys per user."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import PASSWORD, AwsEnv, reconfigure, token_from_mail
from tests.integration.security.conftest import DynamoFaults

NEW_PASSWORD = "a completely new passphrase"
KEYS = "/v1/auth/api-keys"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _key(client: TestClient, auth: dict[str, str], **body: Any) -> str:
    created = client.post(KEYS, json={"name": "k", **body}, headers=auth)
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def _login(client: TestClient, email: str, password: str) -> int:
    return client.post("/v1/auth/login", json={"email": email, "password": password}).status_code


def _change(client: TestClient, auth: dict[str, str], **extra: Any) -> Any:
    return client.post(
        "/v1/auth/change-password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, **extra},
        headers=auth,
    )


def _reset_tokens(client: TestClient, aws: AwsEnv, email: str, count: int) -> list[str]:
    for _ in range(count):
        assert client.post("/v1/auth/forgot-password", json={"email": email}).status_code == 202
    return [token_from_mail(m) for m in aws.mail() if m["template"] == "password_reset"]


# ---- password change and reset ----


def test_a_password_change_revokes_api_keys_unless_told_not_to(
    client: TestClient, make_account: Any
) -> None:
    account = make_account()
    key = _key(client, account.auth)
    assert client.get("/v1/auth/me", headers=_bearer(key)).status_code == 200
    changed = _change(client, account.auth)
    assert changed.status_code == 200, changed.text
    assert client.get("/v1/auth/me", headers=_bearer(key)).status_code == 401

    keeper = make_account()
    kept = _key(client, keeper.auth)
    assert _change(client, keeper.auth, revoke_api_keys=False).status_code == 200
    assert client.get("/v1/auth/me", headers=_bearer(kept)).status_code == 200


def test_a_reset_revokes_api_keys_and_kills_every_older_reset_link(
    client: TestClient, make_account: Any, aws: AwsEnv
) -> None:
    account = make_account()
    key = _key(client, account.auth)
    older, newer = _reset_tokens(client, aws, account.email, 2)
    done = client.post(
        "/v1/auth/reset-password", json={"token": newer, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    assert client.get("/v1/auth/me", headers=_bearer(key)).status_code == 401
    # The older link (issued before the reset) no longer resets anything.
    replay = client.post(
        "/v1/auth/reset-password", json={"token": older, "new_password": "yet another passphrase"}
    )
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "invalid_token"
    assert _login(client, account.email, NEW_PASSWORD) == 200


def test_a_password_change_kills_outstanding_reset_and_verification_tokens(
    client: TestClient, make_account: Any, aws: AwsEnv, auth_service: Any
) -> None:
    account = make_account()
    # An unverified email and an outstanding verification link.
    from inference_core.db.models import UserModel

    UserModel(account.user_id).update(actions=[UserModel.email_verified.set(False)])
    assert client.post("/v1/auth/verify-email/request", headers=account.auth).status_code == 202
    assert client.post("/v1/auth/forgot-password", json={"email": account.email}).status_code == 202
    mails = {m["template"]: token_from_mail(m) for m in aws.mail()}
    reset, verify = mails["password_reset"], mails["verify_email"]
    assert _change(client, account.auth).status_code == 200
    assert client.post("/v1/auth/verify-email", json={"token": verify}).status_code == 400
    stale = client.post("/v1/auth/reset-password", json={"token": reset, "new_password": "x" * 20})
    assert stale.status_code == 400
    assert _login(client, account.email, NEW_PASSWORD) == 200


def test_a_failing_password_write_changes_nothing_and_is_a_503(
    client: TestClient, make_account: Any, dynamo_faults: DynamoFaults
) -> None:
    account = make_account()
    key = _key(client, account.auth)
    dynamo_faults.fail("TransactWriteItems")
    failed = _change(client, account.auth, revoke_api_keys=False)
    assert failed.status_code == 503
    assert "retry-after" in failed.headers
    dynamo_faults.clear()
    assert _login(client, account.email, PASSWORD) == 200  # the old password still works
    assert _login(client, account.email, NEW_PASSWORD) == 401
    assert client.get("/v1/auth/me", headers=_bearer(key)).status_code == 200


def test_a_failing_reset_write_keeps_the_link_usable(
    client: TestClient, make_account: Any, aws: AwsEnv, dynamo_faults: DynamoFaults
) -> None:
    account = make_account()
    (token,) = _reset_tokens(client, aws, account.email, 1)
    dynamo_faults.fail("TransactWriteItems")
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert client.post("/v1/auth/reset-password", json=body).status_code == 503
    dynamo_faults.clear()
    assert _login(client, account.email, PASSWORD) == 200
    assert client.post("/v1/auth/reset-password", json=body).status_code == 200
    assert _login(client, account.email, NEW_PASSWORD) == 200


def test_a_failing_clean_up_after_the_change_still_answers_the_change(
    client: TestClient, make_account: Any, dynamo_faults: DynamoFaults
) -> None:
    account = make_account()
    other_session = client.post(
        "/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    ).json()
    dynamo_faults.fail("Query")  # the sweep of the other session families (an index query)
    changed = _change(client, account.auth, revoke_api_keys=False)
    assert changed.status_code == 200, changed.text
    dynamo_faults.clear()
    assert _login(client, account.email, NEW_PASSWORD) == 200
    # The other session is refused anyway: its tokens predate tokens_valid_after.
    assert (
        client.get("/v1/auth/me", headers=_bearer(other_session["access_token"])).status_code == 401
    )
    refresh = client.post(
        "/v1/auth/refresh", json={"refresh_token": other_session["refresh_token"]}
    )
    assert refresh.status_code == 401
    assert (
        client.get("/v1/auth/me", headers=_bearer(changed.json()["access_token"])).status_code
        == 200
    )


# ---- API key scopes and the cap ----


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", KEYS, {"name": "minted"}),
        (
            "POST",
            "/v1/auth/change-password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        ),
        ("PUT", "/v1/auth/me", {"name": "Mallory"}),
        ("POST", "/v1/auth/verify-email/request", None),
    ],
)
def test_a_default_key_cannot_mint_keys_or_change_the_account(
    client: TestClient, make_account: Any, method: str, path: str, body: Any
) -> None:
    account = make_account()
    key = _key(client, account.auth)
    response = client.request(method, path, json=body, headers=_bearer(key))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "key_scope_insufficient"
    assert _login(client, account.email, PASSWORD) == 200
    keys = client.get(KEYS, headers=account.auth).json()["data"]
    assert len(keys) == 1  # nothing minted


def test_a_default_key_cannot_revoke_keys_but_a_managing_key_can(
    client: TestClient, make_account: Any
) -> None:
    account = make_account()
    plain = _key(client, account.auth)
    victim_id = client.post(KEYS, json={}, headers=account.auth).json()["id"]
    assert client.delete(f"{KEYS}/{victim_id}", headers=_bearer(plain)).status_code == 403
    manager = _key(client, account.auth, scopes=["manage"])
    assert client.delete(f"{KEYS}/{victim_id}", headers=_bearer(manager)).status_code == 200
    minted = client.post(KEYS, json={"name": "from a key"}, headers=_bearer(manager))
    assert minted.status_code == 201
    assert minted.json()["scopes"] == []


def test_a_default_key_still_runs_inference_and_reads_its_account(
    client: TestClient, probe: TestClient, make_account: Any
) -> None:
    account = make_account()
    key = _key(client, account.auth)
    assert probe.post("/v1/probe", headers=_bearer(key)).status_code == 200
    assert client.get("/v1/auth/me", headers=_bearer(key)).status_code == 200
    assert client.get(KEYS, headers=_bearer(key)).status_code == 200


def test_live_keys_per_user_are_capped(
    client: TestClient, make_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_MAX_API_KEYS_PER_USER="3")
    account = make_account()
    ids = [client.post(KEYS, json={}, headers=account.auth).json()["id"] for _ in range(3)]
    refused = client.post(KEYS, json={}, headers=account.auth)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "api_key_limit_reached"
    assert client.delete(f"{KEYS}/{ids[0]}", headers=account.auth).status_code == 200
    assert client.post(KEYS, json={}, headers=account.auth).status_code == 201


def _live_api_keys(aws: AwsEnv, user_id: str) -> int | None:
    item = aws.dynamodb.get_item(
        TableName="ic-users", Key={"user_id": {"S": user_id}}, ConsistentRead=True
    )["Item"]
    return int(item["live_api_keys"]["N"]) if "live_api_keys" in item else None


def test_keys_revoked_by_a_password_change_leave_the_cap(
    client: TestClient, make_account: Any, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_MAX_API_KEYS_PER_USER="3")
    account = make_account()
    for _ in range(3):
        _key(client, account.auth)
    assert _live_api_keys(aws, account.user_id) == 3
    changed = _change(client, account.auth)  # revokes every key (the default)
    assert changed.status_code == 200, changed.text
    assert _live_api_keys(aws, account.user_id) == 0
    auth = _bearer(changed.json()["access_token"])
    for _ in range(3):
        _key(client, auth)
    assert client.post(KEYS, json={}, headers=auth).status_code == 403


def test_a_user_from_before_the_count_is_counted_once_from_their_keys(
    client: TestClient, make_account: Any, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_MAX_API_KEYS_PER_USER="4")
    account = make_account()
    ids = [client.post(KEYS, json={}, headers=account.auth).json()["id"] for _ in range(3)]
    assert client.delete(f"{KEYS}/{ids[0]}", headers=account.auth).status_code == 200
    # As a user item written before `live_api_keys` existed: no count, two live keys.
    aws.dynamodb.update_item(
        TableName="ic-users",
        Key={"user_id": {"S": account.user_id}},
        UpdateExpression="REMOVE live_api_keys",
    )
    assert client.post(KEYS, json={}, headers=account.auth).status_code == 201
    assert _live_api_keys(aws, account.user_id) == 3  # 2 counted + this one
    assert client.post(KEYS, json={}, headers=account.auth).status_code == 201
    refused = client.post(KEYS, json={}, headers=account.auth)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "api_key_limit_reached"
    # A revocation of such a user's key counts them first, then takes the key off.
    aws.dynamodb.update_item(
        TableName="ic-users",
        Key={"user_id": {"S": account.user_id}},
        UpdateExpression="REMOVE live_api_keys",
    )
    assert client.delete(f"{KEYS}/{ids[1]}", headers=account.auth).status_code == 200
    assert _live_api_keys(aws, account.user_id) == 3
    assert client.delete(f"{KEYS}/{ids[1]}", headers=account.auth).status_code == 404
    assert _live_api_keys(aws, account.user_id) == 3  # a second revocation counts nothing


def test_an_admin_revocation_leaves_the_cap(
    client: TestClient, make_account: Any, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_MAX_API_KEYS_PER_USER="1")
    admin, account = make_account(superuser=True), make_account()
    key_id = client.post(KEYS, json={}, headers=account.auth).json()["id"]
    assert client.post(KEYS, json={}, headers=account.auth).status_code == 403
    for _ in range(2):  # twice: the second finds it revoked and counts nothing
        revoked = client.delete(f"/v1/admin/keys/{key_id}", headers=admin.auth)
        assert revoked.status_code == 200, revoked.text
    assert _live_api_keys(aws, account.user_id) == 0
    assert client.post(KEYS, json={}, headers=account.auth).status_code == 201


def test_revoking_a_key_the_count_never_saw_keeps_the_count_at_zero(
    client: TestClient, make_account: Any, aws: AwsEnv
) -> None:
    from inference_core.db.models import ApiKeyModel

    account = make_account()
    # A key written straight to the table (as older code during a rolling deploy would).
    ApiKeyModel(
        "hash-of-an-uncounted-key",
        key_id="key_uncounted",
        owner_id=account.user_id,
        prefix="sk-ic-x",
        created_at=1,
        revoked=False,
    ).save()
    assert _live_api_keys(aws, account.user_id) == 0
    revoked = client.delete(f"{KEYS}/key_uncounted", headers=account.auth)
    assert revoked.status_code == 200, revoked.text
    assert _live_api_keys(aws, account.user_id) == 0  # not -1: the cap stays a cap
    assert client.get(KEYS, headers=account.auth).json()["data"] == []
