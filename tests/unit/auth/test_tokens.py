"""JWTs: one algorithm, required claims, typed tokens; every forgery or misuse is a 401."""

from __future__ import annotations

import base64
import json
import time
import warnings

import jwt
import pytest

from inference_core.auth.tokens import (
    ACCESS,
    REFRESH,
    decode_token,
    issue_access_token,
    issue_refresh_token,
)
from inference_core.errors import AuthenticationError
from inference_core.settings import Settings, get_settings


@pytest.fixture
def settings() -> Settings:
    return get_settings()


def _payload(settings: Settings, **overrides: object) -> dict[str, object]:
    now = time.time()
    payload: dict[str, object] = {
        "iss": settings.auth.jwt_issuer,
        "aud": settings.auth.jwt_audience,
        "sub": "usr_1",
        "jti": "j1",
        "typ": "access",
        "sid": "fam1",
        "role": "user",
        "iat": now,
        "exp": int(now) + 600,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def _sign(settings: Settings, payload: dict[str, object], alg: str = "HS256") -> str:
    return jwt.encode(payload, settings.jwt_signing_secret(), algorithm=alg)


def test_access_token_round_trip(settings: Settings) -> None:
    issued = issue_access_token(settings, user_id="usr_1", role="superuser", session_id="fam1")
    claims = decode_token(issued.token, settings, expected_type=ACCESS)
    assert (claims.sub, claims.role, claims.sid, claims.typ) == (
        "usr_1",
        "superuser",
        "fam1",
        ACCESS,
    )
    assert claims.exp - claims.iat == pytest.approx(settings.auth.access_token_ttl_seconds, abs=1)
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "HS256"


def test_iat_keeps_millisecond_precision(settings: Settings) -> None:
    issued = issue_access_token(
        settings, user_id="u", role="user", session_id="s", now=1_700_000_000.1234
    )
    raw = jwt.decode(issued.token, options={"verify_signature": False})
    assert raw["iat"] == 1_700_000_000.123


def test_refresh_token_is_never_an_access_token(settings: Settings) -> None:
    refresh = issue_refresh_token(settings, user_id="usr_1", session_id="fam1", jti="r1")
    with pytest.raises(AuthenticationError):
        decode_token(refresh.token, settings, expected_type=ACCESS)
    assert decode_token(refresh.token, settings, expected_type=REFRESH).jti == "r1"


def test_access_token_is_not_a_refresh_token(settings: Settings) -> None:
    access = issue_access_token(settings, user_id="usr_1", role="user", session_id="fam1")
    with pytest.raises(AuthenticationError):
        decode_token(access.token, settings, expected_type=REFRESH)


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "jti", "typ", "sid", "role"])
def test_missing_claim_is_rejected(settings: Settings, claim: str) -> None:
    token = _sign(settings, _payload(settings, **{claim: None}))
    with pytest.raises(AuthenticationError):
        decode_token(token, settings, expected_type=ACCESS)


def test_none_algorithm_is_rejected(settings: Settings) -> None:
    def b64(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_payload(settings))}."
    with pytest.raises(AuthenticationError):
        decode_token(token, settings, expected_type=ACCESS)


def test_other_hmac_algorithm_is_rejected(settings: Settings) -> None:
    with warnings.catch_warnings():  # PyJWT warns that the key is short for HS512: that's fine
        warnings.simplefilter("ignore")
        token = _sign(settings, _payload(settings), alg="HS512")
    with pytest.raises(AuthenticationError):
        decode_token(token, settings, expected_type=ACCESS)


def test_wrong_secret_is_rejected(settings: Settings) -> None:
    token = jwt.encode(
        _payload(settings), "another-secret-of-at-least-32-bytes-long!", algorithm="HS256"
    )
    with pytest.raises(AuthenticationError):
        decode_token(token, settings, expected_type=ACCESS)


def test_expired_token_is_rejected_with_its_own_code(settings: Settings) -> None:
    past = time.time() - 3600
    issued = issue_access_token(settings, user_id="u", role="user", session_id="s", now=past)
    with pytest.raises(AuthenticationError) as excinfo:
        decode_token(issued.token, settings, expected_type=ACCESS)
    assert excinfo.value.code == "token_expired"


def test_token_from_the_future_is_rejected(settings: Settings) -> None:
    token = _sign(settings, _payload(settings, iat=time.time() + 3600, exp=int(time.time()) + 7200))
    with pytest.raises(AuthenticationError):
        decode_token(token, settings, expected_type=ACCESS)


@pytest.mark.parametrize(
    "override", [{"aud": "someone-else"}, {"iss": "someone-else"}, {"typ": "id"}, {"sub": ""}]
)
def test_wrong_audience_issuer_or_type_is_rejected(
    settings: Settings, override: dict[str, object]
) -> None:
    token = _sign(settings, _payload(settings, **override))
    with pytest.raises(AuthenticationError):
        decode_token(token, settings, expected_type=ACCESS)


def test_tampered_payload_is_rejected(settings: Settings) -> None:
    issued = issue_access_token(settings, user_id="usr_1", role="user", session_id="fam1")
    header, payload, signature = issued.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "superuser"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError):
        decode_token(f"{header}.{forged}.{signature}", settings, expected_type=ACCESS)


def test_garbage_is_rejected(settings: Settings) -> None:
    for token in ("", "abc", "a.b.c", "sk-ic-notajwt"):
        with pytest.raises(AuthenticationError):
            decode_token(token, settings, expected_type=ACCESS)
