"""Users, teams and keys through the admin API: pagination, filters, every limit field, membership
rules, and an audit record (who, what, before → after, when) for every change."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.admin.conftest import chat


def _audit(admin: Any, **params: Any) -> list[dict[str, Any]]:
    body = admin.ok(admin.get("/audit", limit=100, **params))
    rows: list[dict[str, Any]] = body["data"]
    return rows


def test_users_are_paginated_filtered_and_patched_with_an_audit_record(
    client: Any, admin: Any, make_account: Any
) -> None:
    people = [make_account(f"p{i}@example.com") for i in range(4)]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"after": after} if after else {})
        page = admin.ok(admin.get("/users", **params))
        pages += 1
        assert len(page["data"]) <= 2
        seen += [u["id"] for u in page["data"]]
        if not page["has_more"]:
            assert page["after"] is None
            break
        after = page["after"]
        assert after == page["data"][-1]["id"]
    assert pages == 3
    assert sorted(seen) == sorted([p.user_id for p in people] + [admin.user_id])

    found = admin.ok(admin.get("/users", email="P2@example.com"))
    assert [u["id"] for u in found["data"]] == [people[2].user_id]
    assert found["has_more"] is False

    target = people[1]
    started = time.time()
    changed = admin.ok(
        admin.patch(
            f"/users/{target.user_id}",
            {
                "rpm_limit": 7,
                "tpm_limit": 900,
                "max_parallel_requests": 2,
                "max_budget_usd": 1.5,
                "budget_period": "day",
                "allowed_models": ["scripted"],
                "role": "superuser",
            },
        )
    )
    assert changed["role"] == "superuser"
    assert (changed["rpm_limit"], changed["tpm_limit"], changed["max_parallel_requests"]) == (
        7,
        900,
        2,
    )
    assert (changed["max_budget_usd"], changed["budget_period"]) == (1.5, "day")
    assert changed["allowed_models"] == ["scripted"]
    assert admin.ok(admin.get(f"/users/{target.user_id}")) == changed
    # null clears a limit
    cleared = admin.ok(admin.patch(f"/users/{target.user_id}", {"max_budget_usd": None}))
    assert cleared["max_budget_usd"] is None and cleared["rpm_limit"] == 7

    records = _audit(admin, target_id=target.user_id)
    assert [r["action"] for r in records] == ["user.update", "user.update"]
    first = records[-1]
    assert first["actor_id"] == admin.user_id
    assert first["before"]["role"] == "user" and first["after"]["role"] == "superuser"
    assert first["before"]["rpm_limit"] == 60 and first["after"]["rpm_limit"] == 7  # the default
    assert started - 1 <= first["at"] <= time.time() + 1


def test_a_demoted_superusers_keys_lose_the_role(
    client: Any, admin: Any, make_account: Any, make_key: Any
) -> None:
    other = make_account(superuser=True)
    key = {"Authorization": f"Bearer {make_key(other)['key']}"}
    assert client.get("/v1/admin/users", headers=key).status_code == 200
    admin.ok(admin.patch(f"/users/{other.user_id}", {"role": "user"}))
    assert client.get("/v1/admin/users", headers=key).status_code == 403


def test_a_deactivated_user_is_refused_at_once(client: Any, admin: Any, make_account: Any) -> None:
    user = make_account()
    assert client.get("/v1/auth/me", headers=user.auth).status_code == 200
    body = admin.ok(admin.patch(f"/users/{user.user_id}", {"active": False}))
    assert body["active"] is False
    assert client.get("/v1/auth/me", headers=user.auth).status_code == 401
    # a superuser cannot lock themselves out
    response = admin.patch(f"/users/{admin.user_id}", {"active": False})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "self_lockout"


def test_teams_are_created_listed_changed_joined_and_deleted(
    client: Any, admin: Any, make_account: Any, aws: Any
) -> None:
    alice, bob = make_account(), make_account()
    created = admin.post("/teams", {"name": "research", "max_budget_usd": 10, "rpm_limit": 100})
    team = admin.ok(created, 201)
    team_id = team["id"]
    assert team_id.startswith("team_")
    assert (team["name"], team["max_budget_usd"], team["budget_period"]) == ("research", 10.0, None)
    other = admin.ok(admin.post("/teams", {"name": "ops"}), 201)

    names = [t["name"] for t in admin.ok(admin.get("/teams"))["data"]]
    assert sorted(names) == ["ops", "research"]
    first = admin.ok(admin.get("/teams", limit=1))
    assert first["has_more"] is True
    second = admin.ok(admin.get("/teams", limit=1, after=first["after"]))
    assert {first["data"][0]["id"], second["data"][0]["id"]} == {team_id, other["id"]}

    changed = admin.ok(
        admin.patch(f"/teams/{team_id}", {"name": "research-2", "budget_period": "month"})
    )
    assert (changed["name"], changed["budget_period"], changed["rpm_limit"]) == (
        "research-2",
        "month",
        100,
    )

    joined = admin.ok(admin.post(f"/teams/{team_id}/members", {"user_id": alice.user_id}))
    assert [m["id"] for m in joined["members"]] == [alice.user_id]
    admin.ok(admin.post(f"/teams/{team_id}/members", {"user_id": bob.user_id}))
    # at most one team per user
    refused = admin.post(f"/teams/{other['id']}/members", {"user_id": alice.user_id})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "user_in_another_team"
    assert admin.ok(admin.get(f"/users/{alice.user_id}"))["team_id"] == team_id

    left = admin.ok(admin.delete(f"/teams/{team_id}/members/{bob.user_id}"))
    assert [m["id"] for m in left["members"]] == [alice.user_id]
    assert admin.delete(f"/teams/{team_id}/members/{bob.user_id}").status_code == 404

    assert admin.ok(admin.delete(f"/teams/{team_id}"))["deleted"] is True
    assert admin.get(f"/teams/{team_id}").status_code == 404
    assert [t["id"] for t in admin.ok(admin.get("/teams"))["data"]] == [other["id"]]
    assert admin.ok(admin.get(f"/users/{alice.user_id}"))["team_id"] is None
    # free to join another team now
    admin.ok(admin.post(f"/teams/{other['id']}/members", {"user_id": alice.user_id}))

    actions = [r["action"] for r in _audit(admin, target_id=team_id)]
    assert actions == ["team.delete", "team.update", "team.create"]
    create = _audit(admin, target_id=team_id)[-1]
    assert create["before"] is None and create["after"]["max_budget_usd"] == 10.0
    membership = [r["action"] for r in _audit(admin, target_id=alice.user_id)]
    assert membership == ["team.add_member", "team.add_member"]


def test_keys_are_listed_by_user_and_team_changed_and_revoked(
    client: Any, admin: Any, make_account: Any, make_key: Any, upstream: Any
) -> None:
    alice, bob = make_account(), make_account()
    a1, a2, b1 = make_key(alice, name="a1"), make_key(alice, name="a2"), make_key(bob, name="b1")
    team = admin.ok(admin.post("/teams", {"name": "t"}), 201)
    admin.ok(admin.post(f"/teams/{team['id']}/members", {"user_id": bob.user_id}))

    mine = admin.ok(admin.get("/keys", user_id=alice.user_id))
    assert sorted(k["id"] for k in mine["data"]) == sorted([a1["id"], a2["id"]])
    assert all(k["user_id"] == alice.user_id for k in mine["data"])
    assert "key" not in mine["data"][0] and "key_hash" not in mine["data"][0]
    in_team = admin.ok(admin.get("/keys", team_id=team["id"]))
    assert [k["id"] for k in in_team["data"]] == [b1["id"]]
    page = admin.ok(admin.get("/keys", limit=2))
    rest = admin.ok(admin.get("/keys", limit=2, after=page["after"]))
    assert page["has_more"] and not rest["has_more"]
    assert len({k["id"] for k in page["data"] + rest["data"]}) == 3

    changed = admin.ok(admin.patch(f"/keys/{a1['id']}", {"rpm_limit": 1, "max_budget_usd": 2}))
    assert (changed["rpm_limit"], changed["max_budget_usd"]) == (1, 2.0)
    assert chat(client, a1["key"]).status_code == 200
    limited = chat(client, a1["key"])
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"

    assert admin.ok(admin.delete(f"/keys/{a2['id']}"))["deleted"] is True
    assert chat(client, a2["key"]).status_code == 401
    revoked = [k for k in admin.ok(admin.get("/keys", user_id=alice.user_id))["data"]]
    assert {k["id"]: k["revoked"] for k in revoked}[a2["id"]] is True
    assert admin.delete("/keys/nope").status_code == 404

    records = _audit(admin, target_id=a2["id"])
    assert records[0]["action"] == "key.revoke"
    assert records[0]["before"]["revoked"] is False and records[0]["after"]["revoked"] is True


def test_the_audit_log_pages_newest_first(admin: Any) -> None:
    ids = [admin.ok(admin.post("/teams", {"name": f"t{i}"}), 201)["id"] for i in range(5)]
    seen: list[str] = []
    after = None
    while True:
        page = admin.ok(admin.get("/audit", limit=2, **({"after": after} if after else {})))
        seen += [r["target_id"] for r in page["data"]]
        if not page["has_more"]:
            break
        after = page["after"]
    assert seen == list(reversed(ids))
    assert admin.get("/audit", after="garbage").status_code == 400
