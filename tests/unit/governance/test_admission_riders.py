"""Riders on the admission and settle transactions, without AWS: a batch line's claim is written
in its admission (and refuses it when the line is done or claimed), its outcome and the job's
counters in its settle; a rider refused at settle is dropped and the usage is settled anyway."""

from __future__ import annotations

import calendar
from typing import Any

import pytest
from botocore.exceptions import ClientError

from inference_core.db.admission import (
    Admission,
    AdmissionStore,
    Guard,
    Level,
    Limits,
    Settlement,
    riding,
)
from inference_core.db.batch_models import BatchLineModel, job_pk, line_sk
from inference_core.db.jobs import (
    LineClaim,
    LineClaimedError,
    LineCounts,
    LineDoneError,
    LineRecord,
)

NOW = float(calendar.timegm((2026, 12, 1, 12, 0, 30, 0, 0, 0)))
OK = {"Code": "None"}
REFUSED = "ConditionalCheckFailed"


class ScriptedDynamoDB:
    """Records each TransactWriteItems; answers with the scripted cancellation reasons."""

    def __init__(self, *answers: list[dict[str, Any]] | None) -> None:
        self.answers = list(answers)
        self.calls: list[list[dict[str, Any]]] = []

    def transact_write_items(self, *, TransactItems: list[dict[str, Any]]) -> None:
        self.calls.append(TransactItems)
        reasons = self.answers.pop(0) if self.answers else None
        if reasons:
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": reasons,  # type: ignore[typeddict-item]
                },
                "TransactWriteItems",
            )


def _level() -> Level:
    return Level(
        name="user",
        table="users",
        key={"user_id": {"S": "u"}},
        hash_attribute="user_id",
        limits=Limits(),
        guard=Guard(condition="attribute_exists(#pk)", names={}, values={}, explain=lambda o: None),
    )


def _claim() -> LineClaim:
    return LineClaim(
        table="jobs",
        batch_id="batch_x",
        index=3,
        token="tok",
        until=int(NOW) + 300,
        retention_seconds=86400,
    )


def _admit(store: AdmissionStore) -> Admission:
    return store.admit(
        [_level()], lease_id="lease", tokens=10, cost_usd=0.0, now=NOW, lease_seconds=900
    )


def _line() -> BatchLineModel:
    return BatchLineModel(
        job_pk("batch_x"), line_sk(3), index=3, outcome="ok", completed_at=int(NOW)
    )


def _outcome() -> Settlement:
    return Settlement(
        input_tokens=1,
        output_tokens=1,
        cost_usd=0.0,
        ledger_item={"x": {"S": "1"}},
        ledger_table="l",
    )


def test_the_claim_rides_in_the_admission_after_the_levels() -> None:
    client = ScriptedDynamoDB(None)
    with riding(_claim()):
        _admit(AdmissionStore(lambda: client))
    [items] = client.calls
    assert items[0]["Update"]["TableName"] == "users"
    claim = items[1]["Put"]
    assert claim["TableName"] == "jobs"
    assert claim["Item"]["sk"] == {"S": "line#0000003"}
    assert claim["Item"]["claim_token"] == {"S": "tok"}
    assert "attribute_not_exists(#oc)" in claim["ConditionExpression"]


@pytest.mark.parametrize(
    ("old", "error"),
    [
        ({"outcome": {"S": "ok"}}, LineDoneError),
        (
            {"claim_token": {"S": "other"}, "claim_until": {"N": str(int(NOW) + 60)}},
            LineClaimedError,
        ),
    ],
)
def test_a_done_or_claimed_line_refuses_its_admission(old: dict[str, Any], error: type) -> None:
    client = ScriptedDynamoDB([OK, {"Code": REFUSED, "Item": old}])
    with riding(_claim()), pytest.raises(error):
        _admit(AdmissionStore(lambda: client))
    assert len(client.calls) == 1  # refused for good: not retried


def test_the_outcome_and_the_count_ride_in_the_settle() -> None:
    client = ScriptedDynamoDB(None, None)
    store = AdmissionStore(lambda: client)
    claim = _claim()
    with riding(claim):
        admission = _admit(store)
        claim.record(_line(), LineCounts(completed=1, output_tokens=1), finalizer_token="fin")
        assert store.settle(admission, _outcome(), now=NOW)
    settle = client.calls[1]
    line, job = settle[-2]["Put"], settle[-1]["Update"]
    assert line["Item"]["outcome"] == {"S": "ok"}
    assert line["ConditionExpression"] == "#ct = :tok AND attribute_not_exists(#oc)"
    assert job["Key"]["sk"] == {"S": "job"} and "#rm > :one" in job["ConditionExpression"]
    assert claim.result is LineRecord.RECORDED


def test_the_last_line_retries_as_the_last_and_claims_the_finalizer() -> None:
    job_as_it_was = {"status": {"S": "in_progress"}, "remaining": {"N": "1"}}
    client = ScriptedDynamoDB(None, [OK, OK, OK, {"Code": REFUSED, "Item": job_as_it_was}], None)
    store = AdmissionStore(lambda: client, sleep=lambda s: None)
    claim = _claim()
    with riding(claim):
        admission = _admit(store)
        claim.record(_line(), LineCounts(completed=1), finalizer_token="fin")
        assert store.settle(admission, _outcome(), now=NOW)
    retried = client.calls[2][-1]["Update"]
    assert "#rm = :one" in retried["ConditionExpression"]
    assert retried["ExpressionAttributeValues"][":ft"] == {"S": "fin"}
    assert claim.result is LineRecord.RECORDED_AND_CLAIMED


def test_a_line_recorded_meanwhile_is_dropped_and_the_usage_still_settled() -> None:
    client = ScriptedDynamoDB(None, [OK, OK, {"Code": REFUSED, "Item": {}}, OK], None)
    store = AdmissionStore(lambda: client, sleep=lambda s: None)
    claim = _claim()
    with riding(claim):
        admission = _admit(store)
        claim.record(_line(), LineCounts(completed=1), finalizer_token="fin")
        assert store.settle(admission, _outcome(), now=NOW)
    final = client.calls[2]
    assert [next(iter(item)) for item in final] == ["Update", "Put"]  # the level and the ledger
    assert final[1]["Put"]["TableName"] == "l"
    assert claim.result is LineRecord.DUPLICATE


def test_without_an_outcome_the_settle_gives_the_claim_back() -> None:
    client = ScriptedDynamoDB(None, None)
    store = AdmissionStore(lambda: client)
    claim = _claim()
    with riding(claim):
        admission = _admit(store)
        assert store.settle(admission, _outcome(), now=NOW)
    release = client.calls[1][-1]["Delete"]
    assert release["Key"]["sk"] == {"S": "line#0000003"}
    assert release["ExpressionAttributeValues"] == {":tok": {"S": "tok"}}
    assert claim.result is None
