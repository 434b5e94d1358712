"""The console's admin pages in a real Chromium against the local stack: a superuser creates a team
with a budget, adds a user to it, and sees both changes in the audit log (`/v1/admin/*`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.console.test_console_browser import (
    assert_no_page_problems,
    go,
    sign_in,
)


def test_a_superuser_creates_a_team_with_a_budget_and_adds_a_user(
    page: Any, console_url: str, local_stack: dict[str, Any]
) -> None:
    api = local_stack["api_url"]
    member = f"member-{uuid.uuid4().hex[:8]}@example.com"
    registered = httpx.post(
        f"{api}/v1/auth/register", json={"email": member, "password": "a long enough password"}
    )
    assert registered.status_code == 202
    team_name = f"team-{uuid.uuid4().hex[:6]}"

    sign_in(page, console_url, local_stack["email"], local_stack["password"])
    go(page, "Teams and users")
    create = page.get_by_role("form", name="Create a team")
    create.get_by_label("Team name").fill(team_name)
    create.get_by_label("Budget (USD)").fill("5")
    create.get_by_label("Budget period").select_option("month")
    create.get_by_role("button", name="Create team").click()
    card = page.locator(f'li.team[data-team="{team_name}"]')
    expect(card).to_contain_text("$5 month")
    card.get_by_label("Member email").fill(member)
    card.get_by_role("button", name="Add member").click()
    card = page.locator(f'li.team[data-team="{team_name}"]')
    expect(card.get_by_role("list", name=f"Members of {team_name}")).to_contain_text(member)

    # The API agrees: the team exists with its budget and the new member.
    token = httpx.post(
        f"{api}/v1/auth/login",
        json={"email": local_stack["email"], "password": local_stack["password"]},
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    teams = httpx.get(f"{api}/v1/admin/teams", headers=auth).json()["data"]
    (team,) = [t for t in teams if t["name"] == team_name]
    assert team["max_budget_usd"] == 5
    users = httpx.get(f"{api}/v1/admin/users", params={"email": member}, headers=auth).json()
    assert users["data"][0]["team_id"] == team["id"]

    # And the audit log shows who did what, by name.
    page.reload()
    audit = page.get_by_role("table", name="Audit log")
    created = audit.get_by_role("row").filter(has_text="team.create").filter(has_text=team_name)
    expect(created).to_contain_text(local_stack["email"])
    joined = audit.get_by_role("row").filter(has_text="team.add_member").filter(has_text=member)
    expect(joined).to_contain_text(f"team_id: — → {team['id']}")
    assert_no_page_problems(page)
