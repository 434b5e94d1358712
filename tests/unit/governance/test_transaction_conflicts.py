"""Contention without AWS: a fake DynamoDB client cancels transactions with the reason real
DynamoDB gives when another transaction has one of the items in flight (`TransactionConflict`).

Admission and settle retry those cancellations (and only those) with short, jittered, bounded
backoff; an admission that keeps conflicting is a 503 with Retry-After, a settle that keeps
conflicting is reported lost, and the request is then recorded as unmetered (a metric and a log
line with its usage), never silently dropped; so is an ungoverned request whose ledger write is
lost."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from inference_core.canonical import ChatRequest, ChatResult, Usage
from inference_core.db.admission import (
    ADMIT_BACKOFF,
    MAX_ADMIT_ATTEMPTS,
    MAX_SETTLE_ATTEMPTS,
    SETTLE_BACKOFF,
    Admission,
    AdmissionStore,
    Guard,
    Level,
    Limits,
    Settlement,
)
from inference_core.errors import RateLimitError, ServiceUnavailableError
from inference_core.inference.service import InferenceService
from inference_core.registry import ModelRegistry
from inference_core.settings import Settings

NOW = 1_790_000_030.0
CONFLICT = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
NONE = {"Code": "None"}


def _cancelled(reasons: list[dict[str, Any]]) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": reasons,  # type: ignore[typeddict-item]
        },
        "TransactWriteItems",
    )


class ContendedClient:
    """Cancels the first `cancellations` transactions with `reasons`, then writes."""

    def __init__(self, cancellations: int, reasons: list[dict[str, Any]]) -> None:
        self.cancellations = cancellations
        self.reasons = reasons
        self.calls = 0

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        self.calls += 1
        if self.calls <= self.cancellations:
            raise _cancelled(self.reasons)


def _level(name: str, **limits: Any) -> Level:
    return Level(
        name=name,
        table=f"{name}s",
        key={f"{name}_id": {"S": "x"}},
        hash_attribute=f"{name}_id",
        limits=Limits(**limits),
        guard=Guard(condition="attribute_exists(#pk)", names={}, values={}, explain=lambda o: None),
    )


def _store(client: ContendedClient) -> tuple[AdmissionStore, list[float]]:
    slept: list[float] = []
    return AdmissionStore(lambda: client, sleep=slept.append), slept


def _admit(store: AdmissionStore) -> Admission:
    return store.admit(
        [_level("key", rpm=100), _level("user", rpm=100)],
        lease_id="lease-1",
        tokens=10,
        cost_usd=0.001,
        now=NOW,
        lease_seconds=900,
    )


def _ceilings(backoff: tuple[float, float], count: int) -> list[float]:
    first, cap = backoff
    return [min(cap, first * 2**attempt) for attempt in range(count)]


def test_admission_retries_a_conflict_with_growing_jittered_waits_and_is_admitted() -> None:
    random.seed(7)  # the waits do not come from `random`'s state: seeding changes nothing
    client = ContendedClient(3, [CONFLICT, NONE])
    store, slept = _store(client)
    admission = _admit(store)
    assert admission.lease_id == "lease-1" and client.calls == 4
    assert len(slept) == 3
    for wait, ceiling in zip(slept, _ceilings(ADMIT_BACKOFF, 3), strict=True):
        assert ceiling / 10 <= wait <= ceiling
    assert len(set(slept)) == 3  # jittered, not a fixed schedule every instance shares
    random.seed(7)
    again, slept_again = _store(ContendedClient(3, [CONFLICT, NONE]))
    _admit(again)
    assert slept_again != slept  # instances restored from one snapshot (one seed) still differ


def test_admission_that_keeps_conflicting_is_a_503_after_bounded_retries() -> None:
    client = ContendedClient(10**6, [NONE, CONFLICT])
    store, slept = _store(client)
    with pytest.raises(ServiceUnavailableError) as refused:
        _admit(store)
    assert refused.value.status_code == 503 and refused.value.retry_after == 1
    assert client.calls == MAX_ADMIT_ATTEMPTS
    assert len(slept) == MAX_ADMIT_ATTEMPTS - 1  # no wait after the last attempt
    assert sum(slept) <= 0.25  # the client is waiting: the retries stay short


def test_a_failed_condition_is_an_answer_not_retried() -> None:
    full = {
        "Code": "ConditionalCheckFailed",
        "Item": {
            "key_id": {"S": "x"},
            "request_window": {"M": {str(int(NOW // 60)): {"N": "100"}}},
            "leases": {"M": {}},
        },
    }
    client = ContendedClient(10**6, [full, NONE])
    store, slept = _store(client)
    with pytest.raises(RateLimitError) as refused:
        _admit(store)
    assert (refused.value.level, refused.value.limit) == ("key", "rpm_limit")
    assert client.calls == 1 and slept == []


def _settlement() -> Settlement:
    return Settlement(
        input_tokens=5,
        output_tokens=5,
        cost_usd=0.0005,
        ledger_item={"tenant_id": {"S": "t"}, "sk": {"S": "r"}},
        ledger_table="usage",
        day="2026-09-21",
        model="m",
        user_id="u",
        aggregates_table="aggregates",
        aggregate_expires_at=int(NOW) + 86400,
    )


def _admitted() -> Admission:
    store, _ = _store(ContendedClient(0, []))
    return _admit(store)


def test_settle_retries_a_conflict_and_writes() -> None:
    admission = _admitted()
    client = ContendedClient(4, [CONFLICT] + [NONE] * 5)
    store, slept = _store(client)
    assert store.settle(admission, _settlement(), now=NOW) is True
    assert client.calls == 5
    for wait, ceiling in zip(slept, _ceilings(SETTLE_BACKOFF, 4), strict=True):
        assert ceiling / 10 <= wait <= ceiling


def test_settle_that_keeps_conflicting_is_reported_lost_after_bounded_retries() -> None:
    admission = _admitted()
    client = ContendedClient(10**6, [NONE, CONFLICT])
    store, slept = _store(client)
    assert store.settle(admission, _settlement(), now=NOW) is False
    assert client.calls == MAX_SETTLE_ATTEMPTS
    assert len(slept) == MAX_SETTLE_ATTEMPTS - 1
    assert sum(slept) <= 2.0


@dataclass
class Caller:
    tenant_id: str = "tenant-a"
    key_id: str | None = "key-1"

    def can_use(self, model_alias: str) -> bool:
        return True


class LosingGovernance:
    """Admits, then loses every settle (what `Governance.settle` reports after its retries)."""

    def __init__(self) -> None:
        self.settles = 0

    def admit(self, caller: Any, **_: Any) -> Admission:
        return _admitted()

    def settle(self, admission: Admission, **_: Any) -> bool:
        self.settles += 1
        return False


class NoCache:
    def get(self, key: str, tenant_id: str) -> None:
        return None

    def entry(self, key: str, **_: Any) -> None:
        return None


class Ledger:
    def ledger_line(self, usage: Any) -> Any:
        return usage


class Router:
    async def chat(self, entry: Any, request: Any) -> Any:
        @dataclass
        class Routed:
            result: ChatResult
            deployment: Any

        return Routed(ChatResult("Hello.", "stop", Usage(100, 20)), entry.deployments[0])


def test_a_lost_settle_records_the_request_as_unmetered(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "0")
    registry = ModelRegistry.from_dict(
        {"models": {"small": {"deployments": [{"provider": "openai", "model": "gpt"}]}}}
    )
    governance = LosingGovernance()
    service = InferenceService(
        settings=Settings(),
        registry=registry,
        router=Router(),  # type: ignore[arg-type]
        cache=NoCache(),  # type: ignore[arg-type]
        usage=Ledger(),  # type: ignore[arg-type]
        governance=governance,  # type: ignore[arg-type]
    )
    request = ChatRequest(messages=[{"role": "user", "content": "Hi"}], max_tokens=50)
    outcome = asyncio.run(
        service.chat(Caller(), request, model="small", endpoint="chat", request_id="r-lost")
    )
    assert outcome.result.content == "Hello."  # the client got its answer
    assert governance.settles == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    unmetered = [line for line in lines if "UnmeteredRequests" in line]
    assert len(unmetered) == 1 and unmetered[0]["model"] == "small"
    logged = [r for r in caplog.records if r.getMessage() == "request not metered"]
    assert len(logged) == 1 and logged[0].levelname == "WARNING"
    assert getattr(logged[0], "request_id", None) == "r-lost"
    assert (
        getattr(logged[0], "input_tokens", None),
        getattr(logged[0], "output_tokens", None),
    ) == (
        100,
        20,
    )


class LedgerClient:
    """batch_write_item that fails, leaves the ledger line unprocessed, or writes."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        self.calls = 0

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.outcome == "fails":
            raise ClientError({"Error": {"Code": "InternalServerError"}}, "BatchWriteItem")
        if self.outcome == "throttled":
            return {"UnprocessedItems": RequestItems}
        return {}


