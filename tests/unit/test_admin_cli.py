"""The admin CLI's own parts: limit flags to a PATCH body (`none` clears), the usage table, and how
it finds the API (flags, environment, the local stack's state file), with no network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inference_core.admin_cli import AdminClient, guardrails_from, limits_from, table
from inference_core.cli import build_parser


def _args(*argv: str) -> Any:
    return build_parser().parse_args(list(argv))


def test_limit_flags_become_the_fields_they_name_and_none_clears() -> None:
    args = _args(
        "teams", "set-limits", "team_1", "--budget", "5.5", "--rpm", "none", "--models", "a, b"
    )
    assert limits_from(args) == {
        "max_budget_usd": 5.5,
        "rpm_limit": None,
        "allowed_models": ["a", "b"],
    }
    assert limits_from(_args("keys", "set-limits", "key_1")) == {}
    with pytest.raises(SystemExit):
        limits_from(_args("users", "set-limits", "u", "--tpm", "lots"))


def test_the_guardrails_flag_takes_pairs_or_json_and_none_removes_the_policy() -> None:
    def flag(value: str) -> dict[str, Any]:
        return guardrails_from(_args("teams", "set-limits", "team_1", "--guardrails", value))

    assert flag("pii.email=block, injection=detect") == {
        "guardrails": {"pii.email": "block", "injection": "detect"}
    }
    assert flag('{"pii": "redact"}') == {"guardrails": {"pii": "redact"}}
    assert flag("none") == {"guardrails": None}
    assert guardrails_from(_args("keys", "set-limits", "key_1", "--rpm", "5")) == {}
    for bad in ("pii=maybe", "nope=block", "pii", '{"pii": 3}', "{"):
        with pytest.raises(SystemExit) as refused:
            flag(bad)
        assert str(refused.value.code).startswith("--guardrails")
    with pytest.raises(SystemExit):  # users carry no guardrail policy of their own
        _args("users", "set-limits", "u", "--guardrails", "pii=block")


def test_usage_flags_are_one_scope_and_a_known_grouping() -> None:
    with pytest.raises(SystemExit):
        _args("usage", "--team", "t", "--user", "u")
    with pytest.raises(SystemExit):
        _args("usage", "--by", "week")
    assert _args("usage", "--key", "k", "--by", "model").by == "model"


def test_a_table_lines_up_its_columns_and_shows_missing_values() -> None:
    text = table(
        [{"model": "smollm2", "requests": 12, "cost_usd": 0.00012}, {"model": "x", "requests": 3}],
        ["model", "requests", "cost_usd"],
    )
    assert text.splitlines() == [
        "model    requests  cost_usd",
        "smollm2  12        0.00012",
        "x        3         -",
    ]
    assert table([{"g": {"pii.email": "block", "injection": "off"}}, {"g": {}}], ["g"]).split(
        "\n"
    ) == ["g", "pii.email=block,injection=off", "-"]


def test_the_api_comes_from_flags_then_environment_then_the_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INFERENCE_CORE_BASE_URL", raising=False)
    monkeypatch.delenv("INFERENCE_CORE_API_KEY", raising=False)
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"api_url": "http://127.0.0.1:9", "api_key": "sk-ic-local"}))
    local = AdminClient.from_args(_args("--state-dir", str(tmp_path), "teams", "list"))
    assert str(local._http.base_url) == "http://127.0.0.1:9/v1/admin/"
    assert local._http.headers["authorization"] == "Bearer sk-ic-local"

    monkeypatch.setenv("INFERENCE_CORE_API_KEY", "sk-ic-env")
    flagged = AdminClient.from_args(
        _args("--state-dir", str(tmp_path), "teams", "list", "--base-url", "https://x.test/v1")
    )
    assert str(flagged._http.base_url) == "https://x.test/v1/admin/"
    assert flagged._http.headers["authorization"] == "Bearer sk-ic-env"

    monkeypatch.delenv("INFERENCE_CORE_API_KEY")
    with pytest.raises(SystemExit):  # --aws never falls back to the local stack's key
        AdminClient.from_args(
            _args("--state-dir", str(tmp_path), "teams", "list", "--aws", "--base-url", "https://x")
        )


def test_a_bad_flag_is_refused_before_the_api_is_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference_core.cli import main

    monkeypatch.delenv("INFERENCE_CORE_BASE_URL", raising=False)
    monkeypatch.delenv("INFERENCE_CORE_API_KEY", raising=False)
    for argv in (
        ["keys", "set-limits", "key_1", "--guardrails", "pii=maybe"],
        ["teams", "set-limits", "team_1", "--rpm", "lots"],
    ):
        with pytest.raises(SystemExit) as refused:  # no stack here: the flag is what is named
            main(["--state-dir", str(tmp_path), *argv])
        assert str(refused.value.code).startswith(argv[-2])
