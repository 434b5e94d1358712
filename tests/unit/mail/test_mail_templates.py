"""Email templates: every kind renders as text and HTML, HTML is autoescaped, text is not, and a
context that is missing or unsafe is refused before anything renders."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from inference_core.mail.errors import InvalidMailMessageError
from inference_core.mail.templates import (
    TEMPLATE_NAMES,
    mail_environment,
    render_mail,
    validate_context,
)

MINIMAL_CONTEXTS = {
    "verify_email": {"link": "https://app.test/verify?token=abc"},
    "password_reset": {"link": "https://app.test/reset?token=abc"},
    "welcome": {},
    "account_exists": {},
    "batch_completed": {"batch_id": "batch_1"},
    "batch_failed": {"batch_id": "batch_1"},
    "budget_alert": {
        "level": "team",
        "level_name": "research",
        "percent": 80,
        "budget_usd": 10,
        "spent_usd": 8.2,
        "period": "m2026-12",
    },
}


def test_every_template_has_a_minimal_context_here():
    assert set(MINIMAL_CONTEXTS) == set(TEMPLATE_NAMES)


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
def test_every_template_renders_text_and_html_from_a_minimal_context(template):
    mail = render_mail(template, MINIMAL_CONTEXTS[template])

    assert mail.subject and "\n" not in mail.subject
    assert mail.text.startswith("Hi,\n\n")
    assert mail.text.endswith("replies are not read.\n")
    assert "None" not in mail.text and "None" not in mail.html
    assert mail.html.lstrip().startswith("<!DOCTYPE html>")
    assert f"<title>{mail.subject}</title>" in mail.html


def test_html_is_autoescaped_and_text_is_not():
    name = '<script>alert("x")</script> & Co'
    mail = render_mail("welcome", {"name": name})

    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in mail.html
    assert f"Hi {name}," in mail.text


def test_links_are_escaped_in_html_attributes_and_verbatim_in_text():
    link = 'https://app.test/verify?token=a"b&next=/home'
    mail = render_mail("verify_email", {"link": link, "name": "Ann", "expires_minutes": 60})

    assert 'href="https://app.test/verify?token=a&#34;b&amp;next=/home"' in mail.html
    assert 'token=a"b' not in mail.html
    assert f"\n{link}\n" in mail.text
    assert "expires in 60 minutes" in mail.text
    assert mail.subject == "Verify your email address for Inference Core"


def test_batch_emails_show_their_counts_and_files():
    mail = render_mail(
        "batch_completed",
        {
            "batch_id": "batch_42",
            "request_counts": {"total": 10, "completed": 9, "failed": 1},
            "output_file_id": "file-out",
            "error_file_id": "file-err",
            "link": "https://app.test/batches/batch_42",
        },
    )

    assert mail.subject == "Your batch batch_42 has finished"
    for expected in ("Requests:  10", "Completed: 9", "Failed:    1", "file-out", "file-err"):
        assert expected in mail.text
    assert "file-err" in mail.html and "https://app.test/batches/batch_42" in mail.html
    failed = render_mail("batch_failed", {"batch_id": "batch_42", "reason": "line\nbreak <b>"})
    assert failed.subject == "Your batch batch_42 failed"
    assert "Reason: line break <b>" in failed.text
    assert "Reason: line break &lt;b&gt;" in failed.html


@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("verify_email", {}),
        ("verify_email", {"link": "javascript:alert(1)"}),
        ("password_reset", {"link": "/relative/path"}),
        ("password_reset", {"link": "https://app.test/a b"}),
        ("welcome", {"link": "data:text/html,hi"}),
        ("batch_completed", {}),
        ("batch_completed", {"batch_id": "batch 1\nBcc: x"}),
        ("batch_failed", {"batch_id": "batch_9", "request_counts": {"total": -1}}),
        ("newsletter", {}),
    ],
)
def test_a_bad_context_is_refused_without_quoting_it(template, context):
    with pytest.raises(InvalidMailMessageError) as caught:
        render_mail(template, context)

    for value in context.values():
        if isinstance(value, str):
            assert value not in caught.value.message
    assert caught.value.__cause__ is None


def test_names_are_trimmed_to_one_short_line():
    context = validate_context("welcome", {"name": "  Ann\r\n\tBcc: x  " + "y" * 200})

    assert context.name is not None
    assert context.name.startswith("Ann Bcc: x ")
    assert len(context.name) == 80


def test_unknown_context_keys_are_ignored():
    mail = render_mail("welcome", {"name": "Ann", "future_field": 1})

    assert "Hi Ann," in mail.text


def test_a_template_using_an_undefined_variable_fails_instead_of_rendering_blank():
    env = mail_environment()

    with pytest.raises(UndefinedError):
        env.from_string("Hello {{ nobody }}").render()


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (1, "1 minute"),
        (30, "30 minutes"),
        (90, "90 minutes"),
        (120, "2 hours"),
        (1440, "24 hours"),
        (1500, "25 hours"),
        (150, "150 minutes"),
        (2880, "2 days"),
    ],
)
def test_durations_read_naturally(minutes, text):
    mail = render_mail("password_reset", {"link": "https://a.test/r", "expires_minutes": minutes})

    assert f"expires in {text} " in mail.text
