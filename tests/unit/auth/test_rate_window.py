"""The rate window's failure paths, against a scripted DynamoDB client (no AWS)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from inference_core.db.rate_window import Guard, Item, count_request
from inference_core.errors import AuthenticationError, RateLimitError, ServiceUnavailableError

NOW = 28_333_333 * 60 + 15.0  # 15 s into a minute
MINUTE = int(NOW // 60)


def _item(window_start: int, count: int, rpm: int | None = 5, revoked: bool = False) -> Item:
    item: Item = {
        "key_hash": {"S": "h"},
        "window_start": {"N": str(window_start)},
        "window_count": {"N": str(count)},
        "revoked": {"BOOL": revoked},
    }
    if rpm is not None:
        item["rpm_limit"] = {"N": str(rpm)}
    return item


def _failed(old: Item | None) -> ClientError:
    response: Any = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}
    if old is not None:
        response["Item"] = old
    return ClientError(response, "UpdateItem")


class ScriptedClient:
    """Answers each update_item with the next scripted outcome: an item (success) or an error."""

    def __init__(self, *outcomes: Item | Exception):
        self.outcomes = list(outcomes)
        self.calls: list[dict[str, Any]] = []

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return {"Attributes": outcome}


def _check(old: Item) -> None:
    if not old or old["revoked"]["BOOL"]:
        raise AuthenticationError("bad key")


GUARD = Guard(
    key_attribute="key_hash",
    condition="#rv = :f",
    names={"#rv": "revoked"},
    values={":f": {"BOOL": False}},
    check=_check,
)


def _count(client: ScriptedClient, default_rpm: int | None = None) -> Item:
    return count_request(
        client,
        table="t",
        key={"key_hash": {"S": "h"}},
        guard=GUARD,
        now=NOW,
        default_rpm=default_rpm,
    )


def test_the_common_case_is_one_call_that_checks_everything() -> None:
    client = ScriptedClient(_item(MINUTE, 1))
    assert _count(client)["window_count"] == {"N": "1"}
    [call] = client.calls
    assert "#rv = :f" in call["ConditionExpression"]
    assert "#wc < #rl" in call["ConditionExpression"]
    assert call["UpdateExpression"].startswith("ADD #wc :one")
    assert call["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert call["ExpressionAttributeValues"][":w"] == {"N": str(MINUTE)}


def test_missing_and_revoked_keys_are_401() -> None:
    with pytest.raises(AuthenticationError):
        _count(ScriptedClient(_failed(None)))
    with pytest.raises(AuthenticationError):
        _count(ScriptedClient(_failed(_item(MINUTE, 0, revoked=True))))


def test_over_the_limit_is_429_until_the_next_minute() -> None:
    client = ScriptedClient(_failed(_item(MINUTE, 5)))
    with pytest.raises(RateLimitError) as refused:
        _count(client)
    assert refused.value.retry_after == 45
    assert len(client.calls) == 1


def test_a_stale_window_is_restarted_once() -> None:
    client = ScriptedClient(_failed(_item(MINUTE - 3, 5)), _item(MINUTE, 1))
    assert _count(client)["window_start"] == {"N": str(MINUTE)}
    restart = client.calls[1]
    assert restart["UpdateExpression"].startswith("SET #ws = :w, #wc = :one")
    assert "#ws < :w" in restart["ConditionExpression"]


def test_losing_the_restart_race_counts_in_the_winners_window() -> None:
    client = ScriptedClient(
        _failed(_item(MINUTE - 1, 5)),  # stale window
        _failed(_item(MINUTE, 1)),  # another request started this minute first
        _item(MINUTE, 2),  # so count in it
    )
    assert _count(client)["window_count"] == {"N": "2"}
    assert len(client.calls) == 3


def test_a_window_opened_by_a_clock_slightly_ahead_is_used() -> None:
    client = ScriptedClient(_failed(_item(MINUTE + 1, 1)), _item(MINUTE + 1, 2))
    _count(client)
    assert client.calls[1]["ExpressionAttributeValues"][":w"] == {"N": str(MINUTE + 1)}


def test_an_item_without_a_limit_gets_the_default() -> None:
    client = ScriptedClient(_failed(_item(MINUTE, 0, rpm=None)), {}, _item(MINUTE, 1))
    _count(client, default_rpm=60)
    assert client.calls[1]["ExpressionAttributeValues"] == {":rpm": {"N": "60"}}


def test_a_zero_limit_refuses_everything() -> None:
    with pytest.raises(RateLimitError):
        _count(ScriptedClient(_failed(_item(MINUTE - 1, 0, rpm=0))))


def test_other_dynamodb_errors_are_503() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "UpdateItem")
    with pytest.raises(ServiceUnavailableError):
        _count(ScriptedClient(throttled))
