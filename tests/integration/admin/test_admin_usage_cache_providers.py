"""Usage across the deployment (grouped by day, model, key, user, team, from the aggregates, never
a scan), a team budget set through the admin API enforced, the cache and the providers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from inference_core.errors import UpstreamUnavailableError
from tests.integration.admin.conftest import chat

COST = (11 * 3.0 + 5 * 15.0) / 1_000_000  # one scripted answer at the primary's prices
# What one request reserves before the call: "Hi" estimates at 5 prompt tokens, plus max_tokens 20.
RESERVE = (5 * 3.0 + 20 * 15.0) / 1_000_000


def _count_dynamodb_calls() -> list[str]:
    """The DynamoDB operations made from now on through every model's (already bound) client."""
    from inference_core.db.models import ALL_MODELS

    operations: list[str] = []
    seen: set[int] = set()
    for model in ALL_MODELS:
        botocore_client = model._get_connection().connection.client
        if id(botocore_client) not in seen:
            seen.add(id(botocore_client))
            botocore_client.meta.events.register(
                "before-call.dynamodb", lambda model, **_: operations.append(model.name)
            )
    return operations


def _rows(body: dict[str, Any], label: str) -> dict[Any, int]:
    return {row[label]: row["requests"] for row in body["data"]}


def test_usage_is_grouped_and_filtered_from_the_aggregates(
    client: Any, admin: Any, make_account: Any, make_key: Any, upstream: Any
) -> None:
    alice, bob, carol = make_account(), make_account(), make_account()
    team = admin.ok(admin.post("/teams", {"name": "research"}), 201)["id"]
    for person in (alice, bob):
        admin.ok(admin.post(f"/teams/{team}/members", {"user_id": person.user_id}))
    ka, kb = make_key(alice), make_key(bob)
    for token, model in (
        (ka["key"], "scripted"),
        (ka["key"], "other"),
        (kb["key"], "scripted"),
        (alice.access_token, "scripted"),
        (carol.access_token, "scripted"),
    ):
        assert chat(client, token, model).status_code == 200

    everyone = admin.ok(admin.get("/usage"))
    assert everyone["total_requests"] == 5
    assert (everyone["total_input_tokens"], everyone["total_output_tokens"]) == (55, 25)
    assert abs(everyone["total_cost_usd"] - 4 * COST) < 1e-12
    today = datetime.now(UTC).date().isoformat()
    assert _rows(everyone, "day") == {today: 5}

    by_team = admin.ok(admin.get("/usage", group_by="team"))
    assert _rows(by_team, "team_id") == {team: 4, None: 1}
    by_user = admin.ok(admin.get("/usage", team_id=team, group_by="user"))
    assert _rows(by_user, "user_id") == {alice.user_id: 3, bob.user_id: 1}
    by_model = admin.ok(admin.get("/usage", team_id=team, group_by="model"))
    assert _rows(by_model, "model") == {"scripted": 3, "other": 1}
    keys = admin.ok(admin.get("/usage", user_id=alice.user_id, group_by="key"))
    assert _rows(keys, "key_id") == {ka["id"]: 2, None: 1}
    one_key = admin.ok(admin.get("/usage", key_id=ka["id"], model="other"))
    assert one_key["total_requests"] == 1 and one_key["total_cost_usd"] == 0
    team_model = admin.ok(admin.get("/usage", team_id=team, model="scripted", user_id=bob.user_id))
    assert team_model["total_requests"] == 1
    past = admin.ok(admin.get("/usage", start="2020-01-01", end="2020-01-31"))
    assert past["total_requests"] == 0 and past["data"] == []
    refused = admin.get("/usage", team_id=team, group_by="key")
    assert refused.status_code == 400

    operations = _count_dynamodb_calls()
    admin.ok(admin.get("/usage", team_id=team, group_by="user"))
    assert [op for op in operations if op != "GetItem"] == ["Query"]  # GetItem: the caller's auth


