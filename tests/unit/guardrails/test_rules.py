"""The validators that keep look-alike numbers from firing, and the scan's overlap rule."""

from __future__ import annotations

from inference_core.guardrails.engine import scan
from inference_core.guardrails.rules import ALL_RULES, PII_RULES, es_dni_ok, iban_ok, luhn_ok


def names(text: str) -> list[str]:
    return [rule.qualified for rule, _, _ in scan(text, ALL_RULES)]


def test_luhn_separates_real_card_numbers_from_other_digit_runs() -> None:
    assert luhn_ok("4111 1111 1111 1111")
    assert not luhn_ok("4111 1111 1111 1112")
    assert not luhn_ok("1234")
    assert "pii.credit_card" not in names("card 4111 1111 1111 1112")


def test_iban_checksum_and_dni_control_letter() -> None:
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB83 WEST 1234 5698 7654 32")
    assert es_dni_ok("12345678Z") and not es_dni_ok("12345678A")
    assert "pii.iban" not in names("GB83 WEST 1234 5698 7654 32")


def test_invalid_ip_addresses_and_times_do_not_fire() -> None:
    assert "pii.ip_address" not in names("at 999.300.1.1 and 12:30:45")
    assert "pii.ip_address" in names("host 10.0.0.1")


def test_an_aws_key_is_reported_once_as_a_secret() -> None:
    assert names("AKIAIOSFODNN7EXAMPLE") == ["secrets.aws_access_key"]


def test_every_rule_is_named_documented_and_has_a_bounded_span() -> None:
    for rule in ALL_RULES:
        assert rule.doc and rule.max_span > 0
    assert len({r.qualified for r in ALL_RULES}) == len(ALL_RULES)
    assert {r.placeholder for r in PII_RULES} >= {"[EMAIL]", "[CREDIT_CARD]", "[IBAN]"}