@pytest.mark.parametrize(
    ("outcome", "metered"), [("writes", True), ("throttled", False), ("fails", False)]
)
def test_an_ungoverned_ledger_write_says_whether_it_was_lost(
    monkeypatch: pytest.MonkeyPatch, outcome: str, metered: bool
) -> None:
    from inference_core.db import usage as usage_module
    from inference_core.observability import RequestUsage

    client = LedgerClient(outcome)
    monkeypatch.setattr(usage_module, "dynamodb_client", lambda model: client)
    usage = RequestUsage(request_id="r", tenant_id="t", key_id=None, endpoint="e", model="m")
    assert usage_module.UsageRepository().record(usage) is metered
    assert client.calls == (2 if outcome == "throttled" else 1)


class LineRider:
    """A rider's one item in the admission (the batch worker's line claim)."""

    def admit_items(self, now: float) -> list[dict[str, Any]]:
        return [{"ConditionCheck": {"TableName": "jobs", "Key": {"pk": {"S": "line"}}}}]

    def admit_refused(self, reasons: list[dict[str, Any]]) -> None:
        return None


def test_a_conflict_on_a_riders_item_is_retried_too() -> None:
    from inference_core.db.admission import riding

    client = ContendedClient(2, [NONE, NONE, CONFLICT])
    store, slept = _store(client)
    with riding(LineRider()):  # type: ignore[arg-type]
        admission = _admit(store)
    assert admission.lease_id == "lease-1" and client.calls == 3 and len(slept) == 2
