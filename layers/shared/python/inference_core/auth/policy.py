"""Turning a bearer credential into a `Principal`: for inference (data plane) or the control plane.

- `inference_principal(credential, ...)`: the data plane. An API key's or a JWT user's levels come
  from the governance resolution (cached in-process ≤ 30 s; a JWT's signature and claims are
  checked in memory), so a warm request makes no DynamoDB call here: the admission transaction
  (`inference_core.governance`) authorizes, counts and reserves in one write, with revocation,
  expiry, deactivation and signed-out sessions as its conditions.

- `authenticate(credential, ...)`: the control plane. One GetItem for an API key; for a JWT, a
  GetItem on the user (active, token newer than `tokens_valid_after`) and one on the session family
  (not signed out). Nothing is counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inference_core.auth.api_keys import hash_api_key, looks_like_api_key
from inference_core.auth.principal import Principal
from inference_core.auth.tokens import ACCESS, decode_token
from inference_core.errors import AuthenticationError

if TYPE_CHECKING:  # types only: importing this module loads no PynamoDB model (cold start)
    from collections.abc import Callable

    from inference_core.db.api_keys import ApiKeysRepository
    from inference_core.db.models import ApiKeyModel, UserModel
    from inference_core.db.sessions import SessionsRepository
    from inference_core.db.users import UsersRepository
    from inference_core.governance import Governance, Resolution
    from inference_core.settings import Settings


def principal_from_key(key: ApiKeyModel) -> Principal:
    return Principal(
        user_id=key.owner_id,
        role=key.owner_role,
        key_id=key.key_id,
        allowed_models=None
        if key.allowed_models is None
        else frozenset(map(str, key.allowed_models)),
        rpm_limit=int(key.rpm_limit) if key.rpm_limit is not None else 0,
        email=None,
        key_scopes=frozenset(map(str, key.scopes or ())),
        key_hash=key.key_hash,
    )


def principal_from_user(
    user: UserModel, settings: Settings, *, session_id: str | None = None
) -> Principal:
    return Principal(
        user_id=user.user_id,
        role=user.role,
        key_id=None,
        allowed_models=None
        if user.allowed_models is None
        else frozenset(map(str, user.allowed_models)),
        rpm_limit=int(user.rpm_limit) if user.rpm_limit is not None else settings.auth.default_rpm,
        email=user.email,
        session_id=session_id,
    )


def inference_principal(
    credential: str, *, settings: Settings, governance: Governance
) -> Principal:
    """Authenticate `credential` for an inference route (see the module docstring)."""
    principal = _inference_principal(
        credential, settings, governance.resolve_key, governance.resolve_user
    )
    assert principal is not None  # the resolve_* functions never return None
    return principal


def cached_inference_principal(
    credential: str, *, settings: Settings, governance: Governance
) -> Principal | None:
    """`inference_principal` when the caller's resolution is cached, with no I/O (so the API runs
    it on the event loop, without a thread hop); None when it would need DynamoDB reads. A bad
    token is refused here all the same (its signature and claims are checked in memory)."""
    return _inference_principal(credential, settings, governance.cached_key, governance.cached_user)


def _inference_principal(
    credential: str,
    settings: Settings,
    by_key: Callable[[str], Resolution | None],
    by_user: Callable[[str], Resolution | None],
) -> Principal | None:
    if looks_like_api_key(credential):
        key_hash = hash_api_key(credential)
        resolution = by_key(key_hash)
        if resolution is None:
            return None
        return _principal_from_resolution(resolution, settings, key_hash=key_hash)
    claims = decode_token(credential, settings, expected_type=ACCESS)
    resolution = by_user(claims.sub)
    if resolution is None:
        return None
    return _principal_from_resolution(
        resolution, settings, session_id=claims.sid, issued_at=float(claims.iat)
    )


def _principal_from_resolution(
    resolution: Resolution,
    settings: Settings,
    *,
    key_hash: str | None = None,
    session_id: str | None = None,
    issued_at: float | None = None,
) -> Principal:
    top = resolution.levels[0]
    rpm = top.limits.rpm
    if rpm is None:
        user = resolution.level("user")
        rpm = user.limits.rpm if user and user.limits.rpm is not None else settings.auth.default_rpm
    return Principal(
        user_id=resolution.user_id,
        role=resolution.role,
        key_id=resolution.key_id,
        allowed_models=resolution.allowed_models,
        rpm_limit=int(rpm),
        email=resolution.email if key_hash is None else None,
        session_id=session_id,
        key_hash=key_hash,
        token_issued_at=issued_at,
        team_id=resolution.team_id,
        team_guardrails=resolution.team_guardrails,
        guardrails=resolution.key_guardrails,
    )


def authenticate(
    credential: str,
    *,
    settings: Settings,
    users: UsersRepository,
    keys: ApiKeysRepository,
    sessions: SessionsRepository,
) -> Principal:
    """Authenticate `credential` without counting it (control-plane endpoints)."""
    if looks_like_api_key(credential):
        key = keys.get_by_hash(hash_api_key(credential))
        if key is None or key.revoked:
            raise AuthenticationError("Incorrect API key provided.", code="invalid_api_key")
        return principal_from_key(key)
    claims = decode_token(credential, settings, expected_type=ACCESS)
    user = users.get(claims.sub)
    if user is None:
        raise AuthenticationError("The token is invalid.", code="invalid_token")
    if not user.is_active:
        raise AuthenticationError("This account is disabled.", code="account_disabled")
    family = sessions.get_family(claims.sid)
    if (
        (user.tokens_valid_after or 0) > claims.iat
        or family is None
        or family.user_id != user.user_id
    ):
        raise AuthenticationError("The session has been revoked.", code="token_revoked")
    return principal_from_user(user, settings, session_id=claims.sid)
