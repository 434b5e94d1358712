"""Accounts over the real Lambda handler: register, login, me, and no user enumeration."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import PASSWORD, ApiGateway, AwsEnv, reconfigure, token_from_mail

REGISTER = "/v1/auth/register"
LOGIN = "/v1/auth/login"


def _register(gateway: ApiGateway, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return gateway.call("POST", REGISTER, {"email": email, "password": password, **extra})


def test_register_then_login_through_api_gateway(gateway: ApiGateway, aws: AwsEnv) -> None:
    response = _register(gateway, "Ann@Example.com", name="Ann")
    assert response.status == 202
    assert "message" in response.json()
    assert "x-request-id" in response.headers

    [user] = aws.scan("ic-users")
    assert user["email"]["S"] == "ann@example.com"
    assert user["password_hash"]["S"].startswith("$argon2id$")
    assert PASSWORD not in str(user)
    assert int(user["rpm_limit"]["N"]) == 60  # stored on every user for the hot path

    [mail] = aws.mail()
    assert mail["version"] == 1 and mail["template"] == "verify_email"
    assert mail["to"] == "ann@example.com"
    assert mail["context"]["link"].startswith("http://127.0.0.1:8000/verify-email?token=")
    assert mail["correlation_id"] == response.headers["x-request-id"]
    assert mail["idempotency_key"]

    login = gateway.call("POST", LOGIN, {"email": "ANN@example.com", "password": PASSWORD})
    assert login.status == 200
    body = login.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 900

    me = gateway.call("GET", "/v1/auth/me", token=body["access_token"])
    assert me.status == 200
    assert me.json()["email"] == "ann@example.com" and me.json()["name"] == "Ann"
    assert me.json()["role"] == "user" and me.json()["email_verified"] is False


def test_register_existing_email_answers_the_same_and_changes_nothing(
    gateway: ApiGateway, aws: AwsEnv
) -> None:
    first = _register(gateway, "bob@example.com")
    aws.mail()
    again = _register(gateway, "BOB@example.com", password="another password entirely")
    assert (again.status, again.json()) == (first.status, first.json())

    assert len(aws.scan("ic-users")) == 1  # no second account
    [mail] = aws.mail()
    assert mail["template"] == "account_exists" and mail["to"] == "bob@example.com"
    assert mail["context"]["link"].endswith("/forgot-password")

    # The original password still works; the attacker's does not.
    assert (
        gateway.call("POST", LOGIN, {"email": "bob@example.com", "password": PASSWORD}).status
        == 200
    )
    wrong = {"email": "bob@example.com", "password": "another password entirely"}
    assert gateway.call("POST", LOGIN, wrong).status == 401


def test_register_takes_the_same_time_for_new_and_existing_emails(
    gateway: ApiGateway, aws: AwsEnv
) -> None:
    _register(gateway, "carol@example.com")
    timings = {}
    for label, email in (("existing", "carol@example.com"), ("new", "dave@example.com")):
        started = time.perf_counter()
        _register(gateway, email)
        timings[label] = time.perf_counter() - started
    # Both answer no sooner than the uniform floor, so the extra writes of a new account don't show.
    assert min(timings.values()) >= 0.25
    assert abs(timings["existing"] - timings["new"]) < 0.15


def test_login_answers_the_same_for_a_wrong_password_and_a_missing_email(
    gateway: ApiGateway, aws: AwsEnv
) -> None:
    _register(gateway, "erin@example.com")
    wrong = gateway.call(
        "POST", LOGIN, {"email": "erin@example.com", "password": "not her password"}
    )
    missing = gateway.call("POST", LOGIN, {"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status == missing.status == 401
    assert wrong.json() == missing.json()
    assert wrong.json()["error"]["type"] == "authentication_error"


def test_login_of_a_missing_user_still_runs_argon2(
    gateway: ApiGateway, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference_core.auth import service

    seen: list[str | None] = []
    real = service.verify_password

    def spy(password_hash: str | None, password: str) -> bool:
        seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", spy)
    gateway.call("POST", LOGIN, {"email": "nobody@example.com", "password": PASSWORD})
    assert seen == [None]  # verified against the dummy hash (see passwords.verify_password)


def test_forgot_password_answers_the_same_whether_or_not_the_email_exists(
    gateway: ApiGateway, aws: AwsEnv
) -> None:
    _register(gateway, "fay@example.com")
    aws.mail()
    timings = {}
    responses = {}
    for label, email in (("existing", "fay@example.com"), ("missing", "ghost@example.com")):
        started = time.perf_counter()
        responses[label] = gateway.call("POST", "/v1/auth/forgot-password", {"email": email})
        timings[label] = time.perf_counter() - started
    assert responses["existing"].status == responses["missing"].status == 202
    assert responses["existing"].json() == responses["missing"].json()
    assert min(timings.values()) >= 0.25
    [mail] = aws.mail()  # only the real account got an email
    assert mail["template"] == "password_reset" and mail["to"] == "fay@example.com"
    assert mail["context"]["expires_minutes"] == 60


def test_me_update_and_validation(client: TestClient, make_account: Any) -> None:
    account = make_account()
    updated = client.put("/v1/auth/me", json={"name": "New Name"}, headers=account.auth)
    assert updated.status_code == 200 and updated.json()["name"] == "New Name"
    assert client.get("/v1/auth/me", headers=account.auth).json()["name"] == "New Name"
    cleared = client.put("/v1/auth/me", json={"name": None}, headers=account.auth)
    assert cleared.status_code == 200 and cleared.json()["name"] is None

    # Unknown fields are refused (no changing your own role), in OpenAI's error shape.
    escalate = client.put(
        "/v1/auth/me", json={"name": "x", "role": "superuser"}, headers=account.auth
    )
    assert escalate.status_code == 400
    assert escalate.json()["error"]["type"] == "invalid_request_error"
    assert client.get("/v1/auth/me", headers=account.auth).json()["role"] == "user"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@example.com", "password": "short"},
        {"email": "a@example.com", "password": "a@example.com"},
        {"email": "a@example.com", "password": PASSWORD, "role": "superuser"},
        {"email": "a@example.com"},
    ],
)
def test_register_refuses_bad_input(client: TestClient, aws: AwsEnv, body: dict[str, Any]) -> None:
    response = client.post(REGISTER, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert aws.scan("ic-users") == []


def test_malformed_json_is_a_400(gateway: ApiGateway, aws: AwsEnv) -> None:
    response = gateway.call("POST", LOGIN, '{"email": ', {"Content-Type": "application/json"})
    assert response.status == 400


def test_missing_and_malformed_credentials_are_401(client: TestClient, aws: AwsEnv) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer garbage"}):
        response = client.get("/v1/auth/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"


def test_disabled_account_cannot_sign_in_or_use_its_tokens(
    client: TestClient, make_account: Any, aws: AwsEnv
) -> None:
    account = make_account()
    aws.dynamodb.update_item(
        TableName="ic-users",
        Key={"user_id": {"S": account.user_id}},
        UpdateExpression="SET is_active = :f",
        ExpressionAttributeValues={":f": {"BOOL": False}},
    )
    assert client.get("/v1/auth/me", headers=account.auth).status_code == 401
    login = client.post(LOGIN, json={"email": account.email, "password": PASSWORD})
    assert login.status_code == 401


def test_no_secret_ever_reaches_a_log_line(
    gateway: ApiGateway,
    aws: AwsEnv,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No grace window: the immediate replay below is a reuse, not a concurrent refresh.
    reconfigure(monkeypatch, IC_REFRESH_REUSE_GRACE_SECONDS="0")
    caplog.set_level(logging.DEBUG, logger="inference_core")
    caplog.set_level(logging.DEBUG, logger="inference-core")  # the Powertools logger
    caplog.set_level(logging.INFO)
    _register(gateway, "hal@example.com")
    _register(gateway, "hal@example.com")  # the account_exists path
    verify_token = token_from_mail(aws.mail()[0])
    login = gateway.call("POST", LOGIN, {"email": "hal@example.com", "password": PASSWORD})
    tokens = login.json()
    gateway.call("POST", LOGIN, {"email": "hal@example.com", "password": "a wrong password!"})
    gateway.call("POST", "/v1/auth/verify-email", {"token": verify_token})
    gateway.call("POST", "/v1/auth/forgot-password", {"email": "hal@example.com"})
    reset_token = token_from_mail(aws.mail()[-1])
    new_password = "a brand new password"
    gateway.call(
        "POST", "/v1/auth/reset-password", {"token": reset_token, "new_password": new_password}
    )
    login = gateway.call(
        "POST", LOGIN, {"email": "hal@example.com", "password": new_password}
    ).json()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "ci"}, token=login["access_token"])
    refresh = gateway.call("POST", "/v1/auth/refresh", {"refresh_token": login["refresh_token"]})
    # Replaying a rotated refresh token logs a warning: with ids, never the token.
    gateway.call("POST", "/v1/auth/refresh", {"refresh_token": login["refresh_token"]})
    assert refresh.status == 200

    secrets = [
        PASSWORD,
        new_password,
        "a wrong password!",
        verify_token,
        reset_token,
        tokens["access_token"],
        tokens["refresh_token"],
        login["access_token"],
        login["refresh_token"],
        created.json()["key"],
        "hal@example.com",
    ]
    assert any("reuse" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        line = record.getMessage() + " " + repr(record.__dict__)
        for secret in secrets:
            assert secret not in line, f"a secret leaked into a log line from {record.name}"


def test_an_email_can_belong_to_one_account_only(auth_service: Any, aws: AwsEnv) -> None:
    from inference_core.errors import ConflictError

    auth_service.create_user("uma@example.com", PASSWORD)
    # Even past the index lookup (a racing registration), the transactional claim refuses it.
    with pytest.raises(ConflictError):
        auth_service.create_user("UMA@example.com", PASSWORD, superuser=True)
    users = aws.scan("ic-users")
    assert len(users) == 1 and users[0]["role"]["S"] == "user"
    claims = [i for i in aws.scan("ic-sessions") if i["pk"]["S"].startswith("email#")]
    assert len(claims) == 1 and "uma@example.com" not in str(claims)
