"""Governance over moto (in-process): the inference routes with the scripted upstream, helpers to
set limits on keys, users and teams directly in their items, and to read the governance state."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.inference.conftest import REGISTRY, ScriptedUpstream, upstream

__all__ = ["REGISTRY", "ScriptedUpstream", "upstream"]


@pytest.fixture
def items(aws: Any) -> Any:
    """Read and change key, user and team items (what an admin API would do)."""
    from inference_core.auth.deps import get_auth_settings

    settings = get_auth_settings()
    tables = settings.tables

    class Items:
        dynamodb = aws.dynamodb

        def key(self, key_id: str) -> dict[str, Any]:
            for item in aws.scan(tables.api_keys_table):
                if item["key_id"]["S"] == key_id:
                    return item
            raise KeyError(key_id)

        def user(self, user_id: str) -> dict[str, Any]:
            return aws.dynamodb.get_item(
                TableName=tables.users_table, Key={"user_id": {"S": user_id}}
            )["Item"]

        def team(self, team_id: str) -> dict[str, Any]:
            return aws.dynamodb.get_item(
                TableName=tables.teams_table, Key={"team_id": {"S": team_id}}
            )["Item"]

        def set(self, table: str, key: dict[str, Any], **values: Any) -> None:
            names = {f"#a{i}": k for i, k in enumerate(values)}
            exprs = {f":v{i}": _attr(v) for i, v in enumerate(values.values())}
            aws.dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=exprs,
            )

        def set_key(self, key_id: str, **values: Any) -> None:
            item = self.key(key_id)
            self.set(tables.api_keys_table, {"key_hash": item["key_hash"]}, **values)

        def set_user(self, user_id: str, **values: Any) -> None:
            self.set(tables.users_table, {"user_id": {"S": user_id}}, **values)

        def create_team(self, team_id: str, **limits: Any) -> None:
            item = {
                "team_id": {"S": team_id},
                "name": {"S": team_id},
                "created_at": {"N": "1"},
                "deleted": {"BOOL": False},
                "request_window": {"M": {}},
                "token_window": {"M": {}},
                "spend": {"M": {}},
                "leases": {"M": {}},
            }
            item.update({k: _attr(v) for k, v in limits.items()})
            aws.dynamodb.put_item(TableName=tables.teams_table, Item=item)

    return Items()


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [{"S": str(v)} for v in value]}
    return {"S": str(value)}


@pytest.fixture
def forget_resolutions() -> Any:
    """Drop the in-process resolution cache (what 30 seconds would do)."""
    from inference_core.auth.deps import get_governance

    return lambda: get_governance().forget()


class Clock:
    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def freeze(aws: Any) -> Any:
    """Freeze the governance clock (windows, periods, lease expiry) at `start`."""
    from inference_core.auth.deps import get_governance

    def at(start: float) -> Clock:
        clock = Clock(start)
        get_governance().clock = clock
        return clock

    return at


def minute_start() -> float:
    import time

    return float(int(time.time()) // 60 * 60)


@pytest.fixture
def count_calls(aws: Any) -> Any:
    """`start()` hooks every model's botocore client (after the app bound them) and returns the
    list of DynamoDB operations made from then on."""

    def start() -> list[str]:
        from inference_core.db.models import ALL_MODELS
        from inference_core.wiring import get_inference_service

        get_inference_service()
        operations: list[str] = []
        seen: set[int] = set()
        for model in ALL_MODELS:
            client = model._get_connection().connection.client
            if id(client) not in seen:
                seen.add(id(client))
                client.meta.events.register(
                    "before-call.dynamodb", lambda model, **_: operations.append(model.name)
                )
        return operations

    return start
