"""Budget alerts: when a level's spend crosses 80 % or 100 % of its budget, one email per
threshold per period per level, through the mail queue (the mailer renders `budget_alert`).

The settle step calls `BudgetAlerts.check` for each level that has a budget, with that level's
spend in the period before and after the request was settled, or `check_settled`, which reads
that spend itself (one GetItem, after the response is sent, only for a request that cost something). Who is told: a key's owner, a user,
or a team's members with the superuser role. `db.budget_alerts` makes each alert happen once even
when many processes cross the line at the same moment. Checking costs no DynamoDB call unless a
threshold was crossed by this very request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from inference_core.auth.principal import ROLE_SUPERUSER
from inference_core.db.budget_alerts import BudgetAlertMarkers
from inference_core.db.directory import DirectoryRepository
from inference_core.db.teams import TeamsRepository
from inference_core.observability import get_logger

if TYPE_CHECKING:
    from inference_core.settings import Settings

AlertLevel = Literal["key", "user", "team"]
THRESHOLDS = (80, 100)  # percent of the budget

MailSender = Callable[..., Any]  # the signature of `inference_core.mailqueue.enqueue_mail`


def crossed_thresholds(budget_usd: float, spent_before: float, spent_after: float) -> list[int]:
    """The thresholds (percent) this spend change crossed upwards: before < t ≤ after."""
    if budget_usd <= 0 or spent_after <= spent_before:
        return []
    return [
        pct for pct in THRESHOLDS if spent_before < budget_usd * pct / 100 <= spent_after + 1e-12
    ]


def _default_mail(*args: Any, **kwargs: Any) -> Any:
    from inference_core.mailqueue import enqueue_mail

    return enqueue_mail(*args, **kwargs)


class BudgetAlerts:
    def __init__(
        self,
        *,
        settings: Settings,
        markers: BudgetAlertMarkers | None = None,
        directory: DirectoryRepository | None = None,
        teams: TeamsRepository | None = None,
        mail: MailSender = _default_mail,
    ):
        self.settings = settings
        self.markers = markers or BudgetAlertMarkers()
        self.directory = directory or DirectoryRepository()
        self.teams = teams or TeamsRepository()
        self.mail = mail

    def check(
        self,
        level: AlertLevel,
        level_id: str,
        *,
        budget_usd: float | None,
        period: str,
        spent_before: float,
        spent_after: float,
        owner_id: str | None = None,
        level_name: str | None = None,
        correlation_id: str = "",
    ) -> list[int]:
        """Send whichever alerts this request's spend crossed (and nobody sent yet this period).

        `level_id`: the key id, user id or team id; `owner_id`: the key's owner (key level only);
        `period`: the budget period id (`d2026-12-01`, `m2026-12`, `total`). Returns the
        thresholds alerted now. Never raises: an alert that cannot be sent is logged.
        """
        if budget_usd is None:
            return []
        sent = []
        for pct in crossed_thresholds(budget_usd, spent_before, spent_after):
            try:
                if not self.markers.claim(level, level_id, period, pct):
                    continue
                self._notify(
                    level,
                    level_id,
                    owner_id=owner_id,
                    level_name=level_name,
                    context={
                        "level": level,
                        "percent": pct,
                        "budget_usd": budget_usd,
                        "spent_usd": round(max(spent_after, 0.0), 6),
                        "period": period,
                    },
                    correlation_id=correlation_id,
                )
                sent.append(pct)
            except Exception as exc:  # an alert never fails the request that crossed the line
                get_logger().warning(
                    "budget alert not sent",
                    extra={"level": level, "percent": pct, "error": type(exc).__name__},
                )
        return sent

    def check_settled(
        self,
        level: AlertLevel,
        level_id: str,
        *,
        table: str,
        key: dict[str, Any],
        budget_usd: float | None,
        period: str,
        cost_usd: float,
        owner_id: str | None = None,
        correlation_id: str = "",
    ) -> list[int]:
        """After a successful settle: read the level's spend in `period` (item `key` of `table`)
        and alert on the thresholds this request's `cost_usd` took it across."""
        if budget_usd is None or cost_usd <= 0:
            return []
        try:
            after = self.markers.period_spend(table, key, period)
        except Exception as exc:  # never fails the request
            get_logger().warning("budget alert check skipped", extra={"error": type(exc).__name__})
            return []
        return self.check(
            level,
            level_id,
            budget_usd=budget_usd,
            period=period,
            spent_before=after - cost_usd,
            spent_after=after,
            owner_id=owner_id,
            correlation_id=correlation_id,
        )

    def _recipients(
        self, level: AlertLevel, level_id: str, owner_id: str | None
    ) -> tuple[list[Any], str]:
        if level == "team":
            team = self.teams.get(level_id)
            members = [
                u for u in self.teams.members(level_id) if u.role == ROLE_SUPERUSER and u.is_active
            ]
            return members, (team.name if team is not None else level_id)
        user = self.directory.user(owner_id if level == "key" and owner_id else level_id)
        people = [user] if user is not None and user.is_active else []
        return people, level_id if level == "key" else (user.email if user else level_id)

    def _notify(
        self,
        level: AlertLevel,
        level_id: str,
        *,
        owner_id: str | None,
        level_name: str | None,
        context: dict[str, Any],
        correlation_id: str,
    ) -> None:
        people, default_name = self._recipients(level, level_id, owner_id)
        for person in people:
            self.mail(
                "budget_alert",
                person.email,
                {**context, "name": person.name, "level_name": level_name or default_name},
                correlation_id=correlation_id,
                settings=self.settings,
            )
