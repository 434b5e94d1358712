"""Principal scopes, and the email and password rules."""

from __future__ import annotations

import pytest

from inference_core.auth.principal import Principal, anonymous_principal
from inference_core.auth.validation import check_password_policy, normalize_email


def test_principal_scopes() -> None:
    everything = Principal("usr_1", "user", None, None, 60, "a@example.com")
    narrowed = Principal("usr_1", "user", "key_1", frozenset({"smollm2"}), 10, None)
    assert everything.tenant_id == "usr_1" and narrowed.tenant_id == "usr_1"
    assert everything.can_use("gpt-4o") and everything.can_use("smollm2")
    assert narrowed.can_use("smollm2") and not narrowed.can_use("gpt-4o")
    assert not everything.is_superuser
    assert Principal("u", "superuser", None, None, 1).is_superuser


def test_anonymous_principal() -> None:
    anon = anonymous_principal(60)
    assert anon.user_id == "anonymous" and anon.is_anonymous and anon.key_id is None
    assert anon.can_use("anything")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("  first.last+tag@sub.example.org ", "first.last+tag@sub.example.org"),
    ],
)
def test_valid_emails_are_normalized(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@b",
        "a@@example.com",
        "a b@example.com",
        ".a@example.com",
        "a..b@example.com",
        "a@-example.com",
        "a@example.c0m",
        "a@example..com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_emails_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_email(raw)


def test_password_policy() -> None:
    assert check_password_policy("twelve chars") == "twelve chars"
    for bad in ("short", " " * 20, "x" * 129):
        with pytest.raises(ValueError):
            check_password_policy(bad)
    with pytest.raises(ValueError):
        check_password_policy("ann@example.com", email="Ann@example.com")
