"""Users: profile reads and writes and the email uniqueness claim (the JWT hot path reads users
through the governance resolution, `inference_core.governance`)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from inference_core.db.availability import StoreGuard, error_code
from inference_core.db.models import SessionModel, UserModel, dynamodb_client
from inference_core.errors import ConflictError

_USER_STORE = StoreGuard("The user store is unavailable.")

EMAIL_CLAIM_KIND = "email_claim"
# An email claim lives as long as its account; the TTL attribute is set far away, never reached.
EMAIL_CLAIM_LIFETIME_SECONDS = 100 * 365 * 24 * 3600


def email_claim_key(email: str) -> str:
    return "email#" + hashlib.sha256(email.encode("utf-8")).hexdigest()


class UsersRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    # ---- reads ----

    def get(self, user_id: str) -> UserModel | None:
        try:
            with _USER_STORE:
                return UserModel.get(user_id, consistent_read=True)
        except UserModel.DoesNotExist:
            return None

    def find_by_email(self, email: str) -> UserModel | None:
        """The user with this (normalized) email, through the email index."""
        with _USER_STORE:
            for user in UserModel.email_index.query(email, limit=1):
                return user
        return None

    # ---- writes ----

    def create(self, user: UserModel) -> None:
        """Write the user and the claim on their email in one transaction.

        The email index cannot enforce uniqueness by itself (two registrations could race past a
        lookup), so a claim item keyed by the email's hash is written with the user, conditionally.
        Raises ConflictError if the email (or, astronomically unlikely, the id) is taken.
        """
        now = int(self._now())
        claim = SessionModel(
            email_claim_key(user.email),
            kind=EMAIL_CLAIM_KIND,
            user_id=user.user_id,
            created_at=now,
            expires_at=now + EMAIL_CLAIM_LIFETIME_SECONDS,
        )
        client = dynamodb_client(UserModel)
        try:
            with _USER_STORE.passing(_claim_taken):
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": UserModel.Meta.table_name,
                                "Item": user.serialize(),
                                "ConditionExpression": "attribute_not_exists(user_id)",
                            }
                        },
                        {
                            "Put": {
                                "TableName": SessionModel.Meta.table_name,
                                "Item": claim.serialize(),
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
        except ClientError as exc:  # only `_claim_taken` gets through the guard
            raise ConflictError("An account with this email already exists.") from exc

    def update_profile(self, user: UserModel, *, name: str | None) -> UserModel:
        name_action = UserModel.name.remove() if name is None else UserModel.name.set(name)
        self._update(user, [name_action, UserModel.updated_at.set(self._now())])
        return user

    def set_password(
        self,
        user: UserModel,
        password_hash: str,
        *,
        revoke_tokens_before: float | None = None,
        mark_email_verified: bool = False,
    ) -> None:
        """Store a new hash; with `revoke_tokens_before`, every token issued earlier is refused."""
        actions: list[Any] = [
            UserModel.password_hash.set(password_hash),
            UserModel.updated_at.set(self._now()),
        ]
        if revoke_tokens_before is not None:
            actions.append(UserModel.tokens_valid_after.set(revoke_tokens_before))
        if mark_email_verified:
            actions.append(UserModel.email_verified.set(True))
        self._update(user, actions)

    def deactivate(self, user: UserModel, *, revoke_tokens_before: float) -> None:
        self._update(
            user,
            [
                UserModel.is_active.set(False),
                UserModel.tokens_valid_after.set(revoke_tokens_before),
                UserModel.updated_at.set(self._now()),
            ],
        )

    def record_revoked_session(self, user_id: str, session_id: str, *, until: float) -> None:
        """Put a signed-out session family on the user item, where the admission write refuses
        its access tokens from the very next inference request (entries past `until` are
        dropped as new ones arrive)."""
        from inference_core.db.governance import GovernanceReads

        GovernanceReads().record_revoked_session(user_id, session_id, until=until, now=self._now())

    def mark_email_verified(self, user: UserModel) -> None:
        self._update(
            user, [UserModel.email_verified.set(True), UserModel.updated_at.set(self._now())]
        )

    def _update(self, user: UserModel, actions: list[Any]) -> None:
        with _USER_STORE:
            user.update(actions=actions, condition=UserModel.user_id.exists())


def _claim_taken(exc: BaseException) -> bool:
    """The registration transaction was refused by a condition: the email (or id) is taken."""
    if not isinstance(exc, ClientError) or error_code(exc) != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons") or []
    return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons
