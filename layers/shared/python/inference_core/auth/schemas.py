"""Request and response bodies of `/v1/auth/*` (unknown fields are refused)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from inference_core.auth.validation import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    normalize_email,
)

if TYPE_CHECKING:
    from inference_core.db.models import ApiKeyModel, UserModel

Email = Annotated[str, Field(max_length=320), AfterValidator(normalize_email)]
# A new password must meet the policy; a presented one only has to be bounded.
NewPassword = Annotated[str, AfterValidator(check_password_policy)]
PresentedPassword = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
OneTimeToken = Annotated[str, Field(min_length=16, max_length=256)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(_Request):
    email: Email
    password: NewPassword
    name: Name | None = None

    @model_validator(mode="after")
    def _password_is_not_email(self) -> RegisterRequest:
        check_password_policy(self.password, email=self.email)
        return self


class LoginRequest(_Request):
    email: Email
    password: PresentedPassword


class RefreshRequest(_Request):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class UpdateMeRequest(_Request):
    name: Name | None


class ChangePasswordRequest(_Request):
    current_password: PresentedPassword
    new_password: NewPassword
    # Revoke every API key of the account too (the default: a password change is usually a
    # response to a compromise, and a key minted by the intruder must not survive it).
    revoke_api_keys: bool = True


class ForgotPasswordRequest(_Request):
    email: Email


class ResetPasswordRequest(_Request):
    token: OneTimeToken
    new_password: NewPassword
    revoke_api_keys: bool = True


class VerifyEmailRequest(_Request):
    token: OneTimeToken


class ApiKeyCreateRequest(_Request):
    name: Name | None = None
    # None: the creator's own models; a list narrows them (and may not widen them).
    allowed_models: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, max_length=100
    )
    rpm_limit: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    # Governance limits (docs/governance.md): each may only narrow the owner's.
    tpm_limit: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = None
    max_parallel_requests: Annotated[int, Field(ge=1, le=10_000)] | None = None
    max_budget_usd: Annotated[float, Field(ge=0, le=1_000_000_000)] | None = None
    budget_period: Literal["day", "month", "total"] | None = None
    expires_at: Annotated[int, Field(ge=0)] | None = None  # epoch seconds
    # ["manage"]: the key may mint and revoke keys and change the account. Without it a key runs
    # inference and reads its own usage only.
    scopes: list[Literal["manage"]] | None = Field(default=None, max_length=4)


class AcceptedResponse(BaseModel):
    message: str


class TokenPairResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserResponse(BaseModel):
    id: str
    email: str
    name: str | None
    role: str
    email_verified: bool
    created_at: int
    allowed_models: list[str] | None
    rpm_limit: int | None

    @classmethod
    def of(cls, user: UserModel) -> UserResponse:
        return cls(
            id=user.user_id,
            email=user.email,
            name=user.name,
            role=user.role,
            email_verified=bool(user.email_verified),
            created_at=int(user.created_at),
            allowed_models=None
            if user.allowed_models is None
            else [str(m) for m in user.allowed_models],
            rpm_limit=None if user.rpm_limit is None else int(user.rpm_limit),
        )


class ApiKeyResponse(BaseModel):
    id: str
    object: Literal["api_key"] = "api_key"
    name: str | None
    prefix: str
    created_at: int
    last_used_at: int | None
    allowed_models: list[str] | None
    rpm_limit: int | None
    tpm_limit: int | None = None
    max_parallel_requests: int | None = None
    max_budget_usd: float | None = None
    budget_period: str | None = None
    expires_at: int | None = None
    # This budget period's spend (settled + reserved in flight) and what remains of the budget.
    spend_usd: float = 0.0
    budget_remaining_usd: float | None = None
    scopes: list[str] = []

    @classmethod
    def fields_of(cls, key: ApiKeyModel) -> dict[str, Any]:
        from inference_core.governance import key_budget_status

        spent, remaining, period = key_budget_status(key)
        return {
            "id": key.key_id,
            "name": key.name,
            "prefix": key.prefix,
            "created_at": int(key.created_at),
            "last_used_at": None if key.last_used_at is None else int(key.last_used_at),
            "allowed_models": None
            if key.allowed_models is None
            else [str(m) for m in key.allowed_models],
            "rpm_limit": None if key.rpm_limit is None else int(key.rpm_limit),
            "tpm_limit": None if key.tpm_limit is None else int(key.tpm_limit),
            "max_parallel_requests": None
            if key.max_parallel_requests is None
            else int(key.max_parallel_requests),
            "max_budget_usd": None if key.max_budget_usd is None else float(key.max_budget_usd),
            "budget_period": period,
            "expires_at": None if key.expires_at is None else int(key.expires_at),
            "spend_usd": spent,
            "budget_remaining_usd": remaining,
            "scopes": sorted(str(s) for s in key.scopes or ()),
        }

    @classmethod
    def of(cls, key: ApiKeyModel) -> ApiKeyResponse:
        return cls.model_validate(cls.fields_of(key))


class ApiKeyCreated(ApiKeyResponse):
    key: str  # the secret: shown in this response only


class ApiKeyList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ApiKeyResponse]


class ApiKeyDeleted(BaseModel):
    id: str
    object: Literal["api_key"] = "api_key"
    deleted: bool = True
