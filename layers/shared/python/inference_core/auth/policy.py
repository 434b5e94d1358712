"""Turning a bearer credential into a `Principal`: with counting (data plane) or without (control
plane).

- `authorize_and_count(credential, ...)`: the inference hot path. An API key (`sk-ic-…`) or a JWT
  access token; ONE conditional DynamoDB UpdateItem authorizes the key (or the user) and counts the
  request in its per-minute window (see `db.rate_window`). 401 for a bad credential, 429 with
  `retry_after` over the limit. A JWT's signature and claims are checked in memory first.
- `authenticate(credential, ...)`: the control plane. One GetItem for an API key; for a JWT, a
  GetItem on the user (active, token newer than `tokens_valid_after`) and one on the session family
  (not signed out). Nothing is counted.

The data plane does not look at the session family, so an access token keeps working for inference
until it expires (`access_token_ttl_seconds`, 15 minutes by default) after a plain sign-out; a
password change or reset refuses it at once (through `tokens_valid_after`), as does the control
plane after a sign-out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from inference_core.auth.api_keys import hash_api_key, looks_like_api_key
from inference_core.auth.principal import Principal
from inference_core.auth.tokens import ACCESS, decode_token
from inference_core.db.api_keys import ApiKeysRepository
from inference_core.db.models import ApiKeyModel, UserModel
from inference_core.db.sessions import SessionsRepository
from inference_core.db.users import UsersRepository
from inference_core.errors import AuthenticationError
from inference_core.settings import Settings


def principal_from_key(key: ApiKeyModel) -> Principal:
    return Principal(
        user_id=key.owner_id,
        role=key.owner_role,
        key_id=key.key_id,
        allowed_models=None
        if key.allowed_models is None
        else frozenset(map(str, key.allowed_models)),
        rpm_limit=int(key.rpm_limit),
        email=None,
        key_scopes=frozenset(map(str, key.scopes or ())),
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


def authorize_and_count(
    credential: str,
    *,
    settings: Settings,
    users: UsersRepository,
    keys: ApiKeysRepository,
    now: Callable[[], float] = time.time,
) -> Principal:
    """Authenticate `credential` and count one request against its limit: one DynamoDB call."""
    if looks_like_api_key(credential):
        key = keys.authorize_and_count(hash_api_key(credential), now=now())
        return principal_from_key(key)
    claims = decode_token(credential, settings, expected_type=ACCESS)
    user = users.authorize_and_count(claims.sub, issued_at=claims.iat, now=now())
    return principal_from_user(user, settings, session_id=claims.sid)


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
