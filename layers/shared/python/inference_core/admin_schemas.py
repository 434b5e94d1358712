"""Request bodies of `/v1/admin/*` (unknown fields are refused; a field set to null clears it).

PATCH bodies are partial: only the fields present change (`model_fields_set`), and `null` removes
a limit ("no limit at this level").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ModelName = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

LIMIT_FIELDS = (
    "rpm_limit",
    "tpm_limit",
    "max_parallel_requests",
    "max_budget_usd",
    "budget_period",
    "allowed_models",
)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LimitsFields(_Request):
    rpm_limit: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    tpm_limit: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = None
    max_parallel_requests: Annotated[int, Field(ge=1, le=10_000)] | None = None
    max_budget_usd: Annotated[float, Field(ge=0, le=1_000_000_000)] | None = None
    budget_period: Literal["day", "month", "total"] | None = None
    allowed_models: list[ModelName] | None = Field(default=None, max_length=100)

    def limit_changes(self) -> dict[str, Any]:
        """The limit fields the body names (None: remove that limit)."""
        return {name: getattr(self, name) for name in LIMIT_FIELDS if name in self.model_fields_set}


class GuardrailsField(_Request):
    """A guardrail policy, `{"<check>[.<rule>]": "off|detect|redact|block"}` (docs/guardrails.md);
    null or `{}` removes it (the settings' policies apply)."""

    guardrails: dict[str, str] | None = Field(default=None, max_length=100)

    @field_validator("guardrails")
    @classmethod
    def _known_checks(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            from inference_core.settings import check_guardrail_policy  # not at import: cold start

            check_guardrail_policy(value, "guardrails")
        return value


class UserUpdate(LimitsFields):
    role: Literal["user", "superuser"] | None = None
    active: bool | None = None


class TeamCreate(LimitsFields, GuardrailsField):
    name: Name


class TeamUpdate(LimitsFields, GuardrailsField):
    name: Name | None = None


class TeamMemberAdd(_Request):
    user_id: Annotated[str, Field(min_length=1, max_length=200)]


class KeyUpdate(LimitsFields, GuardrailsField):
    name: Name | None = None
    expires_at: Annotated[int, Field(ge=0)] | None = None


class CacheInvalidate(_Request):
    tenant_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    model: ModelName | None = None
