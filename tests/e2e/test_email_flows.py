"""The email flows end to end: API → mail queue → local poller → the real mailer → moto's SES,
read back from the local mailbox (what `inference-core mail` shows)."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from inference_core.mail.local_mailbox import extract_links, list_sent_mail

PASSWORD = "a long enough passphrase 1"


def wait_for_mail(aws_url: str, to: str, subject_has: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in list_sent_mail(aws_url, to=to):
            if subject_has.lower() in mail["subject"].lower():
                return mail
        time.sleep(0.5)
    raise AssertionError(f"no '{subject_has}' email reached {to} within {timeout}s")


def token_in(mail: dict[str, Any]) -> str:
    for link in extract_links(mail):
        query = parse_qs(urlsplit(link).query)
        if "token" in query:
            return query["token"][0]
    raise AssertionError("no link with a token in the email")


def test_register_then_verify_email_from_the_mailbox(local_stack: dict[str, Any]) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=local_stack["api_url"], timeout=30) as client:
        assert (
            client.post(
                "/v1/auth/register", json={"email": email, "password": PASSWORD}
            ).status_code
            == 202
        )
        mail = wait_for_mail(local_stack["aws_url"], email, "verif")
        token = token_in(mail)
        assert token not in str(mail["subject"])
        assert client.post("/v1/auth/verify-email", json={"token": token}).status_code == 200
        # single use
        assert client.post("/v1/auth/verify-email", json={"token": token}).status_code == 400
        login = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        me = client.get(
            "/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert me.json()["email_verified"] is True


def test_forgot_password_then_reset_revokes_old_sessions(local_stack: dict[str, Any]) -> None:
    email = f"grace-{uuid.uuid4().hex[:8]}@example.com"
    new_password = "an entirely new passphrase 2"
    with httpx.Client(base_url=local_stack["api_url"], timeout=30) as client:
        client.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
        old = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
        assert client.post("/v1/auth/forgot-password", json={"email": email}).status_code == 202
        mail = wait_for_mail(local_stack["aws_url"], email, "reset")
        reset = client.post(
            "/v1/auth/reset-password", json={"token": token_in(mail), "new_password": new_password}
        )
        assert reset.status_code == 200, reset.text
        assert (
            client.post(
                "/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}
            ).status_code
            == 401
        )
        stale = client.get(
            "/v1/auth/me", headers={"Authorization": f"Bearer {old['access_token']}"}
        )
        assert stale.status_code == 401
        assert (
            client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code
            == 401
        )
        assert (
            client.post(
                "/v1/auth/login", json={"email": email, "password": new_password}
            ).status_code
            == 200
        )
