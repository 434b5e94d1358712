"""`inference-core teams|users|keys|usage ...`: the admin API from a terminal.

Every command is one or two HTTP calls to `/v1/admin/*` with a superuser's API key, so the CLI
obeys the same checks and leaves the same audit records as any other admin client. The API is
found in this order: `--base-url`/`--api-key`, the environment (`INFERENCE_CORE_BASE_URL`,
`INFERENCE_CORE_API_KEY`), then the local stack's `.local/stack.json` (its superuser key). With
`--aws`, the base URL defaults to the CloudFormation stack's `ApiUrl` output (`--stack-name`,
default `InferenceCore`) and the key must be given.

Limit flags take a value or `none` (which removes the limit at that level). `--guardrails` sets a
team's or a key's own guardrail policy, validated here exactly as the API validates it (the same
`GuardrailsField`), so a typo is refused before anything is sent; `none` removes the policy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

LIMIT_FLAGS = (
    ("--rpm", "rpm_limit", int, "requests per minute"),
    ("--tpm", "tpm_limit", int, "tokens (input + output) per minute"),
    ("--parallel", "max_parallel_requests", int, "requests in flight at once"),
    ("--budget", "max_budget_usd", float, "USD per budget period"),
    ("--period", "budget_period", str, "day | month | total"),
    ("--models", "allowed_models", str, "comma-separated model aliases"),
)


class AdminApiError(Exception):
    """The admin API answered with an error (its message is printed)."""


def _connection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", help="the API's URL (default: the local stack's)")
    p.add_argument(
        "--api-key", help="a superuser's API key (default: $INFERENCE_CORE_API_KEY or local)"
    )
    p.add_argument("--aws", action="store_true", help="the deployed stack (ApiUrl output)")
    p.add_argument("--stack-name", default=os.environ.get("IC_STACK_NAME", "InferenceCore"))


def _limit_flags(p: argparse.ArgumentParser) -> None:
    for flag, _, _, help_text in LIMIT_FLAGS:
        p.add_argument(flag, help=f"{help_text} (or 'none')")


def _guardrails_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--guardrails",
        help="the item's own guardrail policy: check=mode pairs ('pii.email=block,injection=detect')"
        " or a JSON object; modes off|detect|redact|block; 'none' removes it",
    )


def guardrails_from(args: argparse.Namespace) -> dict[str, Any]:
    """`{"guardrails": policy}` for `--guardrails` (None for 'none'), `{}` without the flag; an
    unknown check or mode exits with the API's own message for it."""
    raw = getattr(args, "guardrails", None)
    if raw is None:
        return {}
    text = raw.strip()
    if text.lower() == "none":
        return {"guardrails": None}
    policy: Any
    if text.startswith("{"):
        try:
            policy = json.loads(text)
        except ValueError:
            sys.exit(f"--guardrails is not valid JSON: {raw!r}")
    else:
        policy = {}
        for pair in filter(None, (p.strip() for p in text.split(","))):
            name, equals, mode = pair.partition("=")
            if not equals or not name.strip():
                sys.exit(f"--guardrails takes check=mode pairs, not {pair!r}")
            policy[name.strip()] = mode.strip()
    from pydantic import ValidationError

    from inference_core.admin_schemas import GuardrailsField

    try:
        GuardrailsField(guardrails=policy)
    except ValidationError as exc:
        error = exc.errors()[0]
        problem = str(error["msg"]).removeprefix("Value error, ").removeprefix("guardrails: ")
        where = "".join(f"{part}: " for part in error["loc"][1:])  # the check, for a bad type
        sys.exit(f"--guardrails: {where}{problem}")
    return {"guardrails": policy}


def limits_from(args: argparse.Namespace) -> dict[str, Any]:
    """The limit fields the flags name: a value, or None for 'none'."""
    body: dict[str, Any] = {}
    for flag, field, kind, _ in LIMIT_FLAGS:
        raw = getattr(args, flag.lstrip("-"))
        if raw is None:
            continue
        if raw.lower() == "none":
            body[field] = None
        elif field == "allowed_models":
            body[field] = [m.strip() for m in raw.split(",") if m.strip()]
        else:
            try:
                body[field] = kind(raw)
            except ValueError:
                sys.exit(f"{flag} takes a number or 'none', not {raw!r}")
    return body


def _stack_api_url(stack_name: str) -> str | None:
    import boto3

    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    for output in outputs.get("Outputs", []):
        if output["OutputKey"] == "ApiUrl":
            return str(output["OutputValue"])
    return None


