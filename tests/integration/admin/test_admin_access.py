"""Every admin route is for superusers: anyone else gets 403 (OpenAI error body), nobody 401, and
a refused request changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

ROUTES = [
    ("GET", "/v1/admin/users", None),
    ("GET", "/v1/admin/users/u1", None),
    ("PATCH", "/v1/admin/users/u1", {"rpm_limit": 5}),
    ("POST", "/v1/admin/teams", {"name": "t"}),
    ("GET", "/v1/admin/teams", None),
    ("GET", "/v1/admin/teams/t1", None),
    ("PATCH", "/v1/admin/teams/t1", {"name": "x"}),
    ("DELETE", "/v1/admin/teams/t1", None),
    ("POST", "/v1/admin/teams/t1/members", {"user_id": "u1"}),
    ("DELETE", "/v1/admin/teams/t1/members/u1", None),
    ("GET", "/v1/admin/keys", None),
    ("PATCH", "/v1/admin/keys/k1", {"rpm_limit": 1}),
    ("DELETE", "/v1/admin/keys/k1", None),
    ("GET", "/v1/admin/usage", None),
    ("GET", "/v1/admin/cache", None),
    ("POST", "/v1/admin/cache/invalidate", {"model": "scripted"}),
    ("GET", "/v1/admin/providers", None),
    ("GET", "/v1/admin/audit", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_non_superuser_gets_403_and_nobody_gets_401(
    client: Any, make_account: Any, make_key: Any, aws: Any, method: str, path: str, body: Any
) -> None:
    user = make_account()
    key = make_key(user)["key"]
    for headers in (user.auth, {"Authorization": f"Bearer {key}"}):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "superuser_required"
        assert error["type"] == "permission_error"
    anonymous = client.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert "error" in anonymous.json()
    from inference_core.settings import get_settings

    tables = get_settings().tables
    assert aws.scan(tables.audit_table) == []
    assert aws.scan(tables.teams_table) == []


def test_bad_input_is_a_400_in_the_openai_format(admin: Any) -> None:
    for path, body in (
        ("/teams", {"name": "t", "max_budget_usd": -1}),
        ("/teams", {"name": "t", "budget_period": "week"}),
        ("/teams", {"name": "t", "surprise": 1}),
        ("/cache/invalidate", {}),
    ):
        response = admin.post(path, body)
        assert response.status_code == 400, (path, body, response.text)
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert admin.get("/users", limit=0).status_code == 400
    assert admin.get("/usage", group_by="week").json()["error"]["param"] == "group_by"
    assert admin.get("/usage", start="2026-13-01").status_code == 400
    assert admin.get("/users/nobody").status_code == 404
    assert admin.get("/teams/nothing").json()["error"]["code"] == "team_not_found"
