"""Reads behind the governance resolution (key → user → team), cached by the caller for seconds.

These run only when the in-process resolution cache misses (at most every
`resolution_cache_seconds` per credential and process), never on the warm hot path, whose one
DynamoDB call is the admission transaction (`db.admission`). Items come back raw (the shape the
admission conditions see). `ensure_state_maps` gives an item written before governance existed
the empty maps the admission's nested updates need (once per item).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from inference_core.db.availability import StoreGuard, is_condition_failure
from inference_core.db.models import ApiKeyModel, TeamModel, UserModel

_CREDENTIALS = StoreGuard("The credentials store is unavailable.")
_CREDENTIAL_WRITES = _CREDENTIALS.passing_condition_failures()

Item = dict[str, Any]

STATE_MAPS = ("request_window", "token_window", "spend", "leases")


class GovernanceReads:
    """GetItem on the key, user and team items (strongly consistent), and the one-off repairs."""

    @property
    def client(self) -> Any:
        return ApiKeyModel._get_connection().connection.client

    @property
    def keys_table(self) -> str:
        return str(ApiKeyModel.Meta.table_name)

    @property
    def users_table(self) -> str:
        return str(UserModel.Meta.table_name)

    @property
    def teams_table(self) -> str:
        return str(TeamModel.Meta.table_name)

    def _get(self, table: str, key: Item) -> Item | None:
        with _CREDENTIALS:
            response = self.client.get_item(TableName=table, Key=key, ConsistentRead=True)
        item = response.get("Item")
        return dict(item) if item else None

    def key(self, key_hash: str) -> Item | None:
        return self._get(self.keys_table, {"key_hash": {"S": key_hash}})

    def user(self, user_id: str) -> Item | None:
        return self._get(self.users_table, {"user_id": {"S": user_id}})

    def team(self, team_id: str) -> Item | None:
        return self._get(self.teams_table, {"team_id": {"S": team_id}})

    def key_hash_for(self, owner_id: str, key_id: str) -> str | None:
        """The hash (primary key) of the owner's key with this id (batch lines know the id)."""
        with _CREDENTIALS:
            for key in ApiKeyModel.owner_index.query(owner_id):
                if key.key_id == key_id:
                    return str(key.key_hash)
        return None

    def ensure_state_maps(self, table: str, key: Item, hash_attribute: str, item: Item) -> None:
        """Add whichever governance maps the item lacks (a lost race is harmless)."""
        missing = [name for name in STATE_MAPS if "M" not in (item.get(name) or {})]
        if not missing:
            return
        names = {"#pk": hash_attribute} | {f"#a{i}": name for i, name in enumerate(missing)}
        sets = ", ".join(f"#a{i} = if_not_exists(#a{i}, :empty)" for i in range(len(missing)))
        try:
            with _CREDENTIAL_WRITES:
                self.client.update_item(
                    TableName=table,
                    Key=key,
                    ConditionExpression="attribute_exists(#pk)",
                    UpdateExpression=f"SET {sets}",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={":empty": {"M": {}}},
                )
        except ClientError as exc:
            if is_condition_failure(exc):
                return  # the item is gone: nothing to repair
            raise
        for name in missing:
            item[name] = {"M": {}}

    def record_revoked_session(
        self, user_id: str, session_id: str, *, until: float, now: float
    ) -> None:
        """Put a signed-out session family on the user item (an admission condition refuses its
        access tokens from the next request on), dropping entries whose tokens have all expired."""
        item = self.user(user_id)
        if item is None:
            return
        revoked = (item.get("revoked_sessions") or {}).get("M")
        names = {"#pk": "user_id", "#rs": "revoked_sessions", "#sid": session_id}
        values: Item = {":until": {"N": str(int(until))}}
        if revoked is None:
            expression = "SET #rs = :map"
            values = {":map": {"M": {session_id: values[":until"]}}}
        else:
            expression = "SET #rs.#sid = :until"
            stale = [
                sid
                for sid, raw in revoked.items()
                if sid != session_id and float((raw or {}).get("N", 0)) <= now
            ]
            if stale:
                names |= {f"#o{i}": sid for i, sid in enumerate(stale[:50])}
                expression += " REMOVE " + ", ".join(f"#rs.#o{i}" for i in range(len(stale[:50])))
        if revoked is None:
            names = {"#pk": "user_id", "#rs": "revoked_sessions"}
        try:
            with _CREDENTIAL_WRITES:
                self.client.update_item(
                    TableName=self.users_table,
                    Key={"user_id": {"S": user_id}},
                    ConditionExpression="attribute_exists(#pk)",
                    UpdateExpression=expression,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
        except ClientError as exc:
            if is_condition_failure(exc):
                return  # the user is gone
            raise
