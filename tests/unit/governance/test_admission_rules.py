"""The admission arithmetic without AWS: periods, window boundaries, what a refusal says, the
numbers DynamoDB is given, and the reservation a request makes."""

from __future__ import annotations

import calendar
from typing import Any

import pytest

from inference_core.db.admission import (
    AdmissionStore,
    Guard,
    Level,
    Limits,
    minute_of,
    period_id,
    previous_period_id,
    seconds_to_period_end,
)
from inference_core.errors import BudgetExceededError, RateLimitError

DEC_31 = calendar.timegm((2026, 12, 31, 23, 59, 30, 0, 0, 0))


def test_periods_are_utc_calendar_days_and_months() -> None:
    assert period_id("day", DEC_31) == "d2026-12-31"
    assert period_id("month", DEC_31) == "m2026-12"
    assert period_id("total", DEC_31) == "total"
    assert previous_period_id("day", DEC_31) == "d2026-12-30"
    assert previous_period_id("month", DEC_31) == "m2026-11"
    assert previous_period_id("total", DEC_31) is None
    assert seconds_to_period_end("day", DEC_31) == 31
    assert seconds_to_period_end("month", DEC_31) == 31
    assert period_id("day", DEC_31 + 30) == "d2027-01-01"
    assert minute_of(DEC_31 + 29) == minute_of(DEC_31) and minute_of(DEC_31 + 30) != minute_of(
        DEC_31
    )


def _level(**limits: Any) -> Level:
    return Level(
        name="team",
        table="t",
        key={"team_id": {"S": "x"}},
        hash_attribute="team_id",
        limits=Limits(**limits),
        guard=Guard(condition="attribute_exists(#pk)", names={}, values={}, explain=lambda o: None),
    )


class NoCalls:
    def transact_write_items(self, **_: Any) -> None:
        raise AssertionError("a request that can never fit must not reach DynamoDB")


def test_a_request_that_can_never_fit_is_refused_without_a_call() -> None:
    store = AdmissionStore(lambda: NoCalls())
    with pytest.raises(RateLimitError) as tokens:
        store.admit(
            [_level(tpm=100)], lease_id="l", tokens=101, cost_usd=0, now=DEC_31, lease_seconds=900
        )
    assert (tokens.value.level, tokens.value.limit) == ("team", "tpm_limit")
    with pytest.raises(BudgetExceededError) as budget:
        store.admit(
            [_level(budget_usd=0.5, period="day")],
            lease_id="l",
            tokens=1,
            cost_usd=0.6,
            now=DEC_31,
            lease_seconds=900,
        )
    assert budget.value.code == "insufficient_quota" and budget.value.retry_after == 31
    assert "team's budget" in budget.value.message


class Recorder:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        self.items = TransactItems


def test_the_condition_carries_limit_minus_the_request_in_plain_decimals() -> None:
    client = Recorder()
    store = AdmissionStore(lambda: client)
    store.admit(
        [_level(rpm=10, tpm=1000, parallel=3, budget_usd=0.001, period="month")],
        lease_id="lease-1",
        tokens=250,
        cost_usd=0.00009,
        now=DEC_31,
        lease_seconds=900,
    )
    update = client.items[0]["Update"]
    values = update["ExpressionAttributeValues"]
    assert values[":troom"] == {"N": "750"}
    assert values[":broom"] == {"N": "0.00091"}  # never 9.1e-04: DynamoDB numbers are decimals
    assert values[":cost"] == {"N": "0.00009"}
    assert values[":par"] == {"N": "3"} and values[":rpm"] == {"N": "10"}
    assert update["ExpressionAttributeNames"]["#rid"] == "lease-1"
    assert "size(#ls) < :par" in update["ConditionExpression"]
    assert "#sp.#pp" in update["UpdateExpression"]  # last month's spend entry goes


def test_the_reservation_is_prompt_plus_max_tokens_at_the_dearest_deployment() -> None:
    from inference_core.canonical import ChatRequest, Deployment
    from inference_core.inference.service import InferenceService
    from inference_core.registry import ModelEntry
    from inference_core.settings import AwsSettings, Settings

    settings = Settings(aws=AwsSettings(local_mode=True))
    entry = ModelEntry(
        alias="m",
        deployments=(
            Deployment(
                "openai",
                "cheap",
                input_price_per_mtok=1.0,
                output_price_per_mtok=2.0,
                context_window=1000,
                max_output_tokens=300,
            ),
            Deployment(
                "openai",
                "dear",
                input_price_per_mtok=3.0,
                output_price_per_mtok=15.0,
                context_window=1000,
                max_output_tokens=200,
            ),
        ),
    )
    nothing: Any = None  # the reservation needs no registry, router or repositories
    service = InferenceService(
        settings=settings, registry=nothing, router=nothing, cache=nothing, usage=nothing
    )
    request = ChatRequest(messages=[{"role": "user", "content": "x" * 40}], max_tokens=100)
    tokens, cost = service.reservation(entry, request)
    assert tokens == (4 + 10) + 100
    assert cost == pytest.approx((14 * 3.0 + 100 * 15.0) / 1e6)
    # without max_tokens: the largest output cap of the deployments it may fall back to
    tokens, _ = service.reservation(entry, ChatRequest(messages=request.messages))
    assert tokens == 14 + 300
