"""Teams and their members, for the admin API: the team items (`ic-teams`) and the `team_id` of
each member's user item (GSI `team-index`), which is how a user belongs to at most one team.

Membership is one conditional write on the user item (`team_id` absent or already this team), so
two admins adding one user to two teams cannot both win. The governance state maps on a team item
(`request_window`, `spend`, …) are written only by `db.admission`; this module never touches them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import PutError, PynamoDBException, UpdateError

from inference_core.db.models import TeamModel, UserModel
from inference_core.errors import ConflictError, NotFoundError, ServiceUnavailableError


def _conditional_failed(exc: PynamoDBException) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def limit_actions(model: Any, changes: dict[str, Any]) -> list[Any]:
    """PynamoDB update actions for the limit fields in `changes` (None removes the limit)."""
    actions = []
    for name, value in changes.items():
        attribute = getattr(model, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


class TeamsRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def create(self, team: TeamModel) -> None:
        try:
            team.save(condition=TeamModel.team_id.does_not_exist())
        except PutError as exc:
            if _conditional_failed(exc):
                raise ConflictError("A team with this id exists.", code="team_exists") from exc
            raise ServiceUnavailableError("The team store is unavailable.") from exc

    def get(self, team_id: str) -> TeamModel | None:
        try:
            team = TeamModel.get(team_id, consistent_read=True)
        except TeamModel.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise ServiceUnavailableError("The team store is unavailable.") from exc
        return None if team.deleted else team

    def page(self, *, limit: int, after: str | None) -> tuple[list[TeamModel], bool]:
        """Up to `limit` live teams after the team id `after` (table order), and whether more follow."""
        start = {"team_id": {"S": after}} if after else None
        try:
            found = list(
                TeamModel.scan(
                    TeamModel.deleted == False,  # noqa: E712 (a PynamoDB condition)
                    limit=limit + 1,
                    last_evaluated_key=start,
                )
            )
        except PynamoDBException as exc:
            raise ServiceUnavailableError("The team store is unavailable.") from exc
        return found[:limit], len(found) > limit

    def update(self, team: TeamModel, *, name: str | None, limits: dict[str, Any]) -> TeamModel:
        actions = limit_actions(TeamModel, limits)
        if name is not None:
            actions.append(TeamModel.name.set(name))
        actions.append(TeamModel.updated_at.set(int(self._now())))
        try:
            team.update(actions=actions, condition=TeamModel.deleted == False)  # noqa: E712
        except UpdateError as exc:
            if _conditional_failed(exc):
                raise NotFoundError("No such team.", code="team_not_found") from exc
            raise ServiceUnavailableError("The team store is unavailable.") from exc
        return team

    def mark_deleted(self, team: TeamModel) -> None:
        try:
            team.update(
                actions=[TeamModel.deleted.set(True), TeamModel.updated_at.set(int(self._now()))]
            )
        except PynamoDBException as exc:
            raise ServiceUnavailableError("The team store is unavailable.") from exc

    def members(self, team_id: str) -> list[UserModel]:
        try:
            return list(UserModel.team_index.query(team_id))
        except PynamoDBException as exc:
            raise ServiceUnavailableError("The user store is unavailable.") from exc

    def add_member(self, user: UserModel, team_id: str) -> None:
        """Put the user in the team; ConflictError if the user is in another team."""
        try:
            user.update(
                actions=[UserModel.team_id.set(team_id)],
                condition=UserModel.user_id.exists()
                & (UserModel.team_id.does_not_exist() | (UserModel.team_id == team_id)),
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                raise ConflictError(
                    "The user belongs to another team; remove them from it first.",
                    code="user_in_another_team",
                    param="user_id",
                ) from exc
            raise ServiceUnavailableError("The user store is unavailable.") from exc

    def remove_member(self, user: UserModel, team_id: str) -> bool:
        """Take the user out of the team; False if they were not in it."""
        try:
            user.update(
                actions=[UserModel.team_id.remove()], condition=UserModel.team_id == team_id
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise ServiceUnavailableError("The user store is unavailable.") from exc
        return True
