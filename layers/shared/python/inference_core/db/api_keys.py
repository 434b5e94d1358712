"""API keys: stored by the SHA-256 of their secret; listed by owner; the API-key hot path."""

from __future__ import annotations

import time
from collections.abc import Callable

from inference_core.db.availability import StoreGuard
from inference_core.db.models import ApiKeyModel, dynamodb_client
from inference_core.db.rate_window import Guard, Item, count_request
from inference_core.errors import AuthenticationError

_INVALID_KEY = "Incorrect API key provided."
_KEY_STORE = StoreGuard("The key store is unavailable.")


class ApiKeysRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

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

    def authorize_and_count(self, key_hash: str, *, now: float | None = None) -> ApiKeyModel:
        """One UpdateItem: the key exists, is not revoked, and this minute's count is under its
        limit. Returns the key as counted; 401 for an unknown or revoked key, 429 over the limit."""

        def check(old: Item) -> None:
            if not old or old.get("revoked", {}).get("BOOL", False):
                raise AuthenticationError(_INVALID_KEY, code="invalid_api_key")

        guard = Guard(
            key_attribute="key_hash",
            condition="#rv = :f",
            names={"#rv": "revoked"},
            values={":f": {"BOOL": False}},
            check=check,
        )
        item = count_request(
            dynamodb_client(ApiKeyModel),
            table=ApiKeyModel.Meta.table_name,
            key={"key_hash": {"S": key_hash}},
            guard=guard,
            now=self._now() if now is None else now,
        )
        return ApiKeyModel.from_raw_data(item)
