"""API keys: stored by the SHA-256 of their secret, listed by owner, counted on their owner, revoked.

The hot path does not read them here: the governance resolution and the admission transaction do
(`inference_core.governance`, `db.admission`).

The cap on a user's live keys is exact: the owner's user item counts them (`live_api_keys`), and
creating a key is ONE `TransactWriteItems` that puts the key and adds 1 to that count on the
condition that it is under the cap; revoking one is one transaction that marks it revoked (only
if it was live) and takes 1 off. So concurrent creations, in any number of Lambda instances,
cannot pass the cap together, and two revocations of one key count once. A user from before the
count existed has none: the first creation or revocation counts their live keys once (their ids
from the owner index, each key's `revoked` re-read from the table with a strongly consistent
read) and stores the figure only if no one stored one meanwhile. While the count is absent no
key can be created or revoked through this module, so that figure is exact too. An admin's
revocation adds its audit record's Put to that same transaction (`revoke(key, audit=...)`).
"""

from __future__ import annotations

from enum import Enum

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from inference_core.db.audit import commit
from inference_core.db.availability import THROTTLED_RETRY_AFTER, StoreGuard, error_code
from inference_core.db.models import ApiKeyModel, AuditRecordModel, UserModel
from inference_core.errors import AuthenticationError, ConflictError, ServiceUnavailableError

_KEY_STORE = StoreGuard("The key store is unavailable.")
_KEY_STORE_IF = _KEY_STORE.passing_condition_failures()
# A cancelled transaction is an answer (which condition failed), not an outage.
_KEY_STORE_TX = _KEY_STORE.passing(lambda exc: error_code(exc) == "TransactionCanceledException")
# Attempts of a counted write when the owner's count had to be (re)read between them.
_ATTEMPTS = 3


class _Refused(Enum):
    """Which condition of a counted transaction failed."""

    KEY = "key"  # the key item's (create: the hash exists; revoke: not live)
    OWNER = "owner"  # the user item's (no user, no count yet, at the cap / nothing to take off)


class ApiKeysRepository:
    def create(self, key: ApiKeyModel, *, max_live: int) -> bool:
        """Put the key and count it on its owner, in one transaction, if the owner holds fewer
        than `max_live` live keys; False (nothing written) when they hold that many."""
        for _ in range(_ATTEMPTS):
            refused = self._transact(key, create=True, max_live=max_live)
            if refused is None:
                return True
            if refused is _Refused.KEY:  # a second key with this secret's hash: never in practice
                raise ConflictError("This API key exists.", code="api_key_exists")
            live = self.live_count(key.owner_id)
            if live is None:
                raise AuthenticationError("The account no longer exists or is disabled.")
            if live >= max_live:
                return False
        # The count kept moving under us (keys created and revoked meanwhile): try again soon.
        raise ServiceUnavailableError(
            "The key store is busy; try again.", retry_after=THROTTLED_RETRY_AFTER
        )

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

    def revoke(self, key: ApiKeyModel, *, audit: AuditRecordModel | None = None) -> bool:
        """Mark the key revoked and take it off its owner's count, in one transaction (with the
        `audit` record's Put, when given); False (nothing written) when it was not live (revoked
        meanwhile, or gone)."""
        for _ in range(_ATTEMPTS - 1):
            refused = self._transact(key, create=False, audit=audit)
            if refused is None:
                return True
            if refused is _Refused.KEY:
                return False
            if not self.live_count(key.owner_id):
                break  # no owner, or a count of 0 (a key made outside this module): no count
        if audit is not None:
            revoked = commit(
                audit,
                lambda tx: tx.update(
                    key, actions=[ApiKeyModel.revoked.set(True)], condition=_is_live()
                ),
            )
            if revoked is not None:
                return False
            key.revoked = True
            return True
        try:
            with _KEY_STORE_IF:
                key.update(actions=[ApiKeyModel.revoked.set(True)], condition=_is_live())
        except PynamoDBException:  # the condition failed: not live
            return False
        return True

    def live_count(self, owner_id: str) -> int | None:
        """The owner's count of live keys (counted and stored first if they have none yet); None
        if there is no such user."""
        for _ in range(2):
            try:
                with _KEY_STORE:
                    user = UserModel.get(
                        owner_id,
                        consistent_read=True,
                        attributes_to_get=["user_id", "live_api_keys"],
                    )
            except UserModel.DoesNotExist:
                return None
            if user.live_api_keys is not None:
                return int(user.live_api_keys)
            counted = self._count_live_keys(owner_id)
            try:
                with _KEY_STORE_IF:
                    UserModel(owner_id).update(
                        actions=[UserModel.live_api_keys.set(counted)],
                        condition=UserModel.user_id.exists()
                        & UserModel.live_api_keys.does_not_exist(),
                    )
                return counted
            except PynamoDBException:  # stored by someone else meanwhile (or no user): re-read
                continue
        return None

    def _count_live_keys(self, owner_id: str) -> int:
        """Live keys of the owner: their hashes from the owner index (eventually consistent),
        then each key's state from the table itself (strongly consistent)."""
        with _KEY_STORE:
            hashes = [k.key_hash for k in ApiKeyModel.owner_index.query(owner_id)]
            live = 0
            for start in range(0, len(hashes), 100):
                for key in ApiKeyModel.batch_get(
                    hashes[start : start + 100],
                    consistent_read=True,
                    attributes_to_get=["key_hash", "revoked"],
                ):
                    live += 0 if key.revoked else 1
        return live

    def _transact(
        self,
        key: ApiKeyModel,
        *,
        create: bool,
        max_live: int = 0,
        audit: AuditRecordModel | None = None,
    ) -> _Refused | None:
        """Create (or revoke) the key and count it on (or off) its owner (and put `audit`): None
        when done, else which condition refused it. Throttling, a conflicting write, a failed
        condition on the audit record: 503 with Retry-After."""
        transaction = TransactWrite(connection=UserModel._get_connection().connection)
        if create:
            transaction.save(key, condition=ApiKeyModel.key_hash.does_not_exist())
            owner_condition = UserModel.live_api_keys < max_live
        else:
            transaction.update(key, actions=[ApiKeyModel.revoked.set(True)], condition=_is_live())
            owner_condition = UserModel.live_api_keys > 0
        transaction.update(
            UserModel(key.owner_id),
            actions=[UserModel.live_api_keys.add(1 if create else -1)],
            condition=UserModel.user_id.exists() & owner_condition,
        )
        if audit is not None:
            transaction.save(audit, condition=AuditRecordModel.sk.does_not_exist())
        try:
            with _KEY_STORE_TX, transaction:
                pass
        except TransactWriteError as exc:  # cancelled: find the condition that failed
            reasons = exc.cancellation_reasons
            if audit is not None:  # PynamoDB sends a transaction's puts before its updates
                reasons = reasons[1:]
            for reason, refused in zip(reasons, (_Refused.KEY, _Refused.OWNER), strict=False):
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    return refused
            raise ServiceUnavailableError(
                "The key store is unavailable.", retry_after=THROTTLED_RETRY_AFTER
            ) from exc
        if not create:
            key.revoked = True
        return None


def _is_live() -> Condition:
    """The key item exists and is not revoked (a key written before `revoked` existed counts)."""
    return ApiKeyModel.key_hash.exists() & (
        ApiKeyModel.revoked.does_not_exist() | (ApiKeyModel.revoked == False)  # noqa: E712
    )
