"""Failed sign-ins are throttled per account and per source IP (API Gateway's, never
X-Forwarded-For), the same for known and unknown emails, counted in DynamoDB with a TTL; the
mail-sending routes send at most N emails per account per hour and still answer 202."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import (
    PASSWORD,
    ApiGateway,
    AwsEnv,
    api_gateway_event,
    lambda_context,
    reconfigure,
)

LOGIN = "/v1/auth/login"
WRONG = "not the password at all"


@pytest.fixture(autouse=True)
def mid_window_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counters are fixed windows aligned to the clock (an hour for mail): pin their clock to
    the middle of the current hour so a test that runs across a window's end cannot see its counts
    reset half-way."""
    import time

    from inference_core.db.counters import CountersRepository, Window

    pinned = (time.time() // 3600) * 3600 + 1800

    def window(self: CountersRepository, seconds: int) -> Window:
        return Window(seconds, int(pinned // seconds), pinned)

    monkeypatch.setattr(CountersRepository, "window", window)


def _login_from(api_handler: Any, email: str, password: str, ip: str, **headers: str) -> Any:
    event = api_gateway_event("POST", LOGIN, {"email": email, "password": password}, headers)
    event["requestContext"]["identity"]["sourceIp"] = ip
    return api_handler(event, lambda_context())


def test_failed_logins_per_account_end_in_a_429_even_with_the_right_password(
    gateway: ApiGateway, make_account: Any, monkeypatch: pytest.MonkeyPatch, aws: AwsEnv
) -> None:
    reconfigure(monkeypatch, IC_LOGIN_FAILURES_PER_ACCOUNT="3", IC_LOGIN_FAILURES_PER_IP="100")
    account = make_account()
    for _ in range(3):
        assert (
            gateway.call("POST", LOGIN, {"email": account.email, "password": WRONG}).status == 401
        )
    blocked = gateway.call("POST", LOGIN, {"email": account.email, "password": PASSWORD})
    assert blocked.status == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["error"]["code"] == "too_many_login_attempts"
    # Another account from the same address is not affected.
    other = make_account()
    ok = gateway.call("POST", LOGIN, {"email": other.email, "password": PASSWORD})
    assert ok.status == 200
    # The counters are DynamoDB items with a TTL attribute.
    items = [i for i in aws.scan("ic-sessions") if i["pk"]["S"].startswith("counter#login")]
    assert items and all("expires_at" in i and "user_id" not in i for i in items)


def test_known_and_unknown_emails_are_throttled_alike(
    gateway: ApiGateway, make_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_LOGIN_FAILURES_PER_ACCOUNT="2", IC_LOGIN_FAILURES_PER_IP="100")
    known = make_account().email
    unknown = "nobody-here@example.com"
    answers = {}
    for email in (known, unknown):
        statuses = [
            gateway.call("POST", LOGIN, {"email": email, "password": WRONG}) for _ in range(3)
        ]
        answers[email] = [(r.status, r.json()["error"]["code"]) for r in statuses]
        answers[email + "/body"] = statuses[-1].json()
    assert (
        answers[known]
        == answers[unknown]
        == [
            (401, "invalid_credentials"),
            (401, "invalid_credentials"),
            (429, "too_many_login_attempts"),
        ]
    )
    assert answers[known + "/body"] == answers[unknown + "/body"]


def test_failed_logins_per_source_ip_and_x_forwarded_for_does_not_help(
    api_handler: Any, make_account: Any, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_LOGIN_FAILURES_PER_ACCOUNT="100", IC_LOGIN_FAILURES_PER_IP="3")
    victim = make_account()
    attacker = "198.51.100.23"
    for i in range(3):
        response = _login_from(api_handler, f"guess{i}@example.com", WRONG, attacker)
        assert response["statusCode"] == 401
    spoofed = _login_from(
        api_handler, victim.email, PASSWORD, attacker, **{"X-Forwarded-For": "192.0.2.99"}
    )
    assert spoofed["statusCode"] == 429
    assert int(spoofed["headers"]["retry-after"]) > 0
    # The victim, from their own address, signs in.
    assert _login_from(api_handler, victim.email, PASSWORD, "192.0.2.10")["statusCode"] == 200


def test_the_web_adapters_request_context_header_is_the_source_inside_lambda(
    client: TestClient, make_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    reconfigure(
        monkeypatch,
        IC_LOGIN_FAILURES_PER_ACCOUNT="100",
        IC_LOGIN_FAILURES_PER_IP="2",
        AWS_LAMBDA_FUNCTION_NAME="ic-data-plane",
    )
    context = {"requestContext": {"identity": {"sourceIp": "198.51.100.77"}}}
    header = {"x-amzn-request-context": json.dumps(context["requestContext"])}
    for i in range(2):
        body = {"email": f"g{i}@example.com", "password": WRONG}
        assert client.post(LOGIN, json=body, headers=header).status_code == 401
    blocked = client.post(
        LOGIN, json={"email": "g9@example.com", "password": WRONG}, headers=header
    )
    assert blocked.status_code == 429


def test_outside_lambda_a_client_sent_request_context_header_is_ignored(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    reconfigure(monkeypatch, IC_LOGIN_FAILURES_PER_ACCOUNT="100", IC_LOGIN_FAILURES_PER_IP="2")
    forged = {"x-amzn-request-context": json.dumps({"identity": {"sourceIp": "203.0.113.1"}})}
    for i in range(3):
        body = {"email": f"h{i}@example.com", "password": WRONG}
        assert client.post(LOGIN, json=body, headers=forged).status_code == 401


def test_mail_routes_send_at_most_n_emails_per_account_per_hour(
    gateway: ApiGateway, make_account: Any, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_MAIL_PER_ACCOUNT_PER_HOUR="2")
    account = make_account()
    answers = [
        gateway.call("POST", "/v1/auth/forgot-password", {"email": account.email}) for _ in range(4)
    ]
    assert {(a.status, a.text) for a in answers} == {(answers[0].status, answers[0].text)}
    assert answers[0].status == 202
    assert len(aws.mail()) == 2
    # Register with the taken email: "account exists" mails count against the same account.
    register = {"email": account.email, "password": "some long passphrase"}
    replies = [gateway.call("POST", "/v1/auth/register", register) for _ in range(2)]
    assert all(r.status == 202 for r in replies)
    assert aws.mail() == []
    # verify-email/request: the same answer, no mail.
    from inference_core.db.models import UserModel

    UserModel(account.user_id).update(actions=[UserModel.email_verified.set(False)])
    request = gateway.call("POST", "/v1/auth/verify-email/request", token=account.access_token)
    assert request.status == 202
    assert request.json()["message"] == "We have emailed you a verification link."
    assert aws.mail() == []
    # Another account has its own allowance.
    other = make_account()
    assert gateway.call("POST", "/v1/auth/forgot-password", {"email": other.email}).status == 202
    assert len(aws.mail()) == 1
