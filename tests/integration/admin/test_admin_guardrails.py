"""Guardrail policies set through the admin API on a team and on a key (moto, in-process): a team's
`block` refuses a member's request before any provider sees it, a key's `redact` overrides it and
the provider sees the placeholder, a bad policy is a 400 naming the check, changes are audited,
and the policies ride on the items the resolution already reads (no extra DynamoDB call)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.admin.test_admin_usage_cache_providers import _count_dynamodb_calls

EMAIL_PROMPT = "Please write to ada.lovelace@example.com about the invoice."


def ask(
    client: Any, token: str, content: str = EMAIL_PROMPT, path: str = "/v1/chat/completions"
) -> Any:
    body = {
        "model": "scripted",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": content}],
    }
    headers = {"Authorization": f"Bearer {token}", "Cache-Control": "no-cache"}
    return client.post(path, json=body, headers=headers)


def seen_by_provider(upstream: Any) -> str:
    return str(upstream.requests[-1].messages[-1]["content"])


@pytest.fixture
def member(admin: Any, make_account: Any, make_key: Any, upstream: Any) -> Any:
    """A team whose policy blocks emails (set at creation), with one member and their key."""
    team = admin.ok(
        admin.post("/teams", {"name": "legal", "guardrails": {"pii.email": "block"}}), 201
    )
    person = make_account()
    admin.ok(admin.post(f"/teams/{team['id']}/members", {"user_id": person.user_id}))
    key = make_key(person, name="work")

    class Member:
        team_id = team["id"]
        key_id = key["id"]
        secret = key["key"]
        account = person

    return Member


def test_a_team_block_refuses_a_members_request_before_the_provider(
    client: Any, admin: Any, member: Any, upstream: Any
) -> None:
    assert admin.ok(admin.get(f"/teams/{member.team_id}"))["guardrails"] == {"pii.email": "block"}
    refused = ask(client, member.secret)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "guardrail_blocked" and "pii.email" in error["message"]
    assert "ada.lovelace" not in refused.text
    # Anthropic's door answers in Anthropic's format
    anthropic = ask(client, member.secret, path="/v1/messages")
    assert anthropic.status_code == 400 and anthropic.json()["type"] == "error"
    assert "pii.email" in anthropic.json()["error"]["message"]
    assert upstream.calls == []
    # a warm blocked request makes no DynamoDB call at all (refused before the admission)
    operations = _count_dynamodb_calls()
    assert ask(client, member.secret).status_code == 400
    assert operations == []
    # the member's JWT session is the team's too; a clean prompt goes through
    assert ask(client, member.account.access_token).status_code == 400
    assert ask(client, member.secret, "Say hi").status_code == 200
    assert upstream.calls == ["primary"]


def test_a_key_redact_overrides_the_team_and_the_provider_sees_the_placeholder(
    client: Any, admin: Any, member: Any, upstream: Any
) -> None:
    updated = admin.ok(admin.patch(f"/keys/{member.key_id}", {"guardrails": {"pii": "redact"}}))
    assert updated["guardrails"] == {"pii": "redact"}
    listed = admin.ok(admin.get("/keys", user_id=member.account.user_id))["data"]
    assert [k["guardrails"] for k in listed] == [{"pii": "redact"}]
    answered = ask(client, member.secret)
    assert answered.status_code == 200, answered.text
    assert seen_by_provider(upstream) == "Please write to [EMAIL] about the invoice."
    assert "pii.email" in answered.headers["x-ic-guardrails"]
    # the member's JWT has no key policy: the team's block still holds for it
    assert ask(client, member.account.access_token).status_code == 400
    # removing the key's policy brings the team's back
    cleared = admin.ok(admin.patch(f"/keys/{member.key_id}", {"guardrails": None}))
    assert cleared["guardrails"] is None
    assert ask(client, member.secret).status_code == 400


def test_changing_and_removing_a_team_policy_applies_at_once_and_is_audited(
    client: Any, admin: Any, member: Any, upstream: Any
) -> None:
    changed = admin.ok(
        admin.patch(f"/teams/{member.team_id}", {"guardrails": {"pii.email": "redact"}})
    )
    assert changed["guardrails"] == {"pii.email": "redact"}
    assert ask(client, member.secret).status_code == 200
    assert "[EMAIL]" in seen_by_provider(upstream)
    # a PATCH that does not name the policy keeps it
    admin.ok(admin.patch(f"/teams/{member.team_id}", {"rpm_limit": 100}))
    assert admin.ok(admin.get(f"/teams/{member.team_id}"))["guardrails"] == {"pii.email": "redact"}
    admin.ok(admin.patch(f"/teams/{member.team_id}", {"guardrails": {}}))
    assert ask(client, member.secret).status_code == 200
    assert seen_by_provider(upstream) == EMAIL_PROMPT  # the deployment default does not touch PII
    records = admin.ok(admin.get("/audit", target_id=member.team_id))["data"]
    updates = [r for r in records if r["action"] == "team.update"]
    policies = [(r["before"]["guardrails"], r["after"]["guardrails"]) for r in reversed(updates)]
    assert policies == [
        ({"pii.email": "block"}, {"pii.email": "redact"}),
        ({"pii.email": "redact"}, {"pii.email": "redact"}),
        ({"pii.email": "redact"}, None),
    ]
    created = admin.ok(admin.get("/audit", target_id=member.team_id))["data"][-1]
    assert created["action"] == "team.create"
    assert created["after"]["guardrails"] == {"pii.email": "block"}


@pytest.mark.parametrize(
    ("policy", "named"),
    [({"pii_email": "block"}, "pii_email"), ({"pii.email": "refuse"}, "pii.email")],
)
def test_a_bad_policy_is_a_400_naming_the_check(
    admin: Any, member: Any, policy: dict[str, str], named: str
) -> None:
    for response in (
        admin.post("/teams", {"name": "bad", "guardrails": policy}),
        admin.patch(f"/teams/{member.team_id}", {"guardrails": policy}),
        admin.patch(f"/keys/{member.key_id}", {"guardrails": policy}),
    ):
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert named in error["message"] and error["param"] == "guardrails"
    # nothing changed
    assert admin.ok(admin.get(f"/teams/{member.team_id}"))["guardrails"] == {"pii.email": "block"}
    assert [t["name"] for t in admin.ok(admin.get("/teams"))["data"]] == ["legal"]


def test_policies_ride_on_the_items_the_resolution_reads(
    client: Any, admin: Any, member: Any, make_account: Any, make_key: Any, upstream: Any
) -> None:
    plain = make_key(make_account())["key"]  # no team, no policy: the baseline
    admin.ok(admin.patch(f"/keys/{member.key_id}", {"guardrails": {"pii": "redact"}}))
    counts = []
    for token in (plain, member.secret):
        assert ask(client, token).status_code == 200  # resolves key → user (→ team), cached
        operations = _count_dynamodb_calls()
        assert ask(client, token).status_code == 200
        counts.append(sorted(operations))
    assert "[EMAIL]" in seen_by_provider(upstream)
    # no-cache: the admission, then the settle; the policies add nothing
    assert counts == [["TransactWriteItems", "TransactWriteItems"]] * 2


def test_embedding_inputs_get_the_team_and_key_policies(
    client: Any, admin: Any, member: Any, upstream: Any
) -> None:
    def embed(*inputs: str) -> Any:
        return client.post(
            "/v1/embeddings",
            json={"model": "scripted", "input": list(inputs)},
            headers={"Authorization": f"Bearer {member.secret}"},
        )

    refused = embed("plain", EMAIL_PROMPT)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "guardrail_blocked" and "pii.email" in error["message"]
    assert "ada.lovelace" not in refused.text
    assert upstream.calls == []

    admin.ok(admin.patch(f"/keys/{member.key_id}", {"guardrails": {"pii": "redact"}}))
    answered = embed(EMAIL_PROMPT)
    assert answered.status_code == 200, answered.text
    # the scripted upstream's vector starts with the length of the text it embedded
    redacted = "Please write to [EMAIL] about the invoice."
    assert answered.json()["data"][0]["embedding"][0] == float(len(redacted))
    assert "pii.email" in answered.headers["x-ic-guardrails"]
