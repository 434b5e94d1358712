"""An admin change and its audit record land together or not at all: each `/v1/admin/*` mutation
is ONE `TransactWriteItems` with the record's Put. When that transaction fails (the whole call
throttled, or DynamoDB cancelling it over the audit item's capacity) the client gets a 503 with
`Retry-After` and every table is as it was, so a retry does the change once: one team, one record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.admin.conftest import Admin

AUDITED = ("users_table", "api_keys_table", "teams_table", "audit_table")


@dataclass
class TransactionFaults:
    """Answers the next `TransactWriteItems` with a failure instead of calling DynamoDB:
    `throttle` (the call throttled) or `audit_item` (cancelled, `ThrottlingError` on the audit
    Put, as DynamoDB answers when one item of a transaction is over its capacity)."""

    mode: str | None = None
    audit_table: str = "ic-audit"
    fired: list[list[str]] = field(default_factory=list)  # the tables of each failed call

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        if self.mode is None or model.name != "TransactWriteItems":
            return None
        items = json.loads(params["body"])["TransactItems"]
        tables = [next(iter(item.values()))["TableName"] for item in items]
        self.fired.append(tables)
        from botocore.awsrequest import AWSResponse
        from botocore.compat import HTTPHeaders

        url = "https://dynamodb.us-east-1.amazonaws.com/"
        response = AWSResponse(url, 400, HTTPHeaders(), None)
        if self.mode == "throttle":
            error = {"Code": "ThrottlingException", "Message": "injected"}
            return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}
        reasons = [
            {"Code": "ThrottlingError", "Message": "injected"}
            if "Put" in item and item["Put"]["TableName"] == self.audit_table
            else {"Code": "None"}
            for item in items
        ]
        error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
        return response, {
            "Error": error,
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }


@pytest.fixture
def faults(aws: Any) -> Iterator[TransactionFaults]:
    """Hooks every botocore DynamoDB client the app builds from here on (the models' too)."""
    from botocore.session import Session

    from inference_core.db.models import ALL_MODELS

    hook = TransactionFaults()
    original = Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb", hook)
        return client

    Session.create_client = create_client  # type: ignore[method-assign]
    for model in ALL_MODELS:
        model._connection = None  # the next call builds a client through the hook
    try:
        yield hook
    finally:
        Session.create_client = original  # type: ignore[method-assign]
        for model in ALL_MODELS:
            model._connection = None


def _state(aws: Any) -> dict[str, list[str]]:
    from inference_core.settings import get_settings

    tables = get_settings().tables
    return {
        name: sorted(json.dumps(item, sort_keys=True) for item in aws.scan(getattr(tables, name)))
        for name in AUDITED
    }


def _records(aws: Any) -> list[dict[str, Any]]:
    from inference_core.settings import get_settings

    return aws.scan(get_settings().tables.audit_table)


Request = tuple[str, str, dict[str, Any] | None]


@dataclass
class Case:
    action: str
    build: Callable[[Admin, Any, Callable[..., Any]], Request]


def _team(admin: Admin, name: str = "t") -> str:
    return str(admin.ok(admin.post("/teams", {"name": name}), 201)["id"])


def _member(admin: Admin, make_account: Callable[..., Any]) -> tuple[str, str]:
    team_id, user = _team(admin), make_account()
    admin.ok(admin.post(f"/teams/{team_id}/members", {"user_id": user.user_id}))
    return team_id, user.user_id


def _key(admin: Admin, make_account: Callable[..., Any], make_key: Callable[..., Any]) -> str:
    return str(make_key(make_account())["id"])


CASES = {
    "create team": Case(
        "team.create", lambda a, mk, k: ("POST", "/teams", {"name": "research", "rpm_limit": 100})
    ),
    "update team": Case(
        "team.update",
        lambda a, mk, k: ("PATCH", f"/teams/{_team(a)}", {"name": "renamed", "tpm_limit": 5}),
    ),
    "delete team": Case(
        "team.delete", lambda a, mk, k: ("DELETE", f"/teams/{_member(a, mk)[0]}", None)
    ),
    "add member": Case(
        "team.add_member",
        lambda a, mk, k: ("POST", f"/teams/{_team(a)}/members", {"user_id": mk().user_id}),
    ),
    "remove member": Case(
        "team.remove_member",
        lambda a, mk, k: ("DELETE", "/teams/{}/members/{}".format(*_member(a, mk)), None),
    ),
    "update user": Case(
        "user.update",
        lambda a, mk, k: ("PATCH", f"/users/{mk().user_id}", {"role": "superuser", "rpm_limit": 7}),
    ),
    "update key": Case(
        "key.update",
        lambda a, mk, k: ("PATCH", f"/keys/{_key(a, mk, k)}", {"name": "ci", "rpm_limit": 3}),
    ),
    "revoke key": Case("key.revoke", lambda a, mk, k: ("DELETE", f"/keys/{_key(a, mk, k)}", None)),
}


def _send(admin: Admin, request: Request) -> Any:
    method, path, body = request
    return admin.client.request(method, f"/v1/admin{path}", json=body, headers=admin.headers)


@pytest.mark.parametrize("mode", ["throttle", "audit_item"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_failed_audit_write_is_a_503_that_changed_nothing_and_a_retry_lands_once(
    admin: Admin,
    aws: Any,
    faults: TransactionFaults,
    make_account: Callable[..., Any],
    make_key: Callable[..., Any],
    name: str,
    mode: str,
) -> None:
    case = CASES[name]
    request = case.build(admin, make_account, make_key)
    before = _state(aws)

    faults.mode = mode
    failed = _send(admin, request)
    faults.mode = None

    assert failed.status_code == 503, failed.text
    assert failed.headers["retry-after"] == "1"
    assert failed.json()["error"]["type"]
    # The change and its record were one transaction (the audit Put was in the failed call).
    assert len(faults.fired) == 1 and "ic-audit" in faults.fired[0], faults.fired
    assert _state(aws) == before  # nothing happened: no team, no role, no revocation

    retried = _send(admin, request)
    assert retried.status_code < 300, retried.text
    new = [r for r in _records(aws) if json.dumps(r, sort_keys=True) not in before["audit_table"]]
    assert [r["action"]["S"] for r in new] == [case.action]


def test_one_team_after_a_failed_create_and_its_retry(
    admin: Admin, aws: Any, faults: TransactionFaults
) -> None:
    faults.mode = "audit_item"
    assert admin.post("/teams", {"name": "research"}).status_code == 503
    faults.mode = None
    assert admin.ok(admin.get("/teams"))["data"] == []

    team = admin.ok(admin.post("/teams", {"name": "research"}), 201)
    teams = admin.ok(admin.get("/teams"))["data"]
    assert [t["id"] for t in teams] == [team["id"]]
    records = admin.ok(admin.get("/audit"))["data"]
    assert [(r["action"], r["target_id"]) for r in records] == [("team.create", team["id"])]


def test_each_change_writes_exactly_one_record_whose_after_is_what_was_written(
    admin: Admin, make_account: Callable[..., Any], make_key: Callable[..., Any]
) -> None:
    """The "after" view is computed before the commit: it must be what a read shows after it."""

    def settings_of(view: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in view.items() if k not in ("spend", "object", "members")}

    def only_record(target_id: str) -> dict[str, Any]:
        records = admin.ok(admin.get("/audit", target_id=target_id))["data"]
        return dict(records[0]) | {"count": len(records)}

    team_id = _team(admin)
    admin.ok(
        admin.patch(
            f"/teams/{team_id}",
            {"name": "renamed", "max_budget_usd": 2.5, "allowed_models": ["scripted"]},
        )
    )
    record = only_record(team_id)
    assert (record["action"], record["count"]) == ("team.update", 2)
    assert record["after"] == settings_of(admin.ok(admin.get(f"/teams/{team_id}")))
    assert record["after"]["name"] == "renamed" and record["before"]["name"] == "t"

    owner = make_account()
    key_id = str(make_key(owner)["id"])
    admin.ok(admin.patch(f"/users/{owner.user_id}", {"role": "superuser", "tpm_limit": 9}))
    record = only_record(owner.user_id)
    assert (record["action"], record["count"]) == ("user.update", 1)
    assert record["after"] == settings_of(admin.ok(admin.get(f"/users/{owner.user_id}")))
    assert (record["after"]["role"], record["after"]["tpm_limit"]) == ("superuser", 9)

    admin.ok(admin.patch(f"/keys/{key_id}", {"name": "ci", "guardrails": {"pii.email": "block"}}))
    record = only_record(key_id)
    key = next(k for k in admin.ok(admin.get("/keys"))["data"] if k["id"] == key_id)
    assert (record["action"], record["count"]) == ("key.update", 1)
    assert record["after"] == settings_of(key)
    assert record["after"]["guardrails"] == {"pii.email": "block"}

    # A revocation once, then again (a client's retry): one record, the key revoked.
    for _ in range(2):
        assert admin.delete(f"/keys/{key_id}").status_code == 200
    record = only_record(key_id)
    assert (record["action"], record["count"]) == ("key.revoke", 2)
    key = next(k for k in admin.ok(admin.get("/keys"))["data"] if k["id"] == key_id)
    assert key["revoked"] is True


def test_a_role_change_reaches_the_users_keys_in_the_same_transaction(
    admin: Admin,
    aws: Any,
    faults: TransactionFaults,
    make_account: Callable[..., Any],
    make_key: Callable[..., Any],
) -> None:
    owner = make_account()
    key = make_key(owner)
    faults.mode = "throttle"
    assert admin.patch(f"/users/{owner.user_id}", {"role": "superuser"}).status_code == 503
    faults.mode = None
    assert [sorted(tables) for tables in faults.fired] == [["ic-api-keys", "ic-audit", "ic-users"]]
    from inference_core.settings import get_settings

    keys = aws.scan(get_settings().tables.api_keys_table)
    assert {k["owner_role"]["S"] for k in keys if k["key_id"]["S"] == key["id"]} == {"user"}

    admin.ok(admin.patch(f"/users/{owner.user_id}", {"role": "superuser"}))
    keys = aws.scan(get_settings().tables.api_keys_table)
    assert {k["owner_role"]["S"] for k in keys if k["key_id"]["S"] == key["id"]} == {"superuser"}
    # The promoted key reaches the admin API at once.
    listed = admin.client.get("/v1/admin/teams", headers={"Authorization": f"Bearer {key['key']}"})
    assert listed.status_code == 200, listed.text


def test_a_team_larger_than_one_transaction_is_deleted_with_a_record_per_extra_member(
    admin: Admin, auth_service: Any
) -> None:
    """100 members: 98 leave in the deletion's own transaction (with the team and its record),
    the other 2 first, each in a transaction with its own `team.remove_member` record."""
    team_id = _team(admin)
    member_ids = []
    for n in range(100):  # users who never sign in: no password hashing
        user = auth_service._new_user(
            f"m{n}@example.com", "not-a-hash", name=None, role="user", verified=True
        )
        auth_service.users.create(user)
        admin.ok(admin.post(f"/teams/{team_id}/members", {"user_id": user.user_id}))
        member_ids.append(user.user_id)

    assert admin.delete(f"/teams/{team_id}").status_code == 200

    assert admin.get(f"/teams/{team_id}").status_code == 404
    teams = {admin.ok(admin.get(f"/users/{user_id}"))["team_id"] for user_id in member_ids}
    assert teams == {None}
    deleted = admin.ok(admin.get("/audit", target_id=team_id))["data"][0]
    assert deleted["action"] == "team.delete"
    assert len(deleted["before"]["members"]) == 100
    left = [
        r["action"]
        for user_id in member_ids
        for r in admin.ok(admin.get("/audit", target_id=user_id))["data"]
    ]
    assert left.count("team.remove_member") == 2
    assert left.count("team.add_member") == 100
