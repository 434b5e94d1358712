"""What auth puts on the mail queue is what the mailer accepts; no queue means no crash."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from inference_core.observability import SERVICE
from tests.integration.conftest import PASSWORD, AwsEnv


def test_every_queued_message_parses_and_renders_in_the_mailer(
    client: TestClient, aws: AwsEnv
) -> None:
    from inference_core.mail.service import parse_mail_message
    from inference_core.mail.templates import render_mail

    client.post("/v1/auth/register", json={"email": "lee@example.com", "password": PASSWORD})
    client.post("/v1/auth/register", json={"email": "lee@example.com", "password": PASSWORD})
    client.post("/v1/auth/forgot-password", json={"email": "lee@example.com"})
    messages = aws.mail()
    assert [m["template"] for m in messages] == ["verify_email", "account_exists", "password_reset"]
    for raw in messages:
        message = parse_mail_message(raw)
        rendered = render_mail(message.template, message.context)
        assert raw["context"]["link"] in rendered.text
    assert len({m["idempotency_key"] for m in messages}) == 3


def test_without_a_mail_queue_requests_still_succeed(
    client: TestClient,
    aws: AwsEnv,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.integration.conftest import reconfigure

    monkeypatch.delenv("IC_MAIL_QUEUE_URL")
    reconfigure(monkeypatch)
    caplog.set_level(logging.WARNING, logger=SERVICE)
    response = client.post(
        "/v1/auth/register", json={"email": "max@example.com", "password": PASSWORD}
    )
    assert response.status_code == 202
    assert aws.mail() == []
    # The one Powertools logger (JSON in Lambda), with the template and never the address.
    warnings = [r for r in caplog.records if r.name == SERVICE and "mail queue" in r.getMessage()]
    assert [getattr(r, "template", None) for r in warnings] == ["verify_email"]
    assert all("max@example.com" not in f"{r.getMessage()} {r.__dict__!r}" for r in warnings)


def test_a_failing_mail_queue_does_not_reveal_whether_the_email_exists(
    client: TestClient, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.conftest import reconfigure

    client.post("/v1/auth/register", json={"email": "ned@example.com", "password": PASSWORD})
    reconfigure(monkeypatch, IC_MAIL_QUEUE_URL=aws.mail_queue_url + "-gone")
    existing = client.post("/v1/auth/forgot-password", json={"email": "ned@example.com"})
    missing = client.post("/v1/auth/forgot-password", json={"email": "nobody@example.com"})
    assert existing.status_code == missing.status_code == 202
    assert existing.json() == missing.json()
