"""The local AWS's item-level transaction rollback (`inference_core.local.moto_transactions`).

Every scenario runs twice over moto in-process, once with moto's own `transact_write_items`
(which copies every table it names) and once with ours; the answers (success, or the error code,
message and `CancellationReasons` with `ALL_OLD` items) and every table's items and stream records
afterwards must be the same, and each test also states the outcome itself: a cancelled
transaction leaves every item as it was (earlier writes in it undone), a successful one writes
all. Then the cost: no table is copied, whatever its size, and our moto server installs the patch.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table

from inference_core.local import moto_transactions
from tests.factories import serialized_moto_server

ACCOUNT, REGION = "123456789012", "us-east-1"
Outcome = dict[str, Any]


def _scenario_client() -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName="levels",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    client.create_table(
        TableName="ledger",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for pk, count in (("key", 0), ("user", 0), ("gone", 0)):
        client.put_item(
            TableName="levels",
            Item={"pk": {"S": pk}, "count": {"N": str(count)}, "window": {"M": {}}},
        )
    client.put_item(TableName="ledger", Item={"pk": {"S": "u"}, "sk": {"S": "old"}})
    return client


def _count_up(pk: str, *, below: int, minute: str = "7") -> dict[str, Any]:
    """An admission-like update: count in a map entry, on the condition that it is below `below`."""
    return {
        "Update": {
            "TableName": "levels",
            "Key": {"pk": {"S": pk}},
            "ConditionExpression": "attribute_exists(pk) AND #c < :limit",
            "UpdateExpression": "SET #c = #c + :one, #w.#m = if_not_exists(#w.#m, :z) + :one",
            "ExpressionAttributeNames": {"#c": "count", "#w": "window", "#m": minute},
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":z": {"N": "0"},
                ":limit": {"N": str(below)},
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _ledger_put(pk: str, sk: str) -> dict[str, Any]:
    return {"Put": {"TableName": "ledger", "Item": {"pk": {"S": pk}, "sk": {"S": sk}}}}


def _transact(client: Any, items: list[dict[str, Any]]) -> Outcome:
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        return {
            "code": exc.response["Error"]["Code"],
            "message": exc.response["Error"]["Message"],
            "reasons": exc.response.get("CancellationReasons"),
        }
    return {"code": None}


def _state(client: Any) -> dict[str, Any]:
    backend = dynamodb_backends[ACCOUNT][REGION]
    shard = backend.tables["levels"].stream_shard
    return {
        table: sorted(
            (item for item in client.scan(TableName=table)["Items"]),
            key=lambda item: (item["pk"]["S"], item.get("sk", {}).get("S", "")),
        )
        for table in ("levels", "ledger")
    } | {"stream_records": len(shard.items) if shard is not None else None}


def _run_both(
    monkeypatch: pytest.MonkeyPatch, scenario: Callable[[Any], list[Outcome]]
) -> tuple[list[Outcome], dict[str, Any]]:
    """(outcomes, final state) with our rollback, once checked equal to moto's own."""
    results = []
    for implementation in (moto_transactions.moto_own(), moto_transactions.transact_write_items):
        monkeypatch.setattr(DynamoDBBackend, "transact_write_items", implementation)
        with mock_aws():
            client = _scenario_client()
            outcomes = scenario(client)
            results.append((outcomes, _state(client)))
    assert results[1] == results[0], "the item-level rollback differs from moto's own"
    return results[1]


def _item(state: dict[str, Any], table: str, pk: str, sk: str | None = None) -> dict[str, Any]:
    return next(
        i for i in state[table] if i["pk"]["S"] == pk and (sk is None or i["sk"]["S"] == sk)
    )


def test_a_successful_transaction_writes_every_item(monkeypatch: pytest.MonkeyPatch) -> None:
    def scenario(client: Any) -> list[Outcome]:
        before = _state(client)
        outcome = _transact(
            client,
            [
                _count_up("key", below=5),
                _count_up("user", below=5),
                _ledger_put("u", "new"),
                {"Delete": {"TableName": "levels", "Key": {"pk": {"S": "gone"}}}},
            ],
        )
        return [outcome, {"before": before}]

    outcomes, state = _run_both(monkeypatch, scenario)
    assert outcomes[0] == {"code": None}
    assert _item(state, "levels", "key")["count"] == {"N": "1"}
    assert _item(state, "levels", "user")["window"] == {"M": {"7": {"N": "1"}}}
    assert [i["sk"]["S"] for i in state["ledger"]] == ["new", "old"]
    assert "gone" not in [i["pk"]["S"] for i in state["levels"]]
    assert state["stream_records"] == outcomes[1]["before"]["stream_records"] + 3


