"""`inference-core teams|keys ... --guardrails` against the in-process app (moto): the CLI's
policy reaches the team and the key through the admin API, the gateway enforces it (a team's
`block` refuses before the provider, a key's `redact` sends the placeholder), `none` removes it,
and a bad policy is refused by the CLI with the API's own message before anything is sent."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inference_core import cli
from inference_core.admin_cli import AdminClient
from tests.integration.admin.test_admin_guardrails import EMAIL_PROMPT, ask, seen_by_provider

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    client: Any, admin: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """The CLI's `main`, talking to the in-process app with the superuser's token (the CLI's
    HTTP client is swapped for a TestClient with the same base URL and header: the installed
    Starlette's test transport belongs to another HTTP library than the CLI's httpx)."""
    token = admin.headers["Authorization"].removeprefix("Bearer ")

    def connect(cls: type[AdminClient], args: Any) -> AdminClient:
        connected = cls("http://testserver", token)
        connected._http = TestClient(
            client.app,
            base_url="http://testserver/v1/admin",
            headers={"Authorization": f"Bearer {token}"},
            raise_server_exceptions=False,
        )
        return connected

    monkeypatch.setattr(AdminClient, "from_args", classmethod(connect))

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
            if isinstance(exit_.code, str):
                print(exit_.code, file=sys.stderr)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_team_and_key_policies_set_by_the_cli_are_enforced_and_removable(
    run: Run, client: Any, admin: Any, make_account: Any, make_key: Any, upstream: Any
) -> None:
    code, out, err = run("teams", "create", "legal", "--guardrails", "pii.email=block")
    assert code == 0, err
    team = json.loads(out)
    assert team["guardrails"] == {"pii.email": "block"}
    person = make_account()
    assert run("teams", "add-member", team["id"], person.email)[0] == 0
    key = make_key(person, name="work")

    refused = ask(client, key["key"])
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "guardrail_blocked"
    assert upstream.calls == []

    code, out, err = run("keys", "set-limits", key["id"], "--guardrails", '{"pii": "redact"}')
    assert code == 0, err
    assert "pii=redact" in out.splitlines()[1]
    assert ask(client, key["key"]).status_code == 200
    assert seen_by_provider(upstream) == "Please write to [EMAIL] about the invoice."
    listed = run("keys", "list", "--team", team["id"])[1]
    assert "pii=redact" in listed.splitlines()[1]

    # removing the key's policy brings the team's block back; removing the team's lets it through
    assert run("keys", "set-limits", key["id"], "--guardrails", "none")[0] == 0
    assert ask(client, key["key"]).status_code == 400
    code, out, err = run("teams", "set-limits", team["id"], "--guardrails", "none", "--rpm", "50")
    assert code == 0, err
    shown = admin.ok(admin.get(f"/teams/{team['id']}"))
    assert (shown["guardrails"], shown["rpm_limit"]) == (None, 50)
    assert ask(client, key["key"]).status_code == 200
    assert seen_by_provider(upstream) == EMAIL_PROMPT

    # a limits-only change keeps the policy
    assert run("teams", "set-limits", team["id"], "--guardrails", "injection=block")[0] == 0
    assert run("teams", "set-limits", team["id"], "--budget", "5")[0] == 0
    assert admin.ok(admin.get(f"/teams/{team['id']}"))["guardrails"] == {"injection": "block"}
    audit = admin.ok(admin.get("/audit", target_id=team["id"]))["data"]
    assert audit[-1]["action"] == "team.create"
    assert audit[-1]["after"]["guardrails"] == {"pii.email": "block"}


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("pii_email=block", "unknown guardrail check 'pii_email'"),
        ("pii.email=refuse", "'pii.email' must be off, detect, redact or block"),
        ("pii.email", "check=mode pairs"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_policy_is_refused_by_the_cli_before_anything_is_sent(
    run: Run, admin: Any, flag: str, message: str
) -> None:
    team = admin.ok(admin.post("/teams", {"name": "t", "guardrails": {"pii": "detect"}}), 201)
    before = admin.ok(admin.get("/audit", target_id=team["id"]))["data"]
    for argv in (
        ("teams", "set-limits", team["id"], "--guardrails", flag),
        ("teams", "create", "other", "--guardrails", flag),
        ("keys", "set-limits", "key_x", "--guardrails", flag),
    ):
        code, out, err = run(*argv)
        assert code != 0 and out == ""
        assert message in err and "--guardrails" in err
    assert admin.ok(admin.get(f"/teams/{team['id']}"))["guardrails"] == {"pii": "detect"}
    assert admin.ok(admin.get("/audit", target_id=team["id"]))["data"] == before
    assert [t["name"] for t in admin.ok(admin.get("/teams"))["data"]] == ["t"]
