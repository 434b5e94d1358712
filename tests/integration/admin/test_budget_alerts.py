"""Budget alerts: at 80 % and 100 % of a budget, one email per threshold per period per level, to
a key's owner or a team's superuser members, through the real mail queue (moto's SQS)."""

from __future__ import annotations

from typing import Any

import pytest

from inference_core.budget_alerts import crossed_thresholds


@pytest.fixture
def alerts(aws: Any) -> Any:
    from inference_core.auth.deps import get_auth_settings
    from inference_core.budget_alerts import BudgetAlerts

    return BudgetAlerts(settings=get_auth_settings())


def test_thresholds_are_crossed_upwards_only() -> None:
    assert crossed_thresholds(10, 7.9, 8.0) == [80]
    assert crossed_thresholds(10, 7.0, 10.5) == [80, 100]
    assert crossed_thresholds(10, 8.0, 9.9) == []
    assert crossed_thresholds(10, 9.0, 8.0) == []
    assert crossed_thresholds(0, 0, 1) == []


def test_a_team_alert_mails_its_superusers_once_per_period_and_threshold(
    aws: Any, alerts: Any, admin: Any, make_account: Any
) -> None:
    member = make_account("member@example.com")
    boss = make_account("boss@example.com", superuser=True)
    team = admin.ok(admin.post("/teams", {"name": "research", "max_budget_usd": 10}), 201)["id"]
    for person in (member, boss):
        admin.ok(admin.post(f"/teams/{team}/members", {"user_id": person.user_id}))
    aws.mail()  # whatever sign-up sent

    def check(before: float, after: float, period: str = "m2026-12") -> list[int]:
        sent: list[int] = alerts.check(
            "team", team, budget_usd=10, period=period, spent_before=before, spent_after=after
        )
        return sent

    assert check(7.5, 8.1) == [80]
    assert check(7.9, 8.5) == []  # another process crossing it again: no second email
    mail = aws.mail()
    assert [(m["template"], m["to"]) for m in mail] == [("budget_alert", "boss@example.com")]
    context = mail[0]["context"]
    assert (context["level"], context["level_name"], context["percent"]) == ("team", "research", 80)
    assert (context["budget_usd"], context["spent_usd"], context["period"]) == (10, 8.1, "m2026-12")

    assert check(9.5, 10.2) == [100]
    assert check(0.0, 8.0, period="m2027-01") == [80]  # a new period alerts again
    assert [m["context"]["percent"] for m in aws.mail()] == [100, 80]


def test_a_key_alert_mails_the_keys_owner_and_renders(
    aws: Any, alerts: Any, make_account: Any
) -> None:
    from inference_core.mail.templates import render_mail

    owner = make_account("owner@example.com")
    aws.mail()
    sent = alerts.check(
        "key",
        "key_abc",
        budget_usd=2.0,
        period="d2026-12-01",
        spent_before=1.0,
        spent_after=2.4,
        owner_id=owner.user_id,
    )
    assert sent == [80, 100]
    mail = aws.mail()
    assert [m["to"] for m in mail] == ["owner@example.com", "owner@example.com"]
    rendered = render_mail("budget_alert", mail[1]["context"])
    assert "100% of the key budget for key_abc" in rendered.subject
    assert "refused" in rendered.text and "$2.4000 of $2.00" in rendered.text
    # no budget, no alert
    assert (
        alerts.check(
            "user", owner.user_id, budget_usd=None, period="total", spent_before=0, spent_after=99
        )
        == []
    )


def test_after_a_settle_the_levels_spend_is_read_and_alerted_once(
    aws: Any, alerts: Any, admin: Any, make_account: Any
) -> None:
    from inference_core.settings import get_settings

    boss = make_account("lead@example.com", superuser=True)
    team = admin.ok(admin.post("/teams", {"name": "ml", "max_budget_usd": 1.0}), 201)["id"]
    admin.ok(admin.post(f"/teams/{team}/members", {"user_id": boss.user_id}))
    table = get_settings().tables.teams_table
    key = {"team_id": {"S": team}}
    aws.dynamodb.update_item(  # what the settle left: 0.70 before + this request's 0.15
        TableName=table,
        Key=key,
        UpdateExpression="SET #sp = :sp",
        ExpressionAttributeNames={"#sp": "spend"},
        ExpressionAttributeValues={":sp": {"M": {"m2026-12": {"N": "0.85"}}}},
    )
    aws.mail()

    def settled(cost: float) -> list[int]:
        sent: list[int] = alerts.check_settled(
            "team", team, table=table, key=key, budget_usd=1.0, period="m2026-12", cost_usd=cost
        )
        return sent

    assert settled(0.15) == [80]
    assert settled(0.15) == []
    assert settled(0.0) == []  # a cached answer costs nothing: no read, no alert
    assert [m["to"] for m in aws.mail()] == ["lead@example.com"]
