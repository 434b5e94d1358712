"""Users and API keys as a superuser manages them: page through them, filter them, change their
role, state and limit fields. (Sign-up, sign-in and a user's own keys stay in `db.users` and
`db.api_keys`.)

Listing everyone is a paginated Scan of the users or keys table: an admin screen, never a request
path. Filters use an index where one exists (`email-index`, `owner-index`, `team-index`); finding a
key by its public id is a filtered Scan (keys are keyed by the hash of their secret).

Every change is ONE transaction with its audit record (`db.audit.commit`; a revocation shares the
live-key count's transaction in `db.api_keys`): a failure leaves neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import PynamoDBException

from inference_core.db.api_keys import ApiKeysRepository
from inference_core.db.audit import MAX_TRANSACTION_ITEMS, TransactionWrites, commit
from inference_core.db.availability import StoreGuard
from inference_core.db.models import ApiKeyModel, AuditRecordModel, UserModel
from inference_core.db.teams import guardrail_actions, limit_actions
from inference_core.errors import ConflictError, NotFoundError
from inference_core.unset import UNSET, Unset

_USERS = StoreGuard("The user store is unavailable.")
_KEYS = StoreGuard("The key store is unavailable.")
_KEYS_IF = _KEYS.passing_condition_failures()


class DirectoryRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    # ---- users ----

    def user(self, user_id: str) -> UserModel | None:
        try:
            with _USERS:
                return UserModel.get(user_id, consistent_read=True)
        except UserModel.DoesNotExist:
            return None

    def users_page(
        self, *, limit: int, after: str | None, email: str | None
    ) -> tuple[list[UserModel], bool]:
        """Up to `limit` users after the user id `after`, and whether more follow."""
        with _USERS:
            if email is not None:
                found = list(UserModel.email_index.query(email.strip().lower()))
                found = [u for u in found if after is None or u.user_id > after]
                found.sort(key=lambda u: u.user_id)
            else:
                start = {"user_id": {"S": after}} if after else None
                found = list(UserModel.scan(limit=limit + 1, last_evaluated_key=start))
        return found[:limit], len(found) > limit

    def update_user(
        self,
        user: UserModel,
        *,
        role: str | None,
        active: bool | None,
        limits: dict[str, Any],
        audit: AuditRecordModel,
    ) -> None:
        """Change the user and, with a new role, their keys' role too (a key carries its owner's
        role for auth, so a demoted superuser's keys lose admin access at once): one transaction
        with the audit record. Only a role change over more keys than a transaction holds (a cap
        on live keys raised near 100) updates the keys that do not fit right after it."""
        now = int(self._now())
        actions = limit_actions(UserModel, limits)
        if role is not None:
            actions.append(UserModel.role.set(role))
        if active is not None:
            actions.append(UserModel.is_active.set(active))
            if not active:  # every access token issued so far stops working
                actions.append(UserModel.tokens_valid_after.set(now))
        actions.append(UserModel.updated_at.set(now))
        keys: list[ApiKeyModel] = []
        role_actions: list[Any] = []
        if role is not None and role != user.role:
            role_actions = [ApiKeyModel.owner_role.set(role)]
            with _KEYS:
                keys = [
                    k for k in ApiKeyModel.owner_index.query(user.user_id) if k.owner_role != role
                ]
            keys.sort(key=lambda k: bool(k.revoked))  # live keys first: they are what matter
        fits = MAX_TRANSACTION_ITEMS - 2

        def writes(tx: TransactionWrites) -> None:
            tx.update(user, actions=actions, condition=UserModel.user_id.exists())
            for key in keys[:fits]:
                tx.update(key, actions=role_actions, condition=ApiKeyModel.key_hash.exists())

        failed = commit(audit, writes)
        if failed == 0:
            raise NotFoundError(f"No user with id '{user.user_id}'.", code="user_not_found")
        if failed is not None:  # a key went away meanwhile: nothing was written
            raise ConflictError(
                "The user's keys changed meanwhile; try again.", code="keys_changed"
            )
        for key in keys[fits:]:  # only over ~98 keys (revoked ones last): after the commit
            try:
                with _KEYS_IF:
                    key.update(actions=role_actions, condition=ApiKeyModel.key_hash.exists())
            except PynamoDBException:  # the key went away meanwhile: nothing to carry the role
                continue

    # ---- keys ----

    def key(self, key_id: str) -> ApiKeyModel | None:
        with _KEYS:
            return next(iter(ApiKeyModel.scan(ApiKeyModel.key_id == key_id)), None)

    def keys_page(
        self, *, limit: int, after: str | None, owner_ids: list[str] | None
    ) -> tuple[list[ApiKeyModel], bool]:
        """Up to `limit` keys (of these owners, when given) after the key id `after`."""
        with _KEYS:
            if owner_ids is not None:
                found = [k for owner in owner_ids for k in ApiKeyModel.owner_index.query(owner)]
            else:
                found = list(ApiKeyModel.scan())
        # Ordered by key id (not the hash the table is keyed by), so `after` is the public id.
        found.sort(key=lambda k: k.key_id)
        found = [k for k in found if after is None or k.key_id > after]
        return found[:limit], len(found) > limit

    def update_key(
        self,
        key: ApiKeyModel,
        *,
        name: str | None,
        expires_at: float | None,
        limits: dict[str, Any],
        guardrails: dict[str, str] | Unset | None = UNSET,
        audit: AuditRecordModel,
    ) -> None:
        """Change the key, with its audit record, in one transaction (a body that changes
        nothing still leaves its record, on the condition that the key exists)."""
        actions = limit_actions(ApiKeyModel, limits) + guardrail_actions(ApiKeyModel, guardrails)
        if name is not None:
            actions.append(ApiKeyModel.name.set(name))
        if expires_at is not None:
            actions.append(ApiKeyModel.expires_at.set(expires_at))

        def writes(tx: TransactionWrites) -> None:
            if actions:
                tx.update(key, actions=actions, condition=ApiKeyModel.key_hash.exists())
            else:
                tx.condition_check(
                    ApiKeyModel, key.key_hash, condition=ApiKeyModel.key_hash.exists()
                )

        if commit(audit, writes) is not None:
            raise NotFoundError(f"No API key with id '{key.key_id}'.", code="api_key_not_found")

    def revoke_key(self, key: ApiKeyModel, *, audit: AuditRecordModel) -> bool:
        """Revoke the key and take it off its owner's live-key count, in the transaction that
        writes the audit record; False (nothing written) when it was not live."""
        return ApiKeysRepository().revoke(key, audit=audit)