class AdminClient:
    def __init__(self, base_url: str, api_key: str, *, transport: Any = None):
        import httpx

        self._http = httpx.Client(
            base_url=base_url.rstrip("/").removesuffix("/v1") + "/v1/admin",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=30,
            transport=transport,
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AdminClient:
        base_url = args.base_url or os.environ.get("INFERENCE_CORE_BASE_URL")
        api_key = args.api_key or os.environ.get("INFERENCE_CORE_API_KEY")
        if args.aws:
            base_url = base_url or _stack_api_url(args.stack_name)
        else:
            state_file = Path(getattr(args, "state_dir", ".local")) / "stack.json"
            if (not base_url or not api_key) and state_file.exists():
                state = json.loads(state_file.read_text())
                base_url = base_url or state.get("api_url")
                api_key = api_key or state.get("api_key")
        if not base_url or not api_key:
            sys.exit(
                "no admin API to talk to: start the local stack (`make dev`), or pass --base-url "
                "and --api-key (a superuser's key; or set INFERENCE_CORE_BASE_URL and "
                "INFERENCE_CORE_API_KEY)"
            )
        return cls(base_url, api_key)

    def call(self, method: str, path: str, *, body: Any = None, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        response = self._http.request(method, path, json=body, params=query)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:200]
            raise AdminApiError(f"{response.status_code}: {message}")
        return response.json()

    def all_pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.call("GET", path, limit=100, after=after, **params)
            rows += page["data"]
            if not page.get("has_more"):
                return rows
            after = page["after"]

    def user_id(self, who: str) -> str:
        """A user id, from an id or an email address."""
        if "@" not in who:
            return who
        found = self.call("GET", "/users", email=who)["data"]
        if not found:
            raise AdminApiError(f"no user with the email {who!r}")
        return str(found[0]["id"])


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain text table (`-` for missing values)."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.6f}".rstrip("0").rstrip(".") if value else "0"
        if isinstance(value, list):
            return ",".join(map(str, value))
        if isinstance(value, dict):
            return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
        return str(value)

    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


LIMIT_COLUMNS = [
    "rpm_limit",
    "tpm_limit",
    "max_parallel_requests",
    "max_budget_usd",
    "budget_period",
]


def _run(args: argparse.Namespace) -> int:
    import httpx

    # Bad flag values are refused before the API is looked for (with --aws, a CloudFormation call).
    if hasattr(args, "rpm"):
        limits_from(args)
    guardrails_from(args)
    client = AdminClient.from_args(args)
    try:
        output = args.action(client, args)
    except AdminApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"error: the API did not answer ({type(exc).__name__})", file=sys.stderr)
        return 2
    if output is not None:
        print(output)
    return 0


# ---- the commands ----


def teams_create(c: AdminClient, a: argparse.Namespace) -> str:
    body = {"name": a.name, **limits_from(a), **guardrails_from(a)}
    team = c.call("POST", "/teams", body=body)
    fields = ["id", "name", *LIMIT_COLUMNS, "allowed_models", "guardrails"]
    return json.dumps({k: team.get(k) for k in fields})


def teams_list(c: AdminClient, a: argparse.Namespace) -> str:
    return table(c.all_pages("/teams"), ["id", "name", *LIMIT_COLUMNS, "guardrails"])


def teams_add_member(c: AdminClient, a: argparse.Namespace) -> str:
    team = c.call("POST", f"/teams/{a.team_id}/members", body={"user_id": c.user_id(a.user)})
    return table(team["members"], ["id", "email", "role"])


def teams_set_limits(c: AdminClient, a: argparse.Namespace) -> str:
    body = {**limits_from(a), **guardrails_from(a)}
    team = c.call("PATCH", f"/teams/{a.team_id}", body=body)
    return table([team], ["id", "name", *LIMIT_COLUMNS, "guardrails"])


def users_list(c: AdminClient, a: argparse.Namespace) -> str:
    rows = c.all_pages("/users", email=a.email)
    return table(rows, ["id", "email", "role", "active", "team_id", *LIMIT_COLUMNS])


def users_set_limits(c: AdminClient, a: argparse.Namespace) -> str:
    user = c.call("PATCH", f"/users/{c.user_id(a.user)}", body=limits_from(a))
    return table([user], ["id", "email", *LIMIT_COLUMNS])


