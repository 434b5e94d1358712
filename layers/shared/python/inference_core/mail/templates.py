"""Email templates: one Jinja2 HTML and text pair per kind of email, each with a typed context.

HTML is autoescaped and text is not; `StrictUndefined` turns a missing variable into an error
instead of a blank. Every context is validated first (links must be http(s), names are trimmed), so
a template never sees a value a producer did not mean to send. The files live in
`inference_core/templates/mail/`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inference_core.mail.errors import InvalidMailMessageError

TemplateName = Literal[
    "verify_email",
    "password_reset",
    "welcome",
    "account_exists",
    "batch_completed",
    "batch_failed",
    "budget_alert",
]
TEMPLATE_NAMES: tuple[str, ...] = get_args(TemplateName)

PRODUCT_NAME = "Inference Core"
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"

MAX_NAME_CHARS = 80
MAX_LINK_CHARS = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _clean_text(value: str | None, limit: int) -> str | None:
    """Collapse control characters and runs of whitespace; trim to `limit` characters."""
    if value is None:
        return None
    cleaned = " ".join(_CONTROL.sub(" ", value).split())
    return cleaned[:limit] or None


class MailContext(BaseModel):
    """Variables every email may use. Unknown keys are ignored: producers may add fields first."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str | None = None

    @field_validator("name")
    @classmethod
    def _trim_name(cls, value: str | None) -> str | None:
        return _clean_text(value, MAX_NAME_CHARS)


def _check_link(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_LINK_CHARS or _CONTROL.search(value) or " " in value:
        raise ValueError("link must be a single URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("link must be an absolute http(s) URL")
    return value


class _OptionalLinkContext(MailContext):
    link: str | None = None

    @field_validator("link")
    @classmethod
    def _valid_link(cls, value: str | None) -> str | None:
        return _check_link(value)


class TokenLinkContext(MailContext):
    """verify_email, password_reset: the link carries a single-use token."""

    link: str
    expires_minutes: int | None = Field(default=None, ge=1)

    @field_validator("link")
    @classmethod
    def _valid_link(cls, value: str) -> str:
        return _check_link(value) or ""


class WelcomeContext(_OptionalLinkContext):
    pass


class AccountExistsContext(_OptionalLinkContext):
    """Sent instead of a second account, so registration never reveals who already has one."""


class RequestCounts(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    total: int = Field(default=0, ge=0)
    completed: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)


class BatchCompletedContext(_OptionalLinkContext):
    batch_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    request_counts: RequestCounts | None = None
    output_file_id: str | None = Field(default=None, max_length=128)
    error_file_id: str | None = Field(default=None, max_length=128)


class BatchFailedContext(BatchCompletedContext):
    reason: str | None = None

    @field_validator("reason")
    @classmethod
    def _trim_reason(cls, value: str | None) -> str | None:
        return _clean_text(value, 500)


class BudgetAlertContext(MailContext):
    level: Literal["key", "user", "team"]
    level_name: str = Field(min_length=1, max_length=200)
    percent: int = Field(ge=1, le=1000)
    budget_usd: float = Field(ge=0)
    spent_usd: float = Field(ge=0)
    period: str = Field(min_length=1, max_length=32)

    @field_validator("level_name")
    @classmethod
    def _trim_level_name(cls, value: str) -> str:
        return _clean_text(value, 200) or "-"


CONTEXTS: dict[str, type[MailContext]] = {
    "verify_email": TokenLinkContext,
    "password_reset": TokenLinkContext,
    "welcome": WelcomeContext,
    "account_exists": AccountExistsContext,
    "batch_completed": BatchCompletedContext,
    "batch_failed": BatchFailedContext,
    "budget_alert": BudgetAlertContext,
}

# Subjects are Jinja too (rendered without autoescape: a header is not HTML).
SUBJECTS: dict[str, str] = {
    "verify_email": "Verify your email address for {{ product_name }}",
    "password_reset": "Reset your {{ product_name }} password",
    "welcome": "Welcome to {{ product_name }}",
    "account_exists": "You already have an account on {{ product_name }}",
    "batch_completed": "Your batch {{ batch_id }} has finished",
    "batch_failed": "Your batch {{ batch_id }} failed",
    "budget_alert": "{{ percent }}% of the {{ level }} budget for {{ level_name }} is spent",
}


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """Where and what, never the offending value (it may be an address or a token)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in (prefix, *error["loc"]) if p != "")
        parts.append(f"{where or 'message'}: {error['type']}")
    return "; ".join(parts)


def validate_context(template: str, context: Mapping[str, Any]) -> MailContext:
    """The typed context for `template`, or `InvalidMailMessageError`."""
    model = CONTEXTS.get(template)
    if model is None:
        raise InvalidMailMessageError(f"unknown mail template {template!r}", param="template")
    try:
        return model.model_validate(dict(context))
    except ValidationError as exc:
        # Not chained: a ValidationError quotes its input (addresses, tokens) in every traceback.
        raise InvalidMailMessageError(
            f"invalid context for {template}: {describe_validation_error(exc, 'context')}",
            param="context",
        ) from None


def _duration(minutes: int) -> str:
    """1 → "1 minute", 90 → "90 minutes", 120 → "2 hours", 2880 → "2 days"."""
    if minutes < 120 or minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48 or hours % 24:
        return f"{hours} hours"
    return f"{hours // 24} days"


@lru_cache(maxsize=1)
def mail_environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["duration"] = _duration
    env.globals["product_name"] = PRODUCT_NAME
    return env


def render_mail(template: str, context: MailContext | Mapping[str, Any]) -> RenderedMail:
    """Subject, text and HTML for one email. A bad context raises `InvalidMailMessageError`."""
    if not isinstance(context, MailContext):
        context = validate_context(template, context)
    env = mail_environment()
    variables = context.model_dump()
    subject = env.from_string(SUBJECTS[template]).render(variables)
    # A header is one line: nothing a producer sends may start a second one.
    subject = " ".join(_CONTROL.sub(" ", subject).split())
    variables["subject"] = subject
    text = env.get_template(f"{template}.txt").render(variables)
    html = env.get_template(f"{template}.html").render(variables)
    return RenderedMail(subject=subject, text=_tidy_text(text), html=html)


def _tidy_text(text: str) -> str:
    """At most one blank line in a row, and exactly one newline at the end."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
