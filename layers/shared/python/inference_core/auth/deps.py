"""FastAPI dependencies for authentication: repositories from one cached factory, the principal of
a control-plane request (`get_principal`), of an inference request (`get_inference_principal`,
which also counts the request), and `require_superuser`.

Tests swap any of them with `app.dependency_overrides`; `reset_auth_dependencies()` forgets the
cached repositories (after the settings change).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from inference_core.auth.policy import (
    authenticate,
    cached_inference_principal,
    inference_principal,
)
from inference_core.auth.principal import Principal, anonymous_principal
from inference_core.errors import AuthenticationError, PermissionDeniedError

if TYPE_CHECKING:
    # Only named in annotations: FastAPI resolves a dependency by its `Depends`, so the quoted names
    # below never need these modules (PynamoDB models, pydantic-settings) when the routes are built.
    from inference_core.auth.service import AuthService
    from inference_core.db.api_keys import ApiKeysRepository
    from inference_core.db.sessions import SessionsRepository
    from inference_core.db.users import UsersRepository
    from inference_core.governance import Governance
    from inference_core.settings import Settings


@lru_cache(maxsize=1)
def get_auth_settings() -> Settings:
    """The settings, with every PynamoDB model bound to its table (once per process)."""
    from inference_core.db.models import configure_models
    from inference_core.settings import get_settings

    settings = get_settings()
    configure_models(settings)
    return settings


@lru_cache(maxsize=1)
def get_users_repo() -> UsersRepository:
    from inference_core.db.users import UsersRepository

    get_auth_settings()
    return UsersRepository()


@lru_cache(maxsize=1)
def get_api_keys_repo() -> ApiKeysRepository:
    from inference_core.db.api_keys import ApiKeysRepository

    get_auth_settings()
    return ApiKeysRepository()


@lru_cache(maxsize=1)
def get_sessions_repo() -> SessionsRepository:
    from inference_core.db.sessions import SessionsRepository

    get_auth_settings()
    return SessionsRepository()


def get_governance() -> Governance:
    """The process's governance (resolution cache + admission store), from `wiring`."""
    from inference_core import wiring

    get_auth_settings()
    return wiring.get_governance()


def get_clock() -> Callable[[], float]:
    """The clock the rate window reads (tests freeze it with a dependency override)."""
    return time.time


def reset_auth_dependencies() -> None:
    get_auth_settings.cache_clear()
    get_users_repo.cache_clear()
    get_api_keys_repo.cache_clear()
    get_sessions_repo.cache_clear()
    from inference_core import wiring

    wiring.get_governance.cache_clear()


SettingsDep = Annotated["Settings", Depends(get_auth_settings)]
UsersDep = Annotated["UsersRepository", Depends(get_users_repo)]
ApiKeysDep = Annotated["ApiKeysRepository", Depends(get_api_keys_repo)]
SessionsDep = Annotated["SessionsRepository", Depends(get_sessions_repo)]
GovernanceDep = Annotated["Governance", Depends(get_governance)]
ClockDep = Annotated[Callable[[], float], Depends(get_clock)]


def get_auth_service(
    settings: SettingsDep, users: UsersDep, keys: ApiKeysDep, sessions: SessionsDep
) -> "AuthService":  # noqa: UP037 (quoted twice: FastAPI evaluates this signature at import)
    from inference_core.auth.service import AuthService

    return AuthService(settings=settings, users=users, keys=keys, sessions=sessions)


def bearer_credential(request: Request) -> str | None:
    """`Authorization: Bearer <token>`, else `x-api-key: <key>` (as Anthropic clients send it)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationError(
                "Malformed Authorization header; use 'Authorization: Bearer <token>'.",
                code="invalid_api_key",
            )
        return value.strip()
    api_key = request.headers.get("x-api-key", "").strip()
    return api_key or None


def _missing() -> AuthenticationError:
    return AuthenticationError(
        "You didn't provide an API key. Send 'Authorization: Bearer <key or access token>'.",
        code="missing_api_key",
    )


def get_principal(
    request: Request,
    settings: SettingsDep,
    users: UsersDep,
    keys: ApiKeysDep,
    sessions: SessionsDep,
) -> Principal:
    """Control plane: an API key or a JWT access token, checked but not counted."""
    credential = bearer_credential(request)
    if credential is None:
        raise _missing()
    return authenticate(credential, settings=settings, users=users, keys=keys, sessions=sessions)


async def _inference_settings() -> Settings:
    return get_auth_settings()


async def _inference_governance() -> Governance:
    return get_governance()


# The inference routes' versions: async, so FastAPI resolves them on the event loop.
InferenceSettingsDep = Annotated["Settings", Depends(_inference_settings)]
InferenceGovernanceDep = Annotated["Governance", Depends(_inference_governance)]


async def get_inference_principal(
    request: Request,
    settings: InferenceSettingsDep,
    governance: InferenceGovernanceDep,
) -> Principal:
    """Data plane: who is asking, from the governance resolution (no DynamoDB call when it is
    cached; the service's admission write authorizes and counts), then the access mode
    (`public`: no token needed, and the anonymous caller is not governed; `user`: any valid
    credential; `superuser`: superusers only).

    Async, like the other dependencies of the inference routes: FastAPI runs a plain `def`
    dependency in its thread pool, a thread hop per dependency per request (about 0.1 ms each,
    more when other threads hold the GIL). A cached resolution is read on the event loop; only a
    miss (DynamoDB reads) goes to a thread."""
    mode = settings.auth.inference_access
    credential = bearer_credential(request)
    if credential is None:
        if mode == "public":
            return anonymous_principal(settings.auth.default_rpm)
        raise _missing()
    principal = cached_inference_principal(credential, settings=settings, governance=governance)
    if principal is None:
        principal = await asyncio.to_thread(
            inference_principal, credential, settings=settings, governance=governance
        )
    if mode == "superuser" and not principal.is_superuser:
        raise PermissionDeniedError(
            "Inference on this gateway is restricted to superusers.", code="superuser_required"
        )
    return principal


def require_superuser(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_superuser:
        raise PermissionDeniedError("This needs a superuser.", code="superuser_required")
    return principal
