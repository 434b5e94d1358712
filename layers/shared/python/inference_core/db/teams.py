"""Teams and their members, for the admin API: the team items (`ic-teams`) and the `team_id` of
each member's user item (GSI `team-index`), which is how a user belongs to at most one team.

Membership is one conditional write on the user item (`team_id` absent or already this team), so
two admins adding one user to two teams cannot both win. Every change here is ONE transaction with
its audit record (`db.audit.commit`): a failure leaves neither. The governance state maps on a
team item (`request_window`, `spend`, …) are written only by `db.admission`; this module never
touches them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from inference_core.db.audit import MAX_TRANSACTION_ITEMS, TransactionWrites, commit
from inference_core.db.availability import StoreGuard
from inference_core.db.models import AuditRecordModel, TeamModel, UserModel
from inference_core.errors import ConflictError, NotFoundError
from inference_core.unset import UNSET, Unset

_TEAMS = StoreGuard("The team store is unavailable.")
_USERS = StoreGuard("The user store is unavailable.")
# Member removals that share a team deletion's transaction (with the team and its record); a
# larger team first loses the others, each with its own record in a transaction of its own.
_MEMBERS_WITH_DELETION = MAX_TRANSACTION_ITEMS - 2


def limit_actions(model: Any, changes: dict[str, Any]) -> list[Any]:
    """PynamoDB update actions for the limit fields in `changes` (None removes the limit)."""
    actions = []
    for name, value in changes.items():
        attribute = getattr(model, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


def guardrail_actions(model: Any, policy: dict[str, str] | Unset | None) -> list[Any]:
    """The update action for an item's guardrail policy (None removes it; UNSET: no change)."""
    if policy is UNSET:
        return []
    return [model.guardrails.remove() if not policy else model.guardrails.set(policy)]


class TeamsRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def create(self, team: TeamModel, *, audit: AuditRecordModel) -> None:
        def writes(tx: TransactionWrites) -> None:
            tx.save(team, condition=TeamModel.team_id.does_not_exist())

        if commit(audit, writes) is not None:  # the condition failed (anything else is a 503)
            raise ConflictError("A team with this id exists.", code="team_exists")

    def get(self, team_id: str) -> TeamModel | None:
        try:
            with _TEAMS:
                team = TeamModel.get(team_id, consistent_read=True)
        except TeamModel.DoesNotExist:
            return None
        return None if team.deleted else team

    def page(self, *, limit: int, after: str | None) -> tuple[list[TeamModel], bool]:
        """Up to `limit` live teams after the team id `after` (table order), and whether more follow."""
        start = {"team_id": {"S": after}} if after else None
        with _TEAMS:
            found = list(
                TeamModel.scan(
                    TeamModel.deleted == False,  # noqa: E712 (a PynamoDB condition)
                    limit=limit + 1,
                    last_evaluated_key=start,
                )
            )
        return found[:limit], len(found) > limit

    def update(
        self,
        team: TeamModel,
        *,
        name: str | None,
        limits: dict[str, Any],
        guardrails: dict[str, str] | Unset | None = UNSET,
        audit: AuditRecordModel,
    ) -> None:
        actions = limit_actions(TeamModel, limits) + guardrail_actions(TeamModel, guardrails)
        if name is not None:
            actions.append(TeamModel.name.set(name))
        actions.append(TeamModel.updated_at.set(int(self._now())))

        def writes(tx: TransactionWrites) -> None:
            tx.update(team, actions=actions, condition=TeamModel.deleted == False)  # noqa: E712

        if commit(audit, writes) is not None:  # the condition failed
            raise NotFoundError("No such team.", code="team_not_found")

    def delete(
        self,
        team: TeamModel,
        members: list[UserModel],
        *,
        audit: AuditRecordModel,
        member_audit: Callable[[UserModel], AuditRecordModel],
    ) -> None:
        """Mark the team deleted and take its members out of it, with its audit record, in one
        transaction. Members beyond what fits leave first, each with its own record
        (`member_audit`), in transactions of their own: a failure midway leaves an audited
        subset out of a team that still exists, and a retry finishes the deletion."""
        extra, kept = members[_MEMBERS_WITH_DELETION:], members[:_MEMBERS_WITH_DELETION]
        for user in extra:  # each leaves in a transaction with its own record
            self.remove_member(user, team.team_id, audit=member_audit(user))
        now = int(self._now())

        def writes(tx: TransactionWrites) -> None:
            tx.update(
                team,
                actions=[TeamModel.deleted.set(True), TeamModel.updated_at.set(now)],
                condition=TeamModel.deleted == False,  # noqa: E712
            )
            for user in kept:
                tx.update(
                    user,
                    actions=[UserModel.team_id.remove()],
                    condition=UserModel.team_id == team.team_id,
                )

        if commit(audit, writes) is not None:  # deleted meanwhile, or a member moved: re-read
            raise ConflictError(
                "The team changed while it was being deleted; try again.", code="team_changed"
            )

    def members(self, team_id: str) -> list[UserModel]:
        with _USERS:
            return list(UserModel.team_index.query(team_id))

    def add_member(self, user: UserModel, team_id: str, *, audit: AuditRecordModel) -> None:
        """Put the user in the team; ConflictError if the user is in another team."""

        def writes(tx: TransactionWrites) -> None:
            tx.update(
                user,
                actions=[UserModel.team_id.set(team_id)],
                condition=UserModel.user_id.exists()
                & (UserModel.team_id.does_not_exist() | (UserModel.team_id == team_id)),
            )

        if commit(audit, writes) is not None:  # the condition failed
            raise ConflictError(
                "The user belongs to another team; remove them from it first.",
                code="user_in_another_team",
                param="user_id",
            )
        user.team_id = team_id

    def remove_member(self, user: UserModel, team_id: str, *, audit: AuditRecordModel) -> bool:
        """Take the user out of the team; False (nothing written) if they were not in it."""

        def writes(tx: TransactionWrites) -> None:
            tx.update(
                user, actions=[UserModel.team_id.remove()], condition=UserModel.team_id == team_id
            )

        if commit(audit, writes) is not None:  # the condition failed: not a member
            return False
        user.team_id = None
        return True