def test_a_team_budget_set_by_the_admin_api_refuses_requests_when_spent(
    client: Any, admin: Any, make_account: Any, make_key: Any, upstream: Any
) -> None:
    alice, bob = make_account(), make_account()
    # room for two answers (the second reserves its worst case on top of the first's real cost)
    budget = round(COST + RESERVE + COST / 2, 8)
    team = admin.ok(
        admin.post("/teams", {"name": "tiny", "max_budget_usd": budget, "budget_period": "day"}),
        201,
    )["id"]
    for person in (alice, bob):
        admin.ok(admin.post(f"/teams/{team}/members", {"user_id": person.user_id}))
    ka, kb = make_key(alice), make_key(bob)
    statuses = [chat(client, token).status_code for token in (ka["key"], kb["key"], ka["key"])]
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429
    refused = chat(client, kb["key"])
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "insufficient_quota"
    assert refused.headers.get("retry-after")
    spent = admin.ok(admin.get(f"/teams/{team}"))["spend"]
    assert abs(sum(spent.values()) - 2 * COST) < 1e-9 and sum(spent.values()) <= budget
    # raising the budget lets requests through again
    admin.ok(admin.patch(f"/teams/{team}", {"max_budget_usd": 10 * budget}))
    assert chat(client, kb["key"]).status_code == 200


def test_the_cache_shows_entries_and_hits_and_is_invalidated(
    client: Any, admin: Any, make_account: Any, upstream: Any
) -> None:
    alice, bob = make_account(), make_account()
    for person in (alice, bob):
        assert chat(client, person.access_token, cache=True).status_code == 200
    assert chat(client, alice.access_token, cache=True).status_code == 200  # a hit
    assert chat(client, alice.access_token, "other", cache=True).status_code == 200

    stats = admin.ok(admin.get("/cache"))
    by_model = {row["model"]: row for row in stats["data"]}
    assert by_model["scripted"]["entries"] == 2 and by_model["other"]["entries"] == 1
    assert by_model["scripted"]["hits_today"] == 1
    assert by_model["scripted"]["bytes"] > 0 and stats["total_entries"] == 3

    gone = admin.ok(
        admin.post("/cache/invalidate", {"tenant_id": alice.user_id, "model": "scripted"})
    )
    assert gone["deleted"] == 1
    after = {row["model"]: row["entries"] for row in admin.ok(admin.get("/cache"))["data"]}
    assert after == {"scripted": 1, "other": 1}
    assert admin.ok(admin.post("/cache/invalidate", {"model": "other"}))["deleted"] == 1
    audit = admin.ok(admin.get("/audit"))["data"]
    assert [r["action"] for r in audit[:2]] == ["cache.invalidate", "cache.invalidate"]
    assert audit[1]["after"] == {"tenant_id": alice.user_id, "model": "scripted", "deleted": 1}


def test_providers_show_each_deployment_its_breaker_and_error_rate(
    client: Any, admin: Any, make_account: Any, upstream: Any
) -> None:
    user = make_account()
    upstream.failures["primary"] = [
        UpstreamUnavailableError("down", provider="sagemaker") for _ in range(5)
    ]
    for _ in range(5):  # the primary fails, the fallback answers
        assert chat(client, user.access_token).status_code == 200
    rows = {(r["model"], r["deployment"]): r for r in admin.ok(admin.get("/providers"))["data"]}
    assert set(rows) == {
        ("scripted", "sagemaker:primary"),
        ("scripted", "sagemaker:fallback"),
        ("other", "sagemaker:primary"),
    }
    primary = rows[("scripted", "sagemaker:primary")]
    assert primary["configured"] is True
    assert primary["circuit_state"] == "open"
    assert primary["recent_error_rate"] == 1.0 and primary["recent_calls"] == 5
    fallback = rows[("scripted", "sagemaker:fallback")]
    assert (fallback["circuit_state"], fallback["recent_error_rate"]) == ("closed", 0.0)


def test_spending_a_keys_budget_through_the_api_mails_its_owner_at_80_and_100_percent(
    aws: Any, client: Any, make_account: Any, make_key: Any, upstream: Any
) -> None:
    owner = make_account("spender@example.com")
    # Ten reservations' worth: requests are admitted until less than one reservation is left,
    # so the real spend crosses 80 % on the way (and 100 % only if a request overshoots).
    key = make_key(owner, max_budget_usd=round(10 * RESERVE, 8), budget_period="day")
    aws.mail()  # whatever sign-up sent
    statuses = [chat(client, key["key"]).status_code for _ in range(40)]
    assert 429 in statuses
    spent = statuses.index(429) * COST
    alerts = [m for m in aws.mail() if m["template"] == "budget_alert"]
    crossed = [80] + ([100] if spent >= 10 * RESERVE else [])
    assert [m["context"]["percent"] for m in alerts] == crossed  # once each, never per request
    assert {m["to"] for m in alerts} == {"spender@example.com"}
    assert alerts[0]["context"]["level"] == "key"
