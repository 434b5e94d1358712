"""The local mailbox against a real moto server over HTTP, as `make dev` runs it: the mailer sends
through the server's SES, and `list_sent_mail` / `print_mailbox` read the message back."""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from inference_core.db.tables import create_tables
from inference_core.mail.local_mailbox import (
    ensure_local_identity,
    extract_links,
    list_sent_mail,
    print_mailbox,
)
from inference_core.settings import get_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch, mailer_env: None) -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("IC_AWS_ENDPOINT_URL", endpoint)
    get_settings.cache_clear()
    try:
        yield endpoint
    finally:
        server.stop()


def test_sent_mail_can_be_read_back_from_the_local_mailbox(
    moto_endpoint, mailer_handler, sqs_event, lambda_context, mail_message
):
    settings = get_settings()
    create_tables(boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint))
    assert ensure_local_identity(settings) == settings.mail.mail_from
    assert ensure_local_identity(settings) == settings.mail.mail_from  # idempotent
    recipient = f"bob-{uuid.uuid4().hex[:8]}@example.com"
    message = mail_message(to=recipient, template="password_reset")
    mailer_handler.get_mail_runtime.cache_clear()
    try:
        response = mailer_handler.handler(sqs_event(records=[message]), lambda_context())
    finally:
        mailer_handler.get_mail_runtime.cache_clear()
    assert response == {"batchItemFailures": []}

    [mail] = list_sent_mail(moto_endpoint, to=recipient)

    assert mail["to"] == [recipient]
    assert mail["subject"] == "Reset your Inference Core password"
    assert extract_links(mail) == [message["context"]["link"]]
    assert message["context"]["link"] in mail["html"].replace("&amp;", "&")
    out = io.StringIO()
    assert print_mailbox(moto_endpoint, to=recipient, out=out) == 1
    printed = out.getvalue()
    assert "Subject: Reset your Inference Core password" in printed
    assert f"To:      {recipient}" in printed
    assert message["context"]["link"] in printed


def test_an_empty_mailbox_says_so(moto_endpoint):
    out = io.StringIO()

    count = print_mailbox(moto_endpoint, to="nobody@example.com", out=out)

    assert count == 0
    assert out.getvalue() == "The local mailbox is empty.\n"


def test_ensure_local_identity_refuses_a_real_account(monkeypatch):
    monkeypatch.setenv("IC_LOCAL_MODE", "0")
    get_settings.cache_clear()

    with pytest.raises(RuntimeError, match="local stack"):
        ensure_local_identity(get_settings())