def users_deactivate(c: AdminClient, a: argparse.Namespace) -> str:
    user = c.call("PATCH", f"/users/{c.user_id(a.user)}", body={"active": False})
    return f"{user['id']} ({user['email']}) deactivated"


def keys_list(c: AdminClient, a: argparse.Namespace) -> str:
    user = c.user_id(a.user) if a.user else None
    rows = c.all_pages("/keys", user_id=user, team_id=a.team)
    return table(rows, ["id", "user_id", "name", "prefix", "revoked", *LIMIT_COLUMNS, "guardrails"])


def keys_revoke(c: AdminClient, a: argparse.Namespace) -> str:
    c.call("DELETE", f"/keys/{a.key_id}")
    return f"{a.key_id} revoked"


def keys_set_limits(c: AdminClient, a: argparse.Namespace) -> str:
    body = {**limits_from(a), **guardrails_from(a)}
    key = c.call("PATCH", f"/keys/{a.key_id}", body=body)
    return table([key], ["id", "user_id", *LIMIT_COLUMNS, "guardrails"])


def usage_report(c: AdminClient, a: argparse.Namespace) -> str:
    body = c.call(
        "GET",
        "/usage",
        team_id=a.team,
        user_id=c.user_id(a.user) if a.user else None,
        key_id=a.key,
        model=a.model,
        start=a.start,
        end=a.end,
        group_by=a.by,
    )
    label = {"key": "key_id", "user": "user_id", "team": "team_id"}.get(
        body["group_by"], body["group_by"]
    )
    columns = [label, "requests", "cached_requests", "input_tokens", "output_tokens", "cost_usd"]
    total = {
        label: "total",
        "requests": body["total_requests"],
        "cached_requests": body["total_cached_requests"],
        "input_tokens": body["total_input_tokens"],
        "output_tokens": body["total_output_tokens"],
        "cost_usd": body["total_cost_usd"],
    }
    return table([*body["data"], total], columns)


def add_admin_commands(sub: Any) -> None:
    """Register `teams`, `users`, `keys` and `usage` on the CLI's subparsers."""

    def command(group: Any, name: str, action: Any, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = group.add_parser(name, help=help_text)
        _connection(p)
        p.set_defaults(func=_run, action=action)
        return p

    teams = sub.add_parser("teams", help="manage teams (admin API)")
    t = teams.add_subparsers(dest="teams_command", required=True)
    p = command(t, "create", teams_create, "create a team (prints its id)")
    p.add_argument("name")
    _limit_flags(p)
    _guardrails_flag(p)
    command(t, "list", teams_list, "every team and its limits")
    p = command(t, "add-member", teams_add_member, "put a user (id or email) in a team")
    p.add_argument("team_id")
    p.add_argument("user")
    p = command(t, "set-limits", teams_set_limits, "change a team's limits, budget and guardrails")
    p.add_argument("team_id")
    _limit_flags(p)
    _guardrails_flag(p)

    users = sub.add_parser("users", help="manage users (admin API)")
    u = users.add_subparsers(dest="users_command", required=True)
    p = command(u, "list", users_list, "every user and their limits")
    p.add_argument("--email")
    p = command(u, "set-limits", users_set_limits, "change a user's limits and budget")
    p.add_argument("user", help="user id or email")
    _limit_flags(p)
    p = command(u, "deactivate", users_deactivate, "refuse the user's keys and tokens from now on")
    p.add_argument("user", help="user id or email")

    keys = sub.add_parser("keys", help="manage API keys (admin API)")
    k = keys.add_subparsers(dest="keys_command", required=True)
    p = command(k, "list", keys_list, "API keys (of a user or a team)")
    p.add_argument("--user", help="user id or email")
    p.add_argument("--team", help="team id")
    p = command(k, "revoke", keys_revoke, "revoke a key")
    p.add_argument("key_id")
    p = command(k, "set-limits", keys_set_limits, "change a key's limits, budget and guardrails")
    p.add_argument("key_id")
    _limit_flags(p)
    _guardrails_flag(p)

    p = command(sub, "usage", usage_report, "usage from the daily aggregates (a table)")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--team")
    scope.add_argument("--user", help="user id or email")
    scope.add_argument("--key")
    p.add_argument("--model")
    p.add_argument("--by", choices=["day", "model", "key", "user", "team"], default="day")
    p.add_argument("--start", help="YYYY-MM-DD")
    p.add_argument("--end", help="YYYY-MM-DD")
