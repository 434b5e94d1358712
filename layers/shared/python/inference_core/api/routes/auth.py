"""`/v1/auth/*`: accounts, sessions (JWT access + refresh tokens), email tokens and API keys.

Each route parses its body, calls one `AuthService` method and shapes the answer; errors are
`InferenceCoreError`s, which `api/errors.py` turns into OpenAI-shaped bodies. The routes are plain
`def`s: FastAPI runs them in its thread pool, so blocking DynamoDB calls never stall the event loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from inference_core.api.middleware import current_correlation_id
from inference_core.api.source_ip import source_ip
from inference_core.auth.deps import get_auth_service, get_principal
from inference_core.auth.principal import Principal
from inference_core.auth.schemas import (
    AcceptedResponse,
    ApiKeyCreated,
    ApiKeyCreateRequest,
    ApiKeyDeleted,
    ApiKeyList,
    ApiKeyResponse,
    ChangePasswordRequest,
    ForgotPasswordRequest,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenPairResponse,
    UpdateMeRequest,
    UserResponse,
    VerifyEmailRequest,
)

if TYPE_CHECKING:  # the service (argon2, PyJWT, the tables) loads on first use, not at import
    from inference_core.auth.service import AuthService, TokenPair

router = APIRouter(prefix="/v1/auth", tags=["auth"])

Service = Annotated["AuthService", Depends(get_auth_service)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]

REGISTER_ACCEPTED = (
    "Thanks. If this address can be registered, the account is ready; "
    "check your email for what to do next."
)
RESET_ACCEPTED = "If an account exists for this address, we have emailed a password reset link."


def _pair(pair: TokenPair) -> TokenPairResponse:
    return TokenPairResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type="bearer",
        expires_in=pair.expires_in,
    )


@router.post("/register", status_code=status.HTTP_202_ACCEPTED)
def register(body: RegisterRequest, service: Service) -> AcceptedResponse:
    """The same 202 whether or not the email already has an account (see `AuthService.register`)."""
    service.register(
        body.email, body.password, name=body.name, correlation_id=current_correlation_id()
    )
    return AcceptedResponse(message=REGISTER_ACCEPTED)


@router.post("/login")
def login(body: LoginRequest, request: Request, service: Service) -> TokenPairResponse:
    """Too many failures for the account or the source IP: 429 with Retry-After."""
    return _pair(service.login(body.email, body.password, source_ip=source_ip(request)))


@router.post("/refresh")
def refresh(body: RefreshRequest, service: Service) -> TokenPairResponse:
    return _pair(service.refresh(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentPrincipal, service: Service) -> Response:
    service.logout(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def get_me(principal: CurrentPrincipal, service: Service) -> UserResponse:
    return UserResponse.of(service.me(principal))


@router.put("/me")
def update_me(body: UpdateMeRequest, principal: CurrentPrincipal, service: Service) -> UserResponse:
    return UserResponse.of(service.update_me(principal, name=body.name))


@router.post("/change-password")
def change_password(
    body: ChangePasswordRequest, principal: CurrentPrincipal, service: Service
) -> TokenPairResponse:
    """Signs out every other session; the returned pair keeps this one signed in."""
    return _pair(
        service.change_password(
            principal,
            current_password=body.current_password,
            new_password=body.new_password,
            correlation_id=current_correlation_id(),
            revoke_api_keys=body.revoke_api_keys,
        )
    )


@router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED)
def forgot_password(body: ForgotPasswordRequest, service: Service) -> AcceptedResponse:
    service.forgot_password(body.email, correlation_id=current_correlation_id())
    return AcceptedResponse(message=RESET_ACCEPTED)


@router.post("/reset-password")
def reset_password(body: ResetPasswordRequest, service: Service) -> AcceptedResponse:
    service.reset_password(
        body.token,
        body.new_password,
        correlation_id=current_correlation_id(),
        revoke_api_keys=body.revoke_api_keys,
    )
    return AcceptedResponse(message="Your password has been reset; every session was signed out.")


@router.post("/verify-email/request", status_code=status.HTTP_202_ACCEPTED)
def request_email_verification(principal: CurrentPrincipal, service: Service) -> AcceptedResponse:
    sent = service.request_email_verification(principal, correlation_id=current_correlation_id())
    return AcceptedResponse(
        message="We have emailed you a verification link."
        if sent
        else "Your email is already verified."
    )


@router.post("/verify-email")
def verify_email(body: VerifyEmailRequest, service: Service) -> AcceptedResponse:
    service.verify_email(body.token)
    return AcceptedResponse(message="Your email address is verified.")


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(
    body: ApiKeyCreateRequest, principal: CurrentPrincipal, service: Service
) -> ApiKeyCreated:
    from inference_core.auth.service import KeyLimits

    created = service.create_api_key(
        principal,
        name=body.name,
        allowed_models=body.allowed_models,
        rpm_limit=body.rpm_limit,
        scopes=list(body.scopes or ()),
        limits=KeyLimits(
            tpm_limit=body.tpm_limit,
            max_parallel_requests=body.max_parallel_requests,
            max_budget_usd=body.max_budget_usd,
            budget_period=body.budget_period,
            expires_at=body.expires_at,
        ),
    )
    return ApiKeyCreated.model_validate(
        {**ApiKeyResponse.fields_of(created.key), "key": created.secret}
    )


@router.get("/api-keys")
def list_api_keys(principal: CurrentPrincipal, service: Service) -> ApiKeyList:
    return ApiKeyList(data=[ApiKeyResponse.of(k) for k in service.list_api_keys(principal)])


@router.delete("/api-keys/{key_id}")
def revoke_api_key(key_id: str, principal: CurrentPrincipal, service: Service) -> ApiKeyDeleted:
    key = service.revoke_api_key(principal, key_id)
    return ApiKeyDeleted(id=key.key_id)
