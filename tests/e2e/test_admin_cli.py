"""The admin CLI against the running local stack (it finds the API and the superuser key in the
stack's state file): a team with a budget refuses requests once it is spent, and the usage table
shows what was spent."""

from __future__ import annotations

import json
import uuid
from typing import Any

import openai
import pytest

from tests.e2e.test_cli import cli


def test_the_cli_creates_a_team_with_a_budget_that_the_gateway_enforces(
    local_stack: dict[str, Any],
) -> None:
    email = f"team-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        cli(local_stack, "create-user", email, "--password", "a long cli passphrase").returncode
        == 0
    )
    key_run = cli(local_stack, "create-key", email)
    assert key_run.returncode == 0, key_run.stderr
    key = key_run.stdout.strip()

    # A budget that one tiny request fits (it reserves < $0.000001) and no second one.
    created = cli(
        local_stack, "teams", "create", "e2e-team", "--budget", "0.000001", "--period", "day"
    )
    assert created.returncode == 0, created.stderr
    team = json.loads(created.stdout)
    assert (team["name"], team["max_budget_usd"], team["budget_period"]) == (
        "e2e-team",
        0.000001,
        "day",
    )
    joined = cli(local_stack, "teams", "add-member", team["id"], email)
    assert joined.returncode == 0, joined.stderr
    assert email in joined.stdout
    listed = cli(local_stack, "teams", "list")
    assert team["id"] in listed.stdout and "e2e-team" in listed.stdout

    client = openai.OpenAI(base_url=local_stack["api_url"] + "/v1", api_key=key, max_retries=0)
    answered = 0
    with pytest.raises(openai.RateLimitError) as refused:
        for _ in range(5):
            client.chat.completions.create(
                model="smollm2",
                messages=[{"role": "user", "content": "Hi"}],
                max_tokens=4,
                extra_headers={"Cache-Control": "no-cache"},
            )
            answered += 1
    assert answered == 1
    assert refused.value.code == "insufficient_quota"
    assert "team" in refused.value.message

    usage = cli(local_stack, "usage", "--team", team["id"], "--by", "model")
    assert usage.returncode == 0, usage.stderr
    lines = usage.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["model", "requests"]
    assert lines[1].split()[:2] == ["smollm2", "1"]
    assert lines[-1].split()[:2] == ["total", "1"]

    keys = cli(local_stack, "keys", "list", "--team", team["id"])
    assert keys.returncode == 0 and len(keys.stdout.strip().splitlines()) == 2
    key_id = keys.stdout.strip().splitlines()[1].split()[0]
    assert cli(local_stack, "keys", "revoke", key_id).returncode == 0
    with pytest.raises(openai.AuthenticationError):
        client.models.list()

    nobody = cli(local_stack, "users", "deactivate", "nobody@example.com")
    assert nobody.returncode == 2 and nobody.stderr.startswith("error:")
