"""JWT access and refresh tokens (PyJWT, HS256 only).

- One allow-listed algorithm: `HS256`, keyed with `settings.jwt_signing_secret()` (≥256 bits). A
  token whose header names any other algorithm (`none`, `RS256`, ...) is refused before its
  signature is even looked at.
- Required claims: `exp`, `iat`, `iss`, `aud`, `sub`, `jti`, `typ`, plus our own `sid` (the
  refresh-token family the token belongs to). `typ` is `access` or `refresh`, and a refresh token is
  never accepted where an access token is expected (nor the other way round).
- Access tokens also carry `role`. `iat` has millisecond precision (RFC 7519 NumericDate may be
  fractional) so that "every token issued before now" (`UserModel.tokens_valid_after`) can revoke a
  session's tokens without also revoking the fresh pair issued in the same second.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from inference_core.errors import AuthenticationError

if TYPE_CHECKING:
    from inference_core.settings import Settings

ALGORITHM = "HS256"
ACCESS: Literal["access"] = "access"
REFRESH: Literal["refresh"] = "refresh"
TokenType = Literal["access", "refresh"]
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "jti", "typ")
# Lambdas' clocks can disagree by a little; this much skew on `iat`/`exp` is tolerated.
LEEWAY_SECONDS = 5


@dataclass(frozen=True)
class TokenClaims:
    sub: str  # user id
    jti: str
    typ: str
    sid: str  # refresh-token family id
    iat: float
    exp: int
    role: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: TokenClaims


def new_token_id() -> str:
    return uuid.uuid4().hex


def issue_token(
    settings: Settings,
    *,
    typ: TokenType,
    user_id: str,
    session_id: str,
    role: str | None = None,
    jti: str | None = None,
    now: float | None = None,
) -> IssuedToken:
    issued_at = round(time.time() if now is None else now, 3)
    ttl = (
        settings.auth.access_token_ttl_seconds
        if typ == ACCESS
        else settings.auth.refresh_token_ttl_seconds
    )
    claims = TokenClaims(
        sub=user_id,
        jti=jti or new_token_id(),
        typ=typ,
        sid=session_id,
        iat=issued_at,
        exp=int(issued_at) + ttl,
        role=role if typ == ACCESS else None,
    )
    payload: dict[str, object] = {
        "iss": settings.auth.jwt_issuer,
        "aud": settings.auth.jwt_audience,
        "sub": claims.sub,
        "jti": claims.jti,
        "typ": claims.typ,
        "sid": claims.sid,
        "iat": claims.iat,
        "exp": claims.exp,
    }
    if claims.role is not None:
        payload["role"] = claims.role
    import jwt  # PyJWT pulls in `cryptography` (tens of ms): loaded on first use or at snapshot

    token = jwt.encode(payload, settings.jwt_signing_secret(), algorithm=ALGORITHM)
    return IssuedToken(token=token, claims=claims)


def issue_access_token(
    settings: Settings, *, user_id: str, role: str, session_id: str, now: float | None = None
) -> IssuedToken:
    return issue_token(
        settings, typ=ACCESS, user_id=user_id, session_id=session_id, role=role, now=now
    )


def issue_refresh_token(
    settings: Settings, *, user_id: str, session_id: str, jti: str, now: float | None = None
) -> IssuedToken:
    return issue_token(
        settings, typ=REFRESH, user_id=user_id, session_id=session_id, jti=jti, now=now
    )


def decode_token(token: str, settings: Settings, *, expected_type: TokenType) -> TokenClaims:
    """Verify signature, algorithm, issuer, audience, expiry, required claims and `typ`.

    Any failure is an `AuthenticationError` whose message says nothing about which check failed
    beyond "expired" (which clients need in order to refresh).
    """
    import jwt

    try:
        payload = jwt.decode(
            token,
            settings.jwt_signing_secret(),
            algorithms=[ALGORITHM],
            audience=settings.auth.jwt_audience,
            issuer=settings.auth.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS), "verify_signature": True},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("The token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationError("The token is invalid.", code="invalid_token") from exc
    if payload.get("typ") != expected_type:
        raise AuthenticationError("The token is invalid.", code="invalid_token")
    sub, jti, sid = payload.get("sub"), payload.get("jti"), payload.get("sid")
    if not all(isinstance(v, str) and v for v in (sub, jti, sid)):
        raise AuthenticationError("The token is invalid.", code="invalid_token")
    role = payload.get("role")
    if expected_type == ACCESS and not isinstance(role, str):
        raise AuthenticationError("The token is invalid.", code="invalid_token")
    return TokenClaims(
        sub=str(sub),
        jti=str(jti),
        typ=expected_type,
        sid=str(sid),
        iat=float(payload["iat"]),
        exp=int(payload["exp"]),
        role=role if isinstance(role, str) else None,
    )
