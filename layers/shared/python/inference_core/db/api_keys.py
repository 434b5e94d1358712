"""API keys: stored by the SHA-256 of their secret, listed by owner, revoked.

The hot path does not read them here: the governance resolution and the admission transaction do
(`inference_core.governance`, `db.admission`).
"""

from __future__ import annotations

from inference_core.db.availability import StoreGuard
from inference_core.db.models import ApiKeyModel

_KEY_STORE = StoreGuard("The key store is unavailable.")


class ApiKeysRepository:
    def create(self, key: ApiKeyModel) -> None:
        with _KEY_STORE:
            key.save(condition=ApiKeyModel.key_hash.does_not_exist())

    def get_by_hash(self, key_hash: str) -> ApiKeyModel | None:
        try:
            with _KEY_STORE:
                return ApiKeyModel.get(key_hash)
        except ApiKeyModel.DoesNotExist:
            return None

    def list_for_owner(self, owner_id: str, *, include_revoked: bool = False) -> list[ApiKeyModel]:
        """The owner's keys, newest first."""
        with _KEY_STORE:
            keys = list(ApiKeyModel.owner_index.query(owner_id, scan_index_forward=False))
        return [k for k in keys if include_revoked or not k.revoked]

    def find_for_owner(self, owner_id: str, key_id: str) -> ApiKeyModel | None:
        """The owner's live key with this id; another owner's key is simply not found."""
        return next((k for k in self.list_for_owner(owner_id) if k.key_id == key_id), None)

    def revoke(self, key: ApiKeyModel) -> None:
        with _KEY_STORE:
            key.update(
                actions=[ApiKeyModel.revoked.set(True)],
                condition=ApiKeyModel.key_hash.exists(),
            )
