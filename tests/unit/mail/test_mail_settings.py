"""Mail settings: defaults, the SMTP fallback's requirements, and no placeholder SMTP password
outside local mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from inference_core.settings import MailSettings, Settings, get_settings


def test_defaults_send_through_ses_only():
    mail = get_settings().mail

    assert mail.smtp_fallback_enabled is False
    assert mail.smtp_security == "ssl" and mail.resolved_smtp_port == 465
    assert mail.fallback_reasons == {"refused", "throttled", "unavailable"}


def test_environment_variables_configure_mail(monkeypatch):
    monkeypatch.setenv("IC_MAIL_FROM", "no-reply@app.test")
    monkeypatch.setenv("IC_MAIL_CONFIGURATION_SET", "ic-mail")
    monkeypatch.setenv("IC_SMTP_HOST", "smtp.app.test")
    monkeypatch.setenv("IC_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("IC_SMTP_PASSWORD", "s3cret-smtp-password")

    mail = Settings().mail

    assert (mail.mail_from, mail.mail_configuration_set) == ("no-reply@app.test", "ic-mail")
    assert mail.resolved_smtp_port == 587
    assert mail.smtp_password is not None
    assert "s3cret" not in repr(mail)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IC_SMTP_FALLBACK_ENABLED": "1"}, "IC_SMTP_HOST is required"),
        ({"IC_SMTP_FALLBACK_ON": "refused,sometimes"}, "unknown reasons"),
        ({"IC_MAIL_FROM": "Inference Core <no-reply@app.test>"}, "bare email address"),
        ({"IC_MAIL_FROM": "no-reply"}, "bare email address"),
        ({"IC_SMTP_SECURITY": "none"}, "smtp_security"),
    ],
)
def test_bad_mail_settings_are_refused(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=message):
        MailSettings()


def test_a_placeholder_smtp_password_is_refused_outside_local_mode(monkeypatch):
    monkeypatch.setenv("IC_SMTP_PASSWORD", "changeme")
    assert Settings().mail.smtp_password is not None  # local mode: fine

    monkeypatch.setenv("IC_LOCAL_MODE", "0")
    with pytest.raises(ValidationError, match="IC_SMTP_PASSWORD"):
        Settings()
