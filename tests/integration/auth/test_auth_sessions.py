"""Sessions: refresh rotation and reuse, logout, password change and reset, email verification."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import PASSWORD, ApiGateway, AwsEnv, reconfigure, token_from_mail

NEW_PASSWORD = "a completely new passphrase"


def _login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refresh(client: TestClient, token: str) -> Any:
    return client.post("/v1/auth/refresh", json={"refresh_token": token})


def test_refresh_rotates_and_reuse_revokes_the_family(
    client: TestClient, make_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No grace window here (tests/integration/security covers it): a replay is a reuse at once.
    reconfigure(monkeypatch, IC_REFRESH_REUSE_GRACE_SECONDS="0")
    account = make_account()
    first = _refresh(client, account.refresh_token)
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != account.refresh_token
    assert client.get("/v1/auth/me", headers=_bearer(rotated["access_token"])).status_code == 200

    # The old refresh token again: someone copied it. The whole family dies.
    replay = _refresh(client, account.refresh_token)
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "token_reused"
    assert _refresh(client, rotated["refresh_token"]).status_code == 401
    assert client.get("/v1/auth/me", headers=_bearer(rotated["access_token"])).status_code == 401

    # Other sessions of the same user are untouched.
    other = _login(client, account.email)
    assert _refresh(client, other["refresh_token"]).status_code == 200


def test_token_types_are_not_interchangeable(client: TestClient, make_account: Any) -> None:
    account = make_account()
    assert client.get("/v1/auth/me", headers=_bearer(account.refresh_token)).status_code == 401
    assert _refresh(client, account.access_token).status_code == 401


def test_logout_revokes_the_session(gateway: ApiGateway, make_account: Any) -> None:
    account = make_account()
    other = make_account()
    response = gateway.call("POST", "/v1/auth/logout", token=account.access_token)
    assert response.status == 204
    assert gateway.call("GET", "/v1/auth/me", token=account.access_token).status == 401
    refresh = gateway.call("POST", "/v1/auth/refresh", {"refresh_token": account.refresh_token})
    assert refresh.status == 401
    assert gateway.call("GET", "/v1/auth/me", token=other.access_token).status == 200


def test_change_password_keeps_this_session_and_ends_the_others(
    client: TestClient, make_account: Any
) -> None:
    account = make_account()  # session A
    session_b = _login(client, account.email)
    response = client.post(
        "/v1/auth/change-password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access_token", "refresh_token", "token_type", "expires_in"}

    # This session continues with the pair it was handed...
    assert client.get("/v1/auth/me", headers=_bearer(fresh["access_token"])).status_code == 200
    assert _refresh(client, fresh["refresh_token"]).status_code == 200
    # ...but its old tokens, and every token of session B, are dead.
    assert client.get("/v1/auth/me", headers=account.auth).status_code == 401
    assert _refresh(client, account.refresh_token).status_code == 401
    assert client.get("/v1/auth/me", headers=_bearer(session_b["access_token"])).status_code == 401
    assert _refresh(client, session_b["refresh_token"]).status_code == 401

    assert (
        client.post(
            "/v1/auth/login", json={"email": account.email, "password": PASSWORD}
        ).status_code
        == 401
    )
    _login(client, account.email, NEW_PASSWORD)


def test_change_password_checks_the_current_one_and_the_policy(
    client: TestClient, make_account: Any
) -> None:
    account = make_account()
    wrong = client.post(
        "/v1/auth/change-password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "incorrect_password"
    weak = client.post(
        "/v1/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=account.auth,
    )
    assert weak.status_code == 400
    assert client.get("/v1/auth/me", headers=account.auth).status_code == 200  # nothing changed


def test_reset_password_is_single_use_and_ends_every_session(
    gateway: ApiGateway, client: TestClient, make_account: Any, aws: AwsEnv
) -> None:
    account = make_account()
    assert gateway.call("POST", "/v1/auth/forgot-password", {"email": account.email}).status == 202
    [mail] = aws.mail()
    token = token_from_mail(mail)

    # Stored only as a hash.
    sessions = str(aws.scan("ic-sessions"))
    assert token not in sessions

    body = {"token": token, "new_password": NEW_PASSWORD}
    assert gateway.call("POST", "/v1/auth/reset-password", body).status == 200
    again = gateway.call(
        "POST", "/v1/auth/reset-password", {**body, "new_password": "yet another passphrase"}
    )
    assert again.status == 400 and again.json()["error"]["code"] == "invalid_token"

    assert client.get("/v1/auth/me", headers=account.auth).status_code == 401
    assert _refresh(client, account.refresh_token).status_code == 401
    assert (
        client.post(
            "/v1/auth/login", json={"email": account.email, "password": PASSWORD}
        ).status_code
        == 401
    )
    fresh = _login(client, account.email, NEW_PASSWORD)
    me = client.get("/v1/auth/me", headers=_bearer(fresh["access_token"])).json()
    assert me["email_verified"] is True  # following the emailed link proved the address


def test_reset_token_expires(client: TestClient, app: Any, make_account: Any, aws: AwsEnv) -> None:
    from inference_core.auth.deps import get_sessions_repo
    from inference_core.db.sessions import SessionsRepository

    account = make_account()
    client.post("/v1/auth/forgot-password", json={"email": account.email})
    token = token_from_mail(aws.mail()[0])
    # An hour and a bit later (the TTL sweeper may not have run: expiry is checked in code).
    later = SessionsRepository(now=lambda: time.time() + 3600 + 5)
    app.dependency_overrides[get_sessions_repo] = lambda: later
    response = client.post(
        "/v1/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    app.dependency_overrides.clear()
    _login(client, account.email)  # the password did not change


def test_a_verification_token_cannot_reset_a_password(client: TestClient, aws: AwsEnv) -> None:
    client.post("/v1/auth/register", json={"email": "ivy@example.com", "password": PASSWORD})
    verify_token = token_from_mail(aws.mail()[0])
    response = client.post(
        "/v1/auth/reset-password", json={"token": verify_token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    _login(client, "ivy@example.com")


def test_verify_email(gateway: ApiGateway, client: TestClient, aws: AwsEnv) -> None:
    gateway.call("POST", "/v1/auth/register", {"email": "jo@example.com", "password": PASSWORD})
    first_token = token_from_mail(aws.mail()[0])
    tokens = _login(client, "jo@example.com")

    # Ask for another link: a second, independent token.
    asked = gateway.call("POST", "/v1/auth/verify-email/request", token=tokens["access_token"])
    assert asked.status == 202
    [mail] = aws.mail()
    assert mail["template"] == "verify_email" and mail["to"] == "jo@example.com"
    second_token = token_from_mail(mail)
    assert second_token != first_token

    assert gateway.call("POST", "/v1/auth/verify-email", {"token": second_token}).status == 200
    me = gateway.call("GET", "/v1/auth/me", token=tokens["access_token"]).json()
    assert me["email_verified"] is True
    reused = gateway.call("POST", "/v1/auth/verify-email", {"token": second_token})
    assert reused.status == 400

    # Already verified: nothing is sent.
    again = gateway.call("POST", "/v1/auth/verify-email/request", token=tokens["access_token"])
    assert again.status == 202 and aws.mail() == []


@pytest.mark.parametrize("path", ["/v1/auth/verify-email", "/v1/auth/reset-password"])
def test_unknown_one_time_tokens_are_refused(client: TestClient, aws: AwsEnv, path: str) -> None:
    body: dict[str, str] = {"token": "x" * 43}
    if path.endswith("reset-password"):
        body["new_password"] = NEW_PASSWORD
    assert client.post(path, json=body).status_code == 400


def test_require_email_verification_blocks_login_until_verified(
    client: TestClient, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.conftest import reconfigure

    reconfigure(monkeypatch, IC_REQUIRE_EMAIL_VERIFICATION="1")
    client.post("/v1/auth/register", json={"email": "kim@example.com", "password": PASSWORD})
    token = token_from_mail(aws.mail()[0])
    blocked = client.post("/v1/auth/login", json={"email": "kim@example.com", "password": PASSWORD})
    assert blocked.status_code == 403
    assert client.post("/v1/auth/verify-email", json={"token": token}).status_code == 200
    _login(client, "kim@example.com")
