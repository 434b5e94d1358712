"""Users and API keys as a superuser manages them: page through them, filter them, change their
role, state and limit fields. (Sign-up, sign-in and a user's own keys stay in `db.users` and
`db.api_keys`.)

Listing everyone is a paginated Scan of the users or keys table: an admin screen, never a request
path. Filters use an index where one exists (`email-index`, `owner-index`, `team-index`); finding a
key by its public id is a filtered Scan (keys are keyed by the hash of their secret).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from inference_core.db.api_keys import ApiKeysRepository
from inference_core.db.availability import StoreGuard
from inference_core.db.models import ApiKeyModel, UserModel
from inference_core.db.teams import guardrail_actions, limit_actions
from inference_core.unset import UNSET, Unset

_USERS = StoreGuard("The user store is unavailable.")
_KEYS = StoreGuard("The key store is unavailable.")


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
    ) -> UserModel:
        now = int(self._now())
        actions = limit_actions(UserModel, limits)
        if role is not None:
            actions.append(UserModel.role.set(role))
        if active is not None:
            actions.append(UserModel.is_active.set(active))
            if not active:  # every access token issued so far stops working
                actions.append(UserModel.tokens_valid_after.set(now))
        actions.append(UserModel.updated_at.set(now))
        with _USERS:
            user.update(actions=actions, condition=UserModel.user_id.exists())
        return user

    def set_owner_role(self, owner_id: str, role: str) -> None:
        """Give every key of this owner the owner's new role (a key carries it for auth)."""
        with _KEYS:
            for key in ApiKeyModel.owner_index.query(owner_id):
                if key.owner_role != role:
                    key.update(
                        actions=[ApiKeyModel.owner_role.set(role)],
                        condition=ApiKeyModel.key_hash.exists(),
                    )

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
    ) -> ApiKeyModel:
        actions = limit_actions(ApiKeyModel, limits) + guardrail_actions(ApiKeyModel, guardrails)
        if name is not None:
            actions.append(ApiKeyModel.name.set(name))
        if expires_at is not None:
            actions.append(ApiKeyModel.expires_at.set(expires_at))
        if not actions:
            return key
        with _KEYS:
            key.update(actions=actions, condition=ApiKeyModel.key_hash.exists())
        return key

    def revoke_key(self, key: ApiKeyModel) -> None:
        """Revoke the key and take it off its owner's live-key count (already revoked: done)."""
        ApiKeysRepository().revoke(key)
