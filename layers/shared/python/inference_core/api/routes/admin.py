"""`/v1/admin/*`: users, teams, keys, usage, cache, providers, resilience and the audit log, for
superusers (anyone else gets 403 in the OpenAI error format). Each route is one `AdminService` call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from inference_core.admin_schemas import (
    CacheInvalidate,
    KeyUpdate,
    TeamCreate,
    TeamMemberAdd,
    TeamUpdate,
    UserUpdate,
)
from inference_core.admin_service import AdminService
from inference_core.api.admin_deps import get_admin_service
from inference_core.auth.deps import require_superuser
from inference_core.auth.principal import Principal

router = APIRouter(prefix="/v1/admin", tags=["admin"])

Superuser = Annotated[Principal, Depends(require_superuser)]
Admin = Annotated[AdminService, Depends(get_admin_service)]
Limit = Annotated[int | None, Query(description="page size, 1-100 (default 20)")]
After = Annotated[str | None, Query(description="the `after` cursor of the previous page")]
Day = Annotated[str | None, Query(description="YYYY-MM-DD (UTC)")]


@router.get("/users")
def list_users(
    su: Superuser,
    admin: Admin,
    email: str | None = None,
    limit: Limit = None,
    after: After = None,
) -> dict[str, Any]:
    return admin.list_users(email=email, limit=limit, after=after)


@router.get("/users/{user_id}")
def get_user(user_id: str, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.get_user(user_id)


@router.patch("/users/{user_id}")
def update_user(user_id: str, body: UserUpdate, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.update_user(su.user_id, user_id, body)


@router.post("/teams", status_code=201)
def create_team(body: TeamCreate, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.create_team(su.user_id, body)


@router.get("/teams")
def list_teams(
    su: Superuser, admin: Admin, limit: Limit = None, after: After = None
) -> dict[str, Any]:
    return admin.list_teams(limit=limit, after=after)


@router.get("/teams/{team_id}")
def get_team(team_id: str, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.get_team(team_id)


@router.patch("/teams/{team_id}")
def update_team(team_id: str, body: TeamUpdate, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.update_team(su.user_id, team_id, body)


@router.delete("/teams/{team_id}")
def delete_team(team_id: str, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.delete_team(su.user_id, team_id)


@router.post("/teams/{team_id}/members")
def add_team_member(
    team_id: str, body: TeamMemberAdd, su: Superuser, admin: Admin
) -> dict[str, Any]:
    return admin.add_member(su.user_id, team_id, body.user_id)


@router.delete("/teams/{team_id}/members/{user_id}")
def remove_team_member(team_id: str, user_id: str, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.remove_member(su.user_id, team_id, user_id)


@router.get("/keys")
def list_keys(
    su: Superuser,
    admin: Admin,
    user_id: str | None = None,
    team_id: str | None = None,
    limit: Limit = None,
    after: After = None,
) -> dict[str, Any]:
    return admin.list_keys(user_id=user_id, team_id=team_id, limit=limit, after=after)


@router.patch("/keys/{key_id}")
def update_key(key_id: str, body: KeyUpdate, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.update_key(su.user_id, key_id, body)


@router.delete("/keys/{key_id}")
def revoke_key(key_id: str, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.revoke_key(su.user_id, key_id)


@router.get("/usage")
def usage(
    su: Superuser,
    admin: Admin,
    team_id: str | None = None,
    user_id: str | None = None,
    key_id: str | None = None,
    model: str | None = None,
    start: Day = None,
    end: Day = None,
    group_by: Annotated[str | None, Query(description="day | model | key | user | team")] = None,
) -> dict[str, Any]:
    return admin.usage(
        team_id=team_id,
        user_id=user_id,
        key_id=key_id,
        model=model,
        start=start,
        end=end,
        group_by=group_by,
    )


@router.get("/cache")
def cache_stats(su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.cache_stats()


@router.post("/cache/invalidate")
def invalidate_cache(body: CacheInvalidate, su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.invalidate_cache(su.user_id, body)


@router.get("/providers")
def providers(su: Superuser, admin: Admin) -> dict[str, Any]:
    return admin.providers()


@router.get("/resilience")
def resilience(su: Superuser, admin: Admin) -> dict[str, Any]:
    """The resilience preset in force and each deployment's circuit breaker (closed, open,
    half-open) and cold state, in the process that answers."""
    return admin.resilience()


@router.get("/audit")
def audit_log(
    su: Superuser,
    admin: Admin,
    target_id: str | None = None,
    limit: Limit = None,
    after: After = None,
) -> dict[str, Any]:
    return admin.audit_log(limit=limit, after=after, target_id=target_id)