def test_a_cancelled_transaction_leaves_every_item_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def scenario(client: Any) -> list[Outcome]:
        _transact(client, [_count_up("user", below=5)])  # user: count 1
        before = _state(client)
        outcome = _transact(
            client,
            [
                _count_up("key", below=5),  # passes and is written first
                _ledger_put("new-hash", "a"),  # a new item in a new hash bucket
                {"Delete": {"TableName": "ledger", "Key": {"pk": {"S": "u"}, "sk": {"S": "old"}}}},
                _count_up("user", below=1),  # fails: count is 1
            ],
        )
        return [outcome, {"unchanged": _state(client) == before}]

    outcomes, state = _run_both(monkeypatch, scenario)
    cancelled = outcomes[0]
    assert cancelled["code"] == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled["reasons"]] == [
        "None",
        "None",
        "None",
        "ConditionalCheckFailed",
    ]
    assert cancelled["reasons"][3]["Item"]["count"] == {"N": "1"}  # ALL_OLD
    assert outcomes[1] == {"unchanged": True}
    assert _item(state, "levels", "key")["count"] == {"N": "0"}
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in state["ledger"]] == [("u", "old")]


def test_a_failure_that_is_not_a_condition_also_cancels_and_rolls_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def scenario(client: Any) -> list[Outcome]:
        before = _state(client)
        wrong_type = _count_up("user", below=5)
        wrong_type["Update"]["ExpressionAttributeValues"][":one"] = {"S": "not a number"}
        outcomes = []
        # Each after the first item was written: validation errors (a type mismatch, the same
        # item twice), which moto raises as such.
        for second in (wrong_type, _count_up("key", below=5)):
            outcomes.append(_transact(client, [_count_up("key", below=5), second]))
            outcomes.append({"unchanged": _state(client) == before})
        # Any other failure is a cancellation reason of its own (moto's API layer refuses an
        # unknown operation before the backend sees it, so this one is handed to the backend).
        backend = dynamodb_backends[ACCOUNT][REGION]
        try:
            DynamoDBBackend.transact_write_items(
                backend, [_count_up("key", below=5), {"Unknown": {"TableName": "levels"}}]
            )
        except TransactionCanceledException as exc:
            outcomes.append({"description": exc.description})
        outcomes.append({"unchanged": _state(client) == before})
        return outcomes

    outcomes, _ = _run_both(monkeypatch, scenario)
    assert outcomes[0]["code"] == outcomes[2]["code"] == "ValidationException"
    reasons = json.loads(outcomes[4]["description"])["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ValueError"]
    assert outcomes[1] == outcomes[3] == outcomes[5] == {"unchanged": True}


def test_no_table_is_copied_whatever_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[str] = []
    real_deepcopy = copy.deepcopy

    def watching(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table):
            copied.append(value.name)
        return real_deepcopy(value, memo)

    monkeypatch.setattr(
        DynamoDBBackend, "transact_write_items", moto_transactions.transact_write_items
    )
    monkeypatch.setattr(copy, "deepcopy", watching)
    with mock_aws():
        client = _scenario_client()
        for i in range(200):
            client.put_item(TableName="ledger", Item={"pk": {"S": "u"}, "sk": {"S": f"r{i}"}})
        assert _transact(client, [_count_up("key", below=5), _ledger_put("u", "n")])["code"] is None
        assert (
            _transact(client, [_count_up("key", below=0)])["code"] == "TransactionCanceledException"
        )
    assert copied == []


@pytest.fixture
def moto_server() -> Iterator[Any]:
    server, endpoint = serialized_moto_server()
    try:
        yield boto3.client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    finally:
        server.stop()


def test_our_moto_server_rolls_back_by_item(moto_server: Any) -> None:
    assert DynamoDBBackend.transact_write_items is moto_transactions.transact_write_items
    client = moto_server
    _scenario_client_over(client)
    cancelled = _transact(client, [_count_up("key", below=5), _count_up("user", below=0)])
    assert cancelled["code"] == "TransactionCanceledException"
    assert cancelled["reasons"][1]["Item"]["count"] == {"N": "0"}
    key = client.get_item(TableName="levels", Key={"pk": {"S": "key"}})["Item"]
    assert key["count"] == {"N": "0"}
    assert _transact(client, [_count_up("key", below=5), _count_up("user", below=5)]) == {
        "code": None
    }
    key = client.get_item(TableName="levels", Key={"pk": {"S": "key"}})["Item"]
    assert key["count"] == {"N": "1"}


def _scenario_client_over(client: Any) -> None:
    client.create_table(
        TableName="levels",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for pk in ("key", "user"):
        client.put_item(
            TableName="levels", Item={"pk": {"S": pk}, "count": {"N": "0"}, "window": {"M": {}}}
        )
