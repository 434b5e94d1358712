"""Password writes as ONE DynamoDB transaction, so a change or reset is all or nothing.

A password change sets the hash and moves `tokens_valid_after` (every older token is refused) and
re-keys the caller's session family in the same `TransactWriteItems`; a reset also consumes its
one-time token there. Either every write lands or none does: a failure never leaves the password
changed behind an error answer, and a token raced by a second reset is used once. The steps that
narrow access further (revoking API keys, sweeping other session families) are the caller's: it
runs them before this commit (fail safe: the keys die even if the commit then fails) or after it
as clean-up already covered by `tokens_valid_after`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from inference_core.db.availability import THROTTLED_RETRY_AFTER, StoreGuard, error_code
from inference_core.db.models import SessionModel, UserModel
from inference_core.db.sessions import FAMILY_KIND, OTP_KIND, family_key, otp_key
from inference_core.errors import ServiceUnavailableError

# A cancelled transaction is an answer (which condition failed), not an outage.
_USERS_IF = StoreGuard("The user store is unavailable.").passing(
    lambda exc: error_code(exc) == "TransactionCanceledException"
)


class PasswordCommit(enum.Enum):
    DONE = "done"
    USER_GONE = "user_gone"  # deleted or disabled meanwhile
    TOKEN_SPENT = "token_spent"  # the one-time token was used (or expired) meanwhile
    SESSION_GONE = "session_gone"  # the caller's session family was revoked meanwhile


@dataclass(frozen=True)
class SessionRekey:
    """Make `new_jti` the current refresh token of `family_id` (created when `create`)."""

    family_id: str
    user_id: str
    new_jti: str
    ttl_seconds: int
    create: bool


class CredentialsRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def commit_password(
        self,
        user: UserModel,
        password_hash: str,
        *,
        revoke_tokens_before: float,
        mark_email_verified: bool = False,
        consume_token_hash: str | None = None,
        token_purpose: str | None = None,
        session: SessionRekey | None = None,
    ) -> PasswordCommit:
        now = self._now()
        actions: list[Any] = [
            UserModel.password_hash.set(password_hash),
            UserModel.tokens_valid_after.set(revoke_tokens_before),
            UserModel.updated_at.set(now),
        ]
        if mark_email_verified:
            actions.append(UserModel.email_verified.set(True))
        # Items in this order; the cancellation reasons come back in the same order.
        outcomes = [PasswordCommit.USER_GONE]
        transaction = TransactWrite(connection=UserModel._get_connection().connection)
        transaction.update(
            UserModel(user.user_id),
            actions=actions,
            condition=UserModel.user_id.exists() & (UserModel.is_active == True),  # noqa: E712
        )
        if consume_token_hash is not None:
            outcomes.append(PasswordCommit.TOKEN_SPENT)
            transaction.update(
                SessionModel(otp_key(consume_token_hash)),
                actions=[SessionModel.used.set(True)],
                condition=(
                    SessionModel.pk.exists()
                    & (SessionModel.kind == OTP_KIND)
                    & (SessionModel.purpose == token_purpose)
                    & (SessionModel.used == False)  # noqa: E712 (a PynamoDB condition)
                    & (SessionModel.expires_at > int(now))
                ),
            )
        if session is not None:
            outcomes.append(PasswordCommit.SESSION_GONE)
            transaction.update(
                SessionModel(family_key(session.family_id)),
                actions=_rekey_actions(session, now),
                condition=_rekey_condition(session, now),
            )
        try:
            with _USERS_IF, transaction:
                pass
        except TransactWriteError as exc:  # cancelled: find the condition that failed
            for reason, outcome in zip(exc.cancellation_reasons, outcomes, strict=False):
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    return outcome
            # Cancelled for another reason (a conflicting write, throttling): retry soon.
            raise ServiceUnavailableError(
                "The user store is unavailable.", retry_after=THROTTLED_RETRY_AFTER
            ) from exc
        return PasswordCommit.DONE


def _rekey_actions(session: SessionRekey, now: float) -> list[Any]:
    actions: list[Any] = [
        SessionModel.current_jti.set(session.new_jti),
        SessionModel.expires_at.set(int(now) + session.ttl_seconds),
        # The token it replaces proved nothing here: no grace window for it.
        SessionModel.previous_jti.remove(),
        SessionModel.rotated_at.remove(),
    ]
    if session.create:
        actions += [
            SessionModel.kind.set(FAMILY_KIND),
            SessionModel.user_id.set(session.user_id),
            SessionModel.created_at.set(int(now)),
            SessionModel.revoked.set(False),
        ]
    return actions


def _rekey_condition(session: SessionRekey, now: float) -> Any:
    if session.create:
        return SessionModel.pk.does_not_exist()
    return (
        SessionModel.pk.exists()
        & (SessionModel.kind == FAMILY_KIND)
        & (SessionModel.user_id == session.user_id)
        & (SessionModel.revoked == False)  # noqa: E712 (a PynamoDB condition)
        & (SessionModel.expires_at > int(now))
    )
