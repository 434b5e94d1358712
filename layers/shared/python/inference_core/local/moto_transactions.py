"""moto's `TransactWriteItems` with an item-level rollback: O(items touched), not O(table size).

moto 5.2.5's `DynamoDBBackend.transact_write_items` deep-copies EVERY table a transaction names
before it starts, so that it can put the copy back if an item fails. The cost grows with the
tables' item count (the usage ledger, the cache and the daily aggregates gain rows on every
request), so on a long local run every admission and settle gets slower: the transaction of the
300th request of a bench costs about 2.5 times that of the first. This is a fix to the local
AWS, not to the gateway (real DynamoDB has no such cost).

`install()` replaces that method with the same algorithm (the same checks in the same order, the
same `CancellationReasons`, `ReturnValuesOnConditionCheckFailure=ALL_OLD`, the same errors)
except for the backup: before each item is written, a copy of that one item (or its absence) is
kept, and a cancelled transaction puts exactly those items back (and drops the stream records it
added). That is equivalent to restoring the tables only when nothing else writes those tables
during the transaction, which our moto server guarantees (`local.moto_server` runs DynamoDB
requests one at a time); moto's own version has the same requirement. Installed only over the
moto version it was checked against (`CHECKED_MOTO_VERSION`); another version keeps moto's own.
Tested in `tests/integration/governance/test_moto_transactions.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

CHECKED_MOTO_VERSION = "5.2.5"

_moto_own: Callable[..., None] | None = None  # moto's method, once `install` replaced it


def install() -> bool:
    """Patch moto's DynamoDB backend in this process; True if the patch is (now) in place."""
    global _moto_own
    import moto
    from moto.dynamodb.models import DynamoDBBackend

    if _moto_own is not None:
        return True
    if moto.__version__ != CHECKED_MOTO_VERSION:
        return False
    _moto_own = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    return True


def moto_own() -> Callable[..., None]:
    """moto's own `transact_write_items` (to compare against), installed or not."""
    from moto.dynamodb.models import DynamoDBBackend

    return _moto_own or DynamoDBBackend.transact_write_items


class _Undo:
    """The items a transaction is about to write, as they were, and how to put them back."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.items: list[tuple[Any, Any, Any, Any, bool]] = []  # table, hash, range, old, bucket
        self.streams: dict[str, tuple[Any, int]] = {}

    def keep(self, table_name: str, key: dict[str, Any], current: Any, *, mutated: bool) -> None:
        """Keep `current` (the item at `key`, or None) before it is written; `mutated`: the write
        changes the item object in place (an Update), so a copy is kept, not the object."""
        table = self.backend.get_table(table_name)
        hash_key, range_key = self.backend.get_keys_value(table, key)
        had_bucket = range_key is None or hash_key in table.items
        old = copy.deepcopy(current) if mutated else current
        self.items.append((table, hash_key, range_key, old, had_bucket))
        shard = table.stream_shard
        if shard is not None and table_name not in self.streams:
            self.streams[table_name] = (shard, len(shard.items))

    def rollback(self) -> None:
        for table, hash_key, range_key, old, had_bucket in reversed(self.items):
            if range_key is None:
                if old is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = old
                continue
            bucket = table.items[hash_key]
            if old is None:
                bucket.pop(range_key, None)
            else:
                bucket[range_key] = old
            if not bucket and not had_bucket:
                del table.items[hash_key]
        for shard, length in self.streams.values():
            del shard.items[length:]


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's `DynamoDBBackend.transact_write_items`, with `_Undo` for the table copies."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _Undo(self)
    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            return_values = op.get("ReturnValuesOnConditionCheckFailure")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            check_unicity(table_name, key)
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(condition_expression, names, values)
                if not condition_op.expr(current):
                    if return_values == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                undo.keep(table_name, key, current, mutated=op_type == "Update")
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            undo.rollback()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        undo.rollback()
        raise TransactionCanceledException(errors)
