"""Admission under concurrency, against moto's real server over HTTP (many threads, one shared
set of items): N parallel requests at a limit that fits k → exactly k admitted, and the recorded
spend never exceeds the budget. The same transaction runs in every Lambda instance, so threads in
one process stand for any number of instances."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from inference_core.errors import BudgetExceededError, RateLimitError
from tests.factories import serialized_moto_server

N = 16
K = 5
TOKENS = 100
COST = 0.001


@dataclass(frozen=True)
class Caller:
    user_id: str
    key_id: str | None = None
    key_hash: str | None = None
    session_id: str | None = None
    token_issued_at: float | None = None
    is_anonymous: bool = False


@pytest.fixture
def governance(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from inference_core.db.models import configure_models
    from inference_core.db.tables import create_tables
    from inference_core.governance import Governance
    from inference_core.settings import Settings, get_settings

    # moto's ThreadedMotoServer, with DynamoDB requests serialized: moto's TransactWriteItems is
    # not atomic across threads, DynamoDB's is (see inference_core.local.moto_server).
    server, endpoint = serialized_moto_server()
    for name, value in {
        "IC_AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "IC_LOCAL_MODE": "true",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings = Settings()
    create_tables(boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint))
    configure_models(settings)
    governance = Governance(settings=settings)
    mid_minute = float(int(time.time()) // 60 * 60 + 30)
    governance.clock = lambda: mid_minute  # no window boundary in the middle of a test
    try:
        yield governance
    finally:
        server.stop()
        get_settings.cache_clear()


def _user(team_id: str | None = None, **limits: Any) -> str:
    from inference_core.db.models import UserModel

    user_id = "usr_" + uuid.uuid4().hex
    UserModel(
        user_id,
        email=f"{user_id}@example.com",
        password_hash="x",
        role="user",
        is_active=True,
        created_at=1,
        updated_at=1,
        tokens_valid_after=0,
        team_id=team_id,
        rpm_limit=limits.pop("rpm_limit", 10_000),
        **limits,
    ).save()
    return user_id


def _key(user_id: str, **limits: Any) -> Caller:
    from inference_core.db.models import ApiKeyModel

    key_hash, key_id = uuid.uuid4().hex, "key_" + uuid.uuid4().hex[:8]
    ApiKeyModel(
        key_hash,
        key_id=key_id,
        owner_id=user_id,
        prefix="sk-ic-xx",
        created_at=1,
        revoked=False,
        **limits,
    ).save()
    return Caller(user_id=user_id, key_id=key_id, key_hash=key_hash)


def _admit_all(governance: Any, callers: list[Caller]) -> tuple[list[Any], list[Exception]]:
    def one(caller: Caller) -> Any:
        try:
            return governance.admit(caller, request_id="r", tokens=TOKENS, cost_usd=COST)
        except (RateLimitError, BudgetExceededError) as exc:
            return exc

    for caller in {c.key_hash: c for c in callers}.values():
        governance.resolve(caller)  # warm the resolution cache: every thread races the write
    with ThreadPoolExecutor(max_workers=N) as pool:
        results = list(pool.map(one, callers))
    admitted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    return admitted, refused


def _spend(table: str, key: dict[str, Any]) -> float:
    from inference_core.db.governance import GovernanceReads

    item = GovernanceReads().client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return sum(float(v["N"]) for v in item["spend"]["M"].values())


def test_a_budget_that_fits_k_admits_exactly_k(governance: Any) -> None:
    budget = K * COST + COST / 2
    caller = _key(_user(), max_budget_usd=budget)
    admitted, refused = _admit_all(governance, [caller] * N)
    assert len(admitted) == K
    assert all(isinstance(r, BudgetExceededError) for r in refused)
    spend = _spend("ic-api-keys", {"key_hash": {"S": caller.key_hash}})
    assert spend <= budget and abs(spend - K * COST) < 1e-9
    # settling at the real (lower) cost gives the difference back
    for admission in admitted:
        assert governance.settle(
            admission,
            input_tokens=10,
            output_tokens=10,
            cost_usd=COST / 10,
            cached=False,
            model="m",
            ledger=None,
            cache_entry=None,
        )
    assert abs(_spend("ic-api-keys", {"key_hash": {"S": caller.key_hash}}) - K * COST / 10) < 1e-9


def test_max_parallel_requests_admits_exactly_k_and_settling_frees_the_slots(
    governance: Any,
) -> None:
    caller = _key(_user(), max_parallel_requests=K)
    admitted, refused = _admit_all(governance, [caller] * N)
    assert len(admitted) == K
    assert all(getattr(r, "limit", None) == "max_parallel_requests" for r in refused)
    for admission in admitted:
        governance.settle(
            admission,
            input_tokens=1,
            output_tokens=1,
            cost_usd=0.0,
            cached=False,
            model="m",
            ledger=None,
            cache_entry=None,
        )
    admitted, _ = _admit_all(governance, [caller] * N)
    assert len(admitted) == K


def test_tpm_limit_admits_exactly_k(governance: Any) -> None:
    caller = _key(_user(), tpm_limit=K * TOKENS + TOKENS // 2)
    admitted, refused = _admit_all(governance, [caller] * N)
    assert len(admitted) == K
    assert all(getattr(r, "limit", None) == "tpm_limit" for r in refused)


def test_a_team_limit_holds_across_several_users_keys(governance: Any) -> None:
    from inference_core.db.models import TeamModel

    TeamModel("team_c", name="c", created_at=1, rpm_limit=K, max_budget_usd=1.0).save()
    callers = [_key(_user(team_id="team_c")) for _ in range(4)]
    admitted, refused = _admit_all(governance, [callers[i % 4] for i in range(N)])
    assert len(admitted) == K
    assert all(getattr(r, "level", None) == "team" for r in refused)
    assert abs(_spend("ic-teams", {"team_id": {"S": "team_c"}}) - K * COST) < 1e-9


def test_a_dead_processes_leases_are_reclaimed_once(governance: Any) -> None:
    """Worst case: a process dies holding leases; they block until they expire, then exactly the
    freed slots are handed out again, however many requests race for them."""
    caller = _key(_user(), max_parallel_requests=K, max_budget_usd=K * COST + COST / 2)
    start = governance.clock()
    admitted, _ = _admit_all(governance, [caller] * K)  # then the process "dies": no settle
    assert len(admitted) == K
    assert _admit_all(governance, [caller])[0] == []
    governance.clock = lambda: start + governance.settings.governance.lease_seconds + 1
    admitted, refused = _admit_all(governance, [caller] * N)
    assert len(admitted) == K and len(refused) == N - K
    # the dead requests' reservations were given back, exactly once
    spend = _spend("ic-api-keys", {"key_hash": {"S": caller.key_hash}})
    assert abs(spend - K * COST) < 1e-9


def test_the_overshoot_is_bounded_by_what_requests_in_flight_cost_beyond_their_reservation(
    governance: Any,
) -> None:
    """Admissions hold the reserved spend within the budget; a request that costs more than it
    reserved (a prompt the estimate undercounted) can overshoot by exactly that excess, and then
    nothing more is admitted."""
    budget = K * COST
    caller = _key(_user(), max_budget_usd=budget)
    admitted, _ = _admit_all(governance, [caller] * N)
    assert len(admitted) == K
    excess = COST / 4  # each one really cost a quarter more than reserved
    for admission in admitted:
        governance.settle(
            admission,
            input_tokens=1,
            output_tokens=1,
            cost_usd=COST + excess,
            cached=False,
            model="m",
            ledger=None,
            cache_entry=None,
        )
    spend = _spend("ic-api-keys", {"key_hash": {"S": caller.key_hash}})
    assert budget < spend <= budget + K * excess + 1e-12
    assert _admit_all(governance, [caller] * N)[0] == []
