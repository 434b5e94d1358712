"""Operator actions shared by the CLI and the local stack: create users and keys directly,
through the same `AuthService` the API uses (so the same policies and hashing apply)."""

from __future__ import annotations

from inference_core.auth.service import AuthService
from inference_core.db.models import UserModel
from inference_core.errors import NotFoundError


def auth_service() -> AuthService:
    from inference_core.auth import deps

    deps.reset_auth_dependencies()
    return deps.get_auth_service(
        deps.get_auth_settings(),
        deps.get_users_repo(),
        deps.get_api_keys_repo(),
        deps.get_sessions_repo(),
    )


def create_user(
    email: str, password: str, *, superuser: bool = False, name: str | None = None
) -> UserModel:
    return auth_service().create_user(email, password, superuser=superuser, name=name)


def create_api_key_for_email(
    email: str,
    *,
    name: str = "cli",
    allowed_models: list[str] | None = None,
    rpm_limit: int | None = None,
) -> str:
    """A new key for the user with this email; returns the secret (shown once, stored hashed)."""
    service = auth_service()
    user = service.find_user(email)
    if user is None:
        raise NotFoundError(f"No user with the email {email!r}.")
    principal = service.principal_for_user(user.user_id)
    created = service.create_api_key(
        principal, name=name, allowed_models=allowed_models, rpm_limit=rpm_limit
    )
    return created.secret
