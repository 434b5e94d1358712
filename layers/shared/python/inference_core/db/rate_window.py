"""The hot path's one DynamoDB call: authorize a credential item and count a request in its window.

Every credential item (an API key, a user) carries `window_start` (epoch minute), `window_count`
and `rpm_limit`. One conditional `UpdateItem` both checks the credential (the caller's `guard`,
e.g. "not revoked") and adds the request to the current minute's count, refusing when the count
has reached the limit. Because the count lives in DynamoDB, the limit holds across every Lambda
and process.

Only when that update fails does a second call happen, and the item DynamoDB returns with the
failure (`ReturnValuesOnConditionCheckFailure=ALL_OLD`) says why: gone or refused by the guard
(401), the window is from an earlier minute (start the new window: at most once per credential per
minute), or the count reached the limit (429 with the seconds left in the minute).

The calls go through the PynamoDB model's own botocore client, so they are seen (and counted) by the
same botocore event hooks as every other DynamoDB call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from inference_core.db.availability import StoreGuard
from inference_core.errors import RateLimitError, ServiceUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]  # a raw DynamoDB item: {"attr": {"S": "..."}}

_NAMES = {
    "#ws": "window_start",
    "#wc": "window_count",
    "#rl": "rpm_limit",
    "#lu": "last_used_at",
}
# Enough for: count fails (old window) → new window loses a race → count again → repair path.
MAX_ATTEMPTS = 4
# A failed condition is the answer the counting reads (see `_update`), not an outage.
_CREDENTIALS_STORE = StoreGuard(
    "The credentials store is unavailable."
).passing_condition_failures()


@dataclass(frozen=True)
class Guard:
    """An extra condition the item must meet (e.g. `#rv = :f`), and what to raise when it does not.

    `check(old_item)` runs on the item returned by a failed update and raises the right
    authentication error if the guard is what failed; it must raise when `old_item` is empty (the
    item does not exist).
    """

    key_attribute: str
    condition: str
    names: dict[str, str]
    values: Item
    check: Callable[[Item], None]


def number(item: Item | None, name: str) -> float | None:
    if not item or name not in item or "N" not in item[name]:
        return None
    return float(item[name]["N"])


def count_request(
    client: DynamoDBClient,
    *,
    table: str,
    key: Item,
    guard: Guard,
    now: float,
    default_rpm: int | None = None,
) -> Item:
    """Authorize and count one request; returns the item as it is after counting (ALL_NEW)."""
    minute = int(now // 60)
    for _ in range(MAX_ATTEMPTS):
        ok, item = _count_in_window(client, table, key, guard, minute, now)
        if ok:
            return item
        guard.check(item)  # raises when the item is gone, revoked, disabled...
        limit = number(item, "rpm_limit")
        start = int(number(item, "window_start") or 0)
        if limit is None:
            if default_rpm is None:
                raise RateLimitError("No request limit is configured.", retry_after=60)
            _set_missing_limit(client, table, key, guard, default_rpm)
            continue
        if start < minute:
            if limit < 1:
                raise _over_limit(minute, now)
            ok, item = _start_window(client, table, key, guard, minute, now)
            if ok:
                return item
            continue  # a concurrent request started the window first: count in it
        if start > minute:
            # Another process's clock is a little ahead and already opened the next minute.
            minute = start
            continue
        raise _over_limit(minute, now)
    raise ServiceUnavailableError("The request could not be counted; please retry.")


def _over_limit(minute: int, now: float) -> RateLimitError:
    retry_after = math.ceil((minute + 1) * 60 - now)
    return RateLimitError(
        "Rate limit reached for requests per minute; try again later.", retry_after=retry_after
    )


def _update(client: DynamoDBClient, **kwargs: Any) -> tuple[bool, Item]:
    try:
        with _CREDENTIALS_STORE:
            response = client.update_item(**kwargs)
    except ClientError as exc:  # the condition failed
        # ReturnValuesOnConditionCheckFailure=ALL_OLD puts the item next to the error.
        old: Any = exc.response.get("Item")  # type: ignore[typeddict-item]
        return False, dict(old or {})
    return True, response.get("Attributes") or {}


def _count_in_window(
    client: DynamoDBClient, table: str, key: Item, guard: Guard, minute: int, now: float
) -> tuple[bool, Item]:
    return _update(
        client,
        TableName=table,
        Key=key,
        ConditionExpression=(
            f"attribute_exists(#pk) AND ({guard.condition}) AND #ws = :w AND #wc < #rl"
        ),
        UpdateExpression="ADD #wc :one SET #lu = :now",
        ExpressionAttributeNames={**_NAMES, "#pk": guard.key_attribute, **guard.names},
        ExpressionAttributeValues={
            ":w": {"N": str(minute)},
            ":one": {"N": "1"},
            ":now": {"N": str(int(now))},
            **guard.values,
        },
        ReturnValues="ALL_NEW",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def _start_window(
    client: DynamoDBClient, table: str, key: Item, guard: Guard, minute: int, now: float
) -> tuple[bool, Item]:
    return _update(
        client,
        TableName=table,
        Key=key,
        ConditionExpression=(
            f"attribute_exists(#pk) AND ({guard.condition}) AND #ws < :w AND #rl >= :one"
        ),
        UpdateExpression="SET #ws = :w, #wc = :one, #lu = :now",
        ExpressionAttributeNames={**_NAMES, "#pk": guard.key_attribute, **guard.names},
        ExpressionAttributeValues={
            ":w": {"N": str(minute)},
            ":one": {"N": "1"},
            ":now": {"N": str(int(now))},
            **guard.values,
        },
        ReturnValues="ALL_NEW",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def _set_missing_limit(
    client: DynamoDBClient, table: str, key: Item, guard: Guard, rpm: int
) -> None:
    """An item written without a limit gets the default once (a lost race is harmless)."""
    _update(
        client,
        TableName=table,
        Key=key,
        ConditionExpression="attribute_exists(#pk) AND attribute_not_exists(#rl)",
        UpdateExpression="SET #rl = :rpm",
        ExpressionAttributeNames={"#pk": guard.key_attribute, "#rl": "rpm_limit"},
        ExpressionAttributeValues={":rpm": {"N": str(rpm)}},
    )
