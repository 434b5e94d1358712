"""Refresh-token families and single-use email tokens (the `family#` and `otp#` items).

A family is one login: each refresh rotates its `current_jti`; presenting a refresh token whose jti
is no longer current means it was copied, so the whole family is revoked, except within a short
grace window right after a rotation: the token just replaced (`previous_jti`, rotated at
`rotated_at`) is then a concurrent refresh (two tabs, a retry after a timeout), answered with the
same new token instead (`Rotation.RACED`). After the window it is a reuse like any other. A one-time token is stored
only as the SHA-256 of its secret and consumed by one conditional update (`used` false → true), so
it works once even when two requests race; expiry is checked in that condition, the TTL only
sweeps.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from pynamodb.exceptions import PynamoDBException

from inference_core.db.availability import StoreGuard
from inference_core.db.models import SessionModel

_SESSIONS = StoreGuard("The session store is unavailable.")
# A failed condition is an answer here (reused token, consumed OTP...), not an outage.
_SESSIONS_IF = _SESSIONS.passing_condition_failures()

FAMILY_KIND = "refresh_family"
OTP_KIND = "otp"


def family_key(family_id: str) -> str:
    return f"family#{family_id}"


def otp_key(token_hash: str) -> str:
    return f"otp#{token_hash}"


class Rotation(enum.Enum):
    ROTATED = "rotated"
    RACED = "raced"  # the token just replaced, within the grace window: the winner's token stands
    REUSED = "reused"  # a superseded token was presented: the family is now revoked
    INVALID = "invalid"  # unknown, revoked or expired family


@dataclass(frozen=True)
class RotationOutcome:
    kind: Rotation
    # The family's current refresh token and the instant it was issued at (ROTATED and RACED),
    # so a raced caller can be handed the very token the winner got.
    current_jti: str | None = None
    issued_at: float | None = None


@dataclass(frozen=True)
class OneTimeToken:
    user_id: str
    created_at: float


class SessionsRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    # ---- refresh-token families ----

    def create_family(self, family_id: str, *, user_id: str, jti: str, ttl_seconds: int) -> None:
        now = self._now()
        family = SessionModel(
            family_key(family_id),
            kind=FAMILY_KIND,
            user_id=user_id,
            created_at=int(now),
            expires_at=int(now) + ttl_seconds,
            current_jti=jti,
            revoked=False,
        )
        with _SESSIONS:
            family.save(condition=SessionModel.pk.does_not_exist())

    def get_family(self, family_id: str) -> SessionModel | None:
        """The live family (not revoked, not expired), or None."""
        try:
            with _SESSIONS:
                family = SessionModel.get(family_key(family_id), consistent_read=True)
        except SessionModel.DoesNotExist:
            return None
        if family.kind != FAMILY_KIND or family.revoked or family.expires_at <= self._now():
            return None
        return family

    def rotate_family(
        self,
        family_id: str,
        *,
        user_id: str,
        presented_jti: str,
        new_jti: str,
        ttl_seconds: int,
        now: float | None = None,
        grace_seconds: float = 0,
    ) -> RotationOutcome:
        now = round(self._now() if now is None else now, 3)
        family = SessionModel(family_key(family_id))
        try:
            with _SESSIONS_IF:
                family.update(
                    actions=[
                        SessionModel.current_jti.set(new_jti),
                        SessionModel.previous_jti.set(presented_jti),
                        SessionModel.rotated_at.set(now),
                        SessionModel.expires_at.set(int(now) + ttl_seconds),
                    ],
                    condition=(
                        SessionModel.pk.exists()
                        & (SessionModel.kind == FAMILY_KIND)
                        & (SessionModel.user_id == user_id)
                        & (SessionModel.current_jti == presented_jti)
                        & (SessionModel.revoked == False)  # noqa: E712 (a PynamoDB condition)
                        & (SessionModel.expires_at > int(now))
                    ),
                )
            return RotationOutcome(Rotation.ROTATED, new_jti, now)
        except PynamoDBException:  # the condition failed (anything else left as a 503)
            pass
        live = self.get_family(family_id)
        if live is None or live.user_id != user_id:
            return RotationOutcome(Rotation.INVALID)
        if (
            live.previous_jti == presented_jti
            and live.rotated_at is not None
            and live.current_jti
            and now - float(live.rotated_at) <= grace_seconds
        ):
            return RotationOutcome(Rotation.RACED, live.current_jti, float(live.rotated_at))
        # The family is live but the token is not its current one: a replayed, stolen token.
        self.revoke_family(family_id)
        return RotationOutcome(Rotation.REUSED)

    def reissue_family(
        self, family_id: str, *, user_id: str, new_jti: str, ttl_seconds: int
    ) -> bool:
        """Make `new_jti` the family's current refresh token (the holder proved who they are some
        other way, e.g. by their password); False if the family is not live."""
        now = self._now()
        family = SessionModel(family_key(family_id))
        try:
            with _SESSIONS_IF:
                family.update(
                    actions=[
                        SessionModel.current_jti.set(new_jti),
                        SessionModel.expires_at.set(int(now) + ttl_seconds),
                        SessionModel.previous_jti.remove(),
                        SessionModel.rotated_at.remove(),
                    ],
                    condition=(
                        SessionModel.pk.exists()
                        & (SessionModel.kind == FAMILY_KIND)
                        & (SessionModel.user_id == user_id)
                        & (SessionModel.revoked == False)  # noqa: E712 (a PynamoDB condition)
                        & (SessionModel.expires_at > int(now))
                    ),
                )
        except PynamoDBException:  # the condition failed: the family is not live
            return False
        return True

    def revoke_family(self, family_id: str) -> None:
        family = SessionModel(family_key(family_id))
        try:
            with _SESSIONS_IF:
                family.update(
                    actions=[SessionModel.revoked.set(True)],
                    condition=SessionModel.pk.exists() & (SessionModel.kind == FAMILY_KIND),
                )
        except PynamoDBException:  # the condition failed: no such family, nothing to revoke
            pass

    def revoke_user_families(self, user_id: str, *, keep: str | None = None) -> int:
        """Revoke every live family of the user except `keep`; returns how many.

        The index is eventually consistent, so a family created an instant ago may be missed: the
        callers also move `tokens_valid_after`, which refuses every older token regardless.
        """
        keep_key = family_key(keep) if keep else None
        revoked = 0
        with _SESSIONS:
            for item in SessionModel.user_index.query(
                user_id, filter_condition=(SessionModel.kind == FAMILY_KIND)
            ):
                if item.pk == keep_key or item.revoked:
                    continue
                self.revoke_family(item.pk.removeprefix("family#"))
                revoked += 1
        return revoked

    # ---- one-time tokens (email verification, password reset) ----

    def create_one_time_token(
        self, token_hash: str, *, user_id: str, purpose: str, ttl_seconds: int
    ) -> None:
        now = self._now()
        item = SessionModel(
            otp_key(token_hash),
            kind=OTP_KIND,
            user_id=user_id,
            purpose=purpose,
            used=False,
            # Millisecond precision: compared with the user's `tokens_valid_after`.
            created_at=round(now, 3),
            expires_at=int(now) + ttl_seconds,
        )
        with _SESSIONS:
            item.save(condition=SessionModel.pk.does_not_exist())

    def get_one_time_token(self, token_hash: str, *, purpose: str) -> OneTimeToken | None:
        """The unused, unexpired token of this purpose (strongly consistent read), or None."""
        try:
            with _SESSIONS:
                item = SessionModel.get(otp_key(token_hash), consistent_read=True)
        except SessionModel.DoesNotExist:
            return None
        if (
            item.kind != OTP_KIND
            or item.purpose != purpose
            or item.used
            or item.expires_at <= int(self._now())
        ):
            return None
        return OneTimeToken(item.user_id, float(item.created_at))

    def consume_one_time_token(self, token_hash: str, *, purpose: str) -> OneTimeToken | None:
        """Mark the token used and return whose it is; None if unknown, used, expired or for
        another purpose. Exactly one of any number of concurrent callers gets it."""
        item = SessionModel(otp_key(token_hash))
        try:
            with _SESSIONS_IF:
                item.update(
                    actions=[SessionModel.used.set(True)],
                    condition=(
                        SessionModel.pk.exists()
                        & (SessionModel.kind == OTP_KIND)
                        & (SessionModel.purpose == purpose)
                        & (SessionModel.used == False)  # noqa: E712 (a PynamoDB condition)
                        & (SessionModel.expires_at > int(self._now()))
                    ),
                )
        except PynamoDBException:  # the condition failed: unknown, used, expired, other purpose
            return None
        return OneTimeToken(item.user_id, float(item.created_at))
