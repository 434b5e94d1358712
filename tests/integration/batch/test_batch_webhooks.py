"""Webhooks: signed completion events (verifiable with the official SDK), the SSRF guard, retries,
and the signed ingest endpoint (401 and nothing queued on a bad or stale signature)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from inference_core.settings import get_settings
from inference_core.webhooks.guard import WebhookTargetRefusedError, resolve_target
from inference_core.webhooks.signing import sign, verify

from .batch_support import MODEL, PUBLIC_DNS, fake_dns

INGEST_SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtY3JtLWludGVncmF0aW9uLTEyMzQ="


def inline_job(api: Any, **extra: Any) -> Any:
    return api.client.post(
        "/v1/batch/jobs",
        json={
            "items": [
                {"custom_id": "x", "model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
            ],
            **extra,
        },
    )


# ---- outbound ----


def test_the_completion_webhook_is_signed_and_verifies_with_the_openai_sdk(
    api, aws, drain, receiver
):
    from openai import OpenAI

    created = inline_job(api, webhook_url="https://hooks.example.com/batches?team=a")
    assert created.status_code == 200, created.text

    drain()  # runs the line, then the webhook message the finalizer queued

    [request] = receiver.requests
    # Sent to the address that was checked, with the name kept for Host (and TLS SNI).
    assert request.url.host == "93.184.216.34" and request.url.path == "/batches"
    assert request.url.query == b"team=a"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions.get("sni_hostname") == "hooks.example.com"
    secret = api.client.get("/v1/webhooks/secret").json()["secret"]
    assert secret.startswith("whsec_")
    client = OpenAI(api_key="unused", base_url="http://127.0.0.1:9")
    client.webhooks.verify_signature(request.content, dict(request.headers), secret=secret)
    event = json.loads(request.content)
    assert event["type"] == "batch.completed" and event["object"] == "event"
    assert event["data"]["id"] == created.json()["id"] and event["data"]["status"] == "completed"
    assert request.headers["webhook-id"] == event["id"]


def test_another_users_secret_does_not_verify(api, receiver, drain):
    from openai import InvalidWebhookSignatureError, OpenAI

    from .batch_support import BOB

    inline_job(api, webhook_url="https://hooks.example.com/x")
    drain()
    api.as_user(BOB)
    bobs = api.client.get("/v1/webhooks/secret").json()["secret"]
    client = OpenAI(api_key="unused", base_url="http://127.0.0.1:9")
    with pytest.raises(InvalidWebhookSignatureError):
        client.webhooks.verify_signature(
            receiver.requests[0].content, dict(receiver.requests[0].headers), secret=bobs
        )


def test_a_failing_receiver_is_retried_with_backoff_then_the_event_goes_to_the_dlq(
    api, aws, drain, receiver
):
    receiver.status = 500
    inline_job(api, webhook_url="https://hooks.example.com/x")

    drain()

    attempts = get_settings().webhooks.webhook_max_attempts
    receives = get_settings().batch.batch_max_receive_count
    assert len(receiver.requests) == attempts * receives
    # Every attempt of one event carries the same webhook-id (receivers de-duplicate on it).
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    [dead] = aws.dlq()
    assert json.loads(dead["Body"])["type"] == "batch.webhook"
    assert dead["MessageAttributes"]["error_code"]["StringValue"] == "webhook_delivery_failed"


def test_a_redelivered_webhook_message_is_sent_once(
    api, aws, drain, receiver, worker, sqs_event, lambda_context
):
    inline_job(api, webhook_url="https://hooks.example.com/x")
    # Run the line only; keep the webhook message to deliver it twice.
    drain()
    assert len(receiver.requests) == 1
    from inference_core.batch.messages import WebhookMessage

    message = json.loads(receiver.requests[0].content)
    again = WebhookMessage(
        version=1,
        type="batch.webhook",
        batch_id=message["data"]["id"],
        event_id=message["id"],
        event_type="batch.completed",
    ).model_dump()
    assert worker.handler(sqs_event([again]), lambda_context) == {"batchItemFailures": []}
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://internal.example.com/hook", "private"),
        ("https://metadata.example.com/latest", "metadata"),
        ("https://127.0.0.1/hook", "private, loopback"),
        ("https://[::1]/hook", "private, loopback"),
        ("https://[::ffff:10.1.2.3]/hook", "private"),
        ("https://169.254.10.10/hook", "link-local"),
        ("https://user:pw@hooks.example.com/hook", "credentials"),
        ("ftp://hooks.example.com/hook", "http(s)"),
        ("https://unknown.example.com/hook", "does not resolve"),
    ],
)
def test_the_ssrf_guard_refuses_non_public_targets(url, reason):
    with pytest.raises(WebhookTargetRefusedError) as refused:
        resolve_target(url, get_settings(), resolver=fake_dns(PUBLIC_DNS))
    assert reason in refused.value.message


def test_every_resolved_address_must_be_public():
    def mixed(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("10.0.0.1", port))]

    with pytest.raises(WebhookTargetRefusedError):
        resolve_target("https://hooks.example.com/", get_settings(), resolver=mixed)


def test_the_allow_list_opens_private_hosts_but_not_the_metadata_service(monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(
        settings.webhooks, "webhook_allow_hosts", "internal.example.com,10.9.0.0/16"
    )
    resolver = fake_dns(
        {**PUBLIC_DNS, "other.internal": "10.9.1.1", "meta.internal": "169.254.169.254"}
    )
    assert (
        str(resolve_target("https://internal.example.com/h", settings, resolver=resolver).address)
        == "10.0.0.7"
    )
    assert (
        str(resolve_target("https://other.internal/h", settings, resolver=resolver).address)
        == "10.9.1.1"
    )
    monkeypatch.setattr(settings.webhooks, "webhook_allow_hosts", "meta.internal")
    with pytest.raises(WebhookTargetRefusedError):
        resolve_target("https://meta.internal/h", settings, resolver=resolver)
    monkeypatch.setattr(settings.webhooks, "webhook_allow_hosts", "169.254.169.254/32")
    assert resolve_target("https://meta.internal/h", settings, resolver=resolver)


def test_plain_http_is_refused_outside_local_mode(monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings.aws, "local_mode", False)
    with pytest.raises(WebhookTargetRefusedError) as refused:
        resolve_target("http://hooks.example.com/", settings, resolver=fake_dns(PUBLIC_DNS))
    assert "https" in refused.value.message


def test_a_private_webhook_url_is_refused_when_the_job_is_created(api):
    response = inline_job(api, webhook_url="https://internal.example.com/hook")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_url_refused"
    assert api.client.get("/v1/batches").json()["data"] == []


def test_signatures_roundtrip_and_refuse_tampering_and_staleness():
    key = b"k" * 32
    body = b'{"a":1}'
    headers = sign(key, "evt_1", body, now=1_000_000)
    assert verify(key, headers, body, tolerance_seconds=300, now=1_000_100) == "evt_1"
    from inference_core.errors import AuthenticationError

    with pytest.raises(AuthenticationError):
        verify(key, headers, b'{"a":2}', tolerance_seconds=300, now=1_000_100)
    with pytest.raises(AuthenticationError) as stale:
        verify(key, headers, body, tolerance_seconds=300, now=1_000_301)
    assert stale.value.code == "stale_signature"
    with pytest.raises(AuthenticationError):
        verify(b"x" * 32, headers, body, tolerance_seconds=300, now=1_000_000)


def test_webhooks_need_a_signing_secret_outside_local_mode(monkeypatch):
    from inference_core.errors import InvalidRequestError
    from inference_core.webhooks.signing import user_webhook_secret

    settings = get_settings()
    monkeypatch.setattr(settings.aws, "local_mode", False)
    with pytest.raises(InvalidRequestError):
        user_webhook_secret(settings, "u1")
    from pydantic import SecretStr

    monkeypatch.setattr(settings.webhooks, "webhook_signing_secret", SecretStr("m" * 40))
    assert user_webhook_secret(settings, "u1") != user_webhook_secret(settings, "u2")


# ---- ingest ----


@pytest.fixture
def integration(aws: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from pydantic import SecretStr

    from inference_core.admin import auth_service

    user = auth_service().create_user("erin@example.com", "correct horse battery staple")
    config = {"crm": {"secret": INGEST_SECRET, "user_id": user.user_id}}
    monkeypatch.setattr(
        get_settings().webhooks, "webhook_ingest_secrets", SecretStr(json.dumps(config))
    )
    return {"user": user}


def signed(
    body: dict[str, Any],
    *,
    secret: str = INGEST_SECRET,
    webhook_id: str = "msg_1",
    now: float | None = None,
    integration: str = "crm",
) -> tuple[bytes, dict[str, str]]:
    from inference_core.webhooks.signing import secret_bytes

    raw = json.dumps(body).encode()
    headers = sign(secret_bytes(secret), webhook_id, raw, now=now)
    return raw, {**headers, "x-ic-integration": integration, "content-type": "application/json"}


SUBMISSION = {
    "requests": [
        {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
        }
    ]
}


def test_a_signed_ingest_request_is_queued_and_runs(api, aws, drain, integration):
    from inference_core.auth.principal import Principal

    raw, headers = signed(SUBMISSION)
    response = api.client.post("/webhooks/ingest", content=raw, headers=headers)
    assert response.status_code == 202, response.text
    batch_id = response.json()["id"]
    # A replay of the same delivery names the same job.
    assert (
        api.client.post("/webhooks/ingest", content=raw, headers=headers).json()["id"] == batch_id
    )

    drain()

    user = integration["user"]
    api.as_user(
        Principal(user_id=user.user_id, role="user", key_id=None, allowed_models=None, rpm_limit=60)
    )
    done = api.client.get(f"/v1/batches/{batch_id}").json()
    assert done["status"] == "completed"
    assert len(api.client.get("/v1/batches").json()["data"]) == 1


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "stale", "future", "body_changed", "unknown_integration", "no_signature"],
)
def test_a_bad_or_stale_ingest_signature_is_401_and_nothing_is_queued(
    api, aws, integration, tamper
):
    kwargs: dict[str, Any] = {}
    if tamper == "wrong_secret":
        kwargs["secret"] = "whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZy0xMjM0"
    if tamper == "stale":
        kwargs["now"] = time.time() - 400
    if tamper == "future":
        kwargs["now"] = time.time() + 400
    if tamper == "unknown_integration":
        kwargs["integration"] = "nope"
    raw, headers = signed(SUBMISSION, **kwargs)
    if tamper == "body_changed":
        raw = raw.replace(b"hi", b"ho")
    if tamper == "no_signature":
        headers.pop("webhook-signature")

    response = api.client.post("/webhooks/ingest", content=raw, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert aws.queue_depth() == 0


def test_a_valid_signature_with_an_invalid_submission_is_400_and_nothing_is_queued(
    api, aws, integration
):
    for body in (
        {
            "requests": [
                {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {}}
            ]
        },
        {**SUBMISSION, "account": {"user_id": "someone-else"}},
        {**SUBMISSION, "input_s3_key": "incoming/x.jsonl"},
    ):
        raw, headers = signed(body)
        response = api.client.post("/webhooks/ingest", content=raw, headers=headers)
        assert response.status_code == 400, response.text
    assert aws.queue_depth() == 0
