"""The v1 mail-queue message: what is accepted, what is refused (without quoting it), and how
addresses are masked for logs."""

from __future__ import annotations

import json
import uuid

import pytest

from inference_core.mail.errors import InvalidMailMessageError
from inference_core.mail.service import mask_address, parse_mail_message


def _message(**overrides):
    message = {
        "version": 1,
        "template": "password_reset",
        "to": "dana@example.com",
        "context": {"link": "https://app.test/reset?token=secret-token"},
        "correlation_id": "req-1",
        "idempotency_key": str(uuid.uuid4()),
    }
    message.update(overrides)
    return message


def test_a_valid_message_parses_from_a_dict_or_json_text():
    message = _message()

    parsed = parse_mail_message(message)

    assert parsed.template == "password_reset"
    assert parsed.to == "dana@example.com"
    assert parse_mail_message(json.dumps(message)) == parsed
    assert parse_mail_message(json.dumps(message).encode()) == parsed


def test_correlation_id_is_optional_and_unknown_fields_are_ignored():
    message = _message(future_field=True)
    del message["correlation_id"]

    assert parse_mail_message(message).correlation_id is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (_message(version=2), "unsupported mail message version 2"),
        (_message(version="1"), "unsupported mail message version"),
        (_message(version=True), "unsupported mail message version"),
        ({k: v for k, v in _message().items() if k != "version"}, "version None"),
        (_message(template="newsletter"), "template"),
        ({k: v for k, v in _message().items() if k != "to"}, "to: missing"),
        ({k: v for k, v in _message().items() if k != "idempotency_key"}, "idempotency_key"),
        ({k: v for k, v in _message().items() if k != "context"}, "context: missing"),
        (_message(idempotency_key=""), "idempotency_key"),
        (_message(context={}), "context.link: missing"),
    ],
)
def test_invalid_messages_are_refused_permanently(raw, expected):
    with pytest.raises(InvalidMailMessageError) as caught:
        parse_mail_message(raw)

    assert expected in caught.value.message
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    "address",
    [
        "Dana <dana@example.com>",
        "dana@example.com, eve@example.com",
        "dana@example.com\r\nBcc: eve@example.com",
        "dana",
        "dana@localhost",
        "@example.com",
        "dana@@example.com",
    ],
)
def test_only_one_bare_address_is_accepted_and_never_quoted(address):
    with pytest.raises(InvalidMailMessageError) as caught:
        parse_mail_message(_message(to=address))

    assert "to:" in caught.value.message
    assert "dana" not in caught.value.message
    assert "secret-token" not in caught.value.message


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("alice@example.com", "a***@e***.com"),
        ("a@x.io", "a***@x***.io"),
        ("bob@mail.example.co.uk", "b***@m***.uk"),
        ("carol@localhost", "c***@l***"),
        ("nonsense", "***"),
    ],
)
def test_addresses_are_masked_for_logs(address, masked):
    assert mask_address(address) == masked
