"""The admin API's one service: users, teams and membership, keys, usage across the deployment,
the response cache and the providers, for superusers only (the routes check the role).

Every change and its audit record (who, what, the target's fields before → after, when) are ONE
DynamoDB transaction, written by the repository that makes the change: a failure (a 503) leaves
neither, so a retry does the change once. The "after" view is computed before the commit from the
item read and the request (what the transaction writes). Only a cache invalidation (any number of
deletes) writes its record after the deletes. Each change drops the in-process governance
resolution cache so new limits apply here at once (other processes pick them up within `resolution_cache_seconds`;
revocation and deactivation are admission conditions and apply everywhere on the next request).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from inference_core.admin_schemas import (
    LIMIT_FIELDS,
    CacheInvalidate,
    GuardrailsField,
    KeyUpdate,
    TeamCreate,
    TeamUpdate,
    UserUpdate,
)
from inference_core.errors import InvalidRequestError, NotFoundError
from inference_core.unset import UNSET, Unset

if TYPE_CHECKING:  # types only: the admin routes are built at import, the tables bound on first use
    from inference_core.db.audit import AuditRepository
    from inference_core.db.cache_admin import CacheAdminRepository
    from inference_core.db.directory import DirectoryRepository
    from inference_core.db.models import ApiKeyModel, AuditRecordModel, TeamModel, UserModel
    from inference_core.db.teams import TeamsRepository
    from inference_core.registry import ModelRegistry
    from inference_core.router import Router

MAX_PAGE = 100
USAGE_GROUPS = ("day", "model", "key", "user", "team")
USAGE_MAX_DAYS = 366
USAGE_DEFAULT_DAYS = 30


def _limits(item: Any) -> dict[str, Any]:
    values = {name: getattr(item, name) for name in LIMIT_FIELDS}
    for name in ("rpm_limit", "tpm_limit", "max_parallel_requests"):
        if values[name] is not None:
            values[name] = int(values[name])
    if values["max_budget_usd"] is not None:
        values["max_budget_usd"] = float(values["max_budget_usd"])
    if values["allowed_models"] is not None:
        values["allowed_models"] = list(values["allowed_models"])
    return values


def _guardrails(item: Any) -> dict[str, str] | None:
    """The item's own guardrail policy (None: the settings' policies apply)."""
    raw = item.guardrails
    if raw is None:
        return None
    values = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw)
    return {str(k): str(v) for k, v in values.items()} or None


def _guardrail_change(body: GuardrailsField) -> dict[str, str] | Unset | None:
    """The policy the body sets (None or {}: remove it), or UNSET when it names none."""
    if "guardrails" not in body.model_fields_set:
        return UNSET
    return body.guardrails or None


def _spend(item: Any) -> dict[str, float]:
    raw = item.spend.as_dict() if hasattr(item.spend, "as_dict") else dict(item.spend or {})
    return {period: round(float(value or 0), 10) for period, value in raw.items()}


def user_view(user: UserModel) -> dict[str, Any]:
    return {
        "object": "user",
        "id": user.user_id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "active": bool(user.is_active),
        "email_verified": bool(user.email_verified),
        "team_id": user.team_id,
        "created_at": int(user.created_at),
        **_limits(user),
        "spend": _spend(user),
    }


def team_view(team: TeamModel, members: list[UserModel] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "object": "team",
        "id": team.team_id,
        "name": team.name,
        "created_at": int(team.created_at),
        **_limits(team),
        "guardrails": _guardrails(team),
        "spend": _spend(team),
    }
    if members is not None:
        view["members"] = [{"id": u.user_id, "email": u.email, "role": u.role} for u in members]
    return view


def key_view(key: ApiKeyModel) -> dict[str, Any]:
    return {
        "object": "api_key",
        "id": key.key_id,
        "user_id": key.owner_id,
        "name": key.name,
        "prefix": key.prefix,
        "revoked": bool(key.revoked),
        "created_at": int(key.created_at),
        "expires_at": int(key.expires_at) if key.expires_at is not None else None,
        **_limits(key),
        "guardrails": _guardrails(key),
        "spend": _spend(key),
    }


def audit_view(record: AuditRecordModel) -> dict[str, Any]:
    return {
        "object": "audit_record",
        "id": record.audit_id,
        "actor_id": record.actor_id,
        "action": record.action,
        "target_type": record.target_type,
        "target_id": record.target_id,
        "before": record.before,
        "after": record.after,
        "at": float(record.at),
    }


def _applied(
    view: dict[str, Any],
    changes: dict[str, Any],
    guardrails: dict[str, str] | Unset | None = UNSET,
) -> dict[str, Any]:
    """The view as the change writes it: `changes` (None: a limit removed) and the policy."""
    after = {**view, **changes}
    if not isinstance(guardrails, Unset):
        after["guardrails"] = guardrails or None
    if after.get("allowed_models") is not None:
        after["allowed_models"] = list(after["allowed_models"])
    return after


def _audited(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """What an audit record keeps of a target: its settings, not its running counters."""
    if view is None:
        return None
    return {k: v for k, v in view.items() if k not in ("spend", "object")}


def _page_size(limit: int | None) -> int:
    if limit is None:
        return 20
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequestError(f"limit is between 1 and {MAX_PAGE}.", param="limit")
    return limit


def _page(rows: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": rows,
        "has_more": has_more,
        "after": rows[-1]["id"] if rows and has_more else None,
    }


class AdminService:
    def __init__(
        self,
        *,
        directory: DirectoryRepository,
        teams: TeamsRepository,
        audit: AuditRepository,
        cache: CacheAdminRepository,
        registry: ModelRegistry,
        router: Router | None = None,
        forget_resolutions: Callable[[], None] = lambda: None,
        now: Callable[[], float] = time.time,
    ):
        self.directory = directory
        self.teams = teams
        self.audit = audit
        self.cache = cache
        self.registry = registry
        self.router = router
        self._forget = forget_resolutions
        self._now = now

    def _entry(
        self,
        actor_id: str,
        action: str,
        target_type: str,
        target_id: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> AuditRecordModel:
        """The audit record of a change, for the repository to write with the change itself."""
        return self.audit.entry(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=_audited(before),
            after=_audited(after),
        )

    # ---- users ----

    def _user(self, user_id: str) -> UserModel:
        user = self.directory.user(user_id)
        if user is None:
            raise NotFoundError(f"No user with id '{user_id}'.", code="user_not_found")
        return user

    def list_users(
        self, *, email: str | None, limit: int | None, after: str | None
    ) -> dict[str, Any]:
        users, more = self.directory.users_page(limit=_page_size(limit), after=after, email=email)
        return _page([user_view(u) for u in users], more)

    def get_user(self, user_id: str) -> dict[str, Any]:
        return user_view(self._user(user_id))

    def update_user(self, actor_id: str, user_id: str, body: UserUpdate) -> dict[str, Any]:
        user = self._user(user_id)
        before = user_view(user)
        fields = body.model_fields_set
        if "active" in fields and body.active is None:
            raise InvalidRequestError("active is true or false.", param="active")
        if "role" in fields and body.role is None:
            raise InvalidRequestError("role is user or superuser.", param="role")
        if actor_id == user_id and (body.active is False or body.role == "user"):
            raise InvalidRequestError(
                "A superuser cannot deactivate or demote themselves.", code="self_lockout"
            )
        limits = body.limit_changes()
        changes = {
            **limits,
            **({"role": body.role} if body.role is not None else {}),
            **({"active": body.active} if body.active is not None else {}),
        }
        after = _applied(before, changes)
        self.directory.update_user(
            user,
            role=body.role,
            active=body.active,
            limits=limits,
            audit=self._entry(actor_id, "user.update", "user", user_id, before, after),
        )
        self._forget()
        return after

    # ---- teams ----

    def _team(self, team_id: str) -> TeamModel:
        team = self.teams.get(team_id)
        if team is None:
            raise NotFoundError(f"No team with id '{team_id}'.", code="team_not_found")
        return team

    def create_team(self, actor_id: str, body: TeamCreate) -> dict[str, Any]:
        from inference_core.db.models import TeamModel  # PynamoDB: on first use, not at import

        now = int(self._now())
        limits = {k: v for k, v in body.limit_changes().items() if v is not None}
        team = TeamModel(
            f"team_{uuid.uuid4().hex[:20]}",
            name=body.name,
            created_at=now,
            updated_at=now,
            deleted=False,
            guardrails=body.guardrails or None,
            **limits,
        )
        view = team_view(team, [])
        self.teams.create(
            team, audit=self._entry(actor_id, "team.create", "team", team.team_id, None, view)
        )
        self._forget()
        return view

    def list_teams(self, *, limit: int | None, after: str | None) -> dict[str, Any]:
        teams, more = self.teams.page(limit=_page_size(limit), after=after)
        return _page([team_view(t) for t in teams], more)

    def get_team(self, team_id: str) -> dict[str, Any]:
        return team_view(self._team(team_id), self.teams.members(team_id))

    def update_team(self, actor_id: str, team_id: str, body: TeamUpdate) -> dict[str, Any]:
        team = self._team(team_id)
        if "name" in body.model_fields_set and body.name is None:
            raise InvalidRequestError("A team needs a name.", param="name")
        before = team_view(team)
        limits, guardrails = body.limit_changes(), _guardrail_change(body)
        after = _applied(
            before, {**limits, **({"name": body.name} if body.name else {})}, guardrails
        )
        self.teams.update(
            team,
            name=body.name,
            limits=limits,
            guardrails=guardrails,
            audit=self._entry(actor_id, "team.update", "team", team_id, before, after),
        )
        self._forget()
        return after

    def delete_team(self, actor_id: str, team_id: str) -> dict[str, Any]:
        team = self._team(team_id)
        members = self.teams.members(team_id)
        before = team_view(team, members)
        self.teams.delete(  # its members no longer belong to any team
            team,
            members,
            audit=self._entry(actor_id, "team.delete", "team", team_id, before, None),
            member_audit=lambda user: self._entry(
                actor_id,
                "team.remove_member",
                "user",
                user.user_id,
                {"team_id": team_id},
                {"team_id": None},
            ),
        )
        self._forget()
        return {"object": "team.deleted", "id": team_id, "deleted": True}

    def add_member(self, actor_id: str, team_id: str, user_id: str) -> dict[str, Any]:
        self._team(team_id)
        user = self._user(user_id)
        before = {"team_id": user.team_id}
        self.teams.add_member(
            user,
            team_id,
            audit=self._entry(
                actor_id, "team.add_member", "user", user_id, before, {"team_id": team_id}
            ),
        )
        self._forget()
        return self.get_team(team_id)

    def remove_member(self, actor_id: str, team_id: str, user_id: str) -> dict[str, Any]:
        self._team(team_id)
        user = self._user(user_id)
        audit = self._entry(
            actor_id, "team.remove_member", "user", user_id, {"team_id": team_id}, {"team_id": None}
        )
        if not self.teams.remove_member(user, team_id, audit=audit):
            raise NotFoundError(
                f"The user '{user_id}' is not a member of this team.", code="member_not_found"
            )
        self._forget()
        return self.get_team(team_id)

    # ---- keys ----

    def _key(self, key_id: str) -> ApiKeyModel:
        key = self.directory.key(key_id)
        if key is None:
            raise NotFoundError(f"No API key with id '{key_id}'.", code="api_key_not_found")
        return key

    def list_keys(
        self,
        *,
        user_id: str | None,
        team_id: str | None,
        limit: int | None,
        after: str | None,
    ) -> dict[str, Any]:
        owners: list[str] | None = None
        if team_id is not None:
            owners = [u.user_id for u in self.teams.members(team_id)]
        if user_id is not None:
            owners = [user_id] if owners is None or user_id in owners else []
        keys, more = self.directory.keys_page(
            limit=_page_size(limit), after=after, owner_ids=owners
        )
        return _page([key_view(k) for k in keys], more)

    def update_key(self, actor_id: str, key_id: str, body: KeyUpdate) -> dict[str, Any]:
        key = self._key(key_id)
        before = key_view(key)
        limits, guardrails = body.limit_changes(), _guardrail_change(body)
        named: dict[str, Any] = {"name": body.name} if body.name is not None else {}
        if body.expires_at is not None:
            named["expires_at"] = int(body.expires_at)
        after = _applied(before, {**limits, **named}, guardrails)
        self.directory.update_key(
            key,
            name=body.name,
            expires_at=body.expires_at,
            limits=limits,
            guardrails=guardrails,
            audit=self._entry(actor_id, "key.update", "key", key_id, before, after),
        )
        self._forget()
        return after

    def revoke_key(self, actor_id: str, key_id: str) -> dict[str, Any]:
        key = self._key(key_id)
        before = key_view(key)
        # Already revoked: nothing to write, and nothing happened to record (a retry lands here).
        self.directory.revoke_key(
            key,
            audit=self._entry(
                actor_id, "key.revoke", "key", key_id, before, {**before, "revoked": True}
            ),
        )
        self._forget()
        return {"object": "api_key.deleted", "id": key_id, "deleted": True}

    # ---- usage ----

    def usage(
        self,
        *,
        team_id: str | None = None,
        user_id: str | None = None,
        key_id: str | None = None,
        model: str | None = None,
        start: str | None = None,
        end: str | None = None,
        group_by: str | None = None,
    ) -> dict[str, Any]:
        """The deployment's usage from the daily aggregates: one Query on the narrowest scope the
        filters name (key, user, team, model; with none, one per registry model); the other
        filters apply to the rows read."""
        start_day, end_day = _usage_range(start, end)
        grouping = group_by or "day"
        if grouping not in USAGE_GROUPS:
            raise InvalidRequestError(
                "group_by is one of " + ", ".join(USAGE_GROUPS) + ".",
                code="invalid_group_by",
                param="group_by",
            )
        if key_id:
            scopes, kind = [f"key#{key_id}"], "key"
        elif user_id:
            scopes, kind = [f"user#{user_id}"], "user"
        elif team_id:
            scopes, kind = [f"team#{team_id}"], "team"
        elif model:
            scopes, kind = [f"model#{model}"], "model"
        else:
            scopes, kind = [f"model#{e.alias}" for e in self.registry.entries()], "model"
        if grouping == "key" and kind not in ("key", "user"):
            raise InvalidRequestError(
                "group_by=key needs key_id or user_id (teams and models count per user).",
                code="invalid_group_by",
                param="group_by",
            )
        from inference_core.db.usage import NO_KEY, read_aggregates

        rows = [
            row
            for scope in scopes
            for row in read_aggregates(scope, start_day.isoformat(), end_day.isoformat())
        ]
        totals = {"requests": 0, "cached_requests": 0, "input_tokens": 0, "output_tokens": 0}
        cost = 0.0
        buckets: dict[str, dict[str, Any]] = {}
        for row in rows:
            row_user = row.user_id or (
                row.sk.rsplit("#", 1)[-1] if kind in ("team", "model") else None
            )
            if model and row.model != model:
                continue
            if user_id and row_user != user_id and kind != "user":
                continue
            if team_id and kind != "team" and row.team_id != team_id:
                continue
            name = {
                "day": row.day,
                "model": row.model,
                "key": key_id if kind == "key" else row.sk.rsplit("#", 1)[-1],
                "user": row_user or "-",
                "team": team_id if kind == "team" else (row.team_id or "-"),
            }[grouping]
            bucket = buckets.setdefault(str(name), {**dict.fromkeys(totals, 0), "cost_usd": 0.0})
            for field in totals:
                value = int(getattr(row, field) or 0)
                bucket[field] += value
                totals[field] += value
            bucket["cost_usd"] += float(row.cost_usd or 0)
            cost += float(row.cost_usd or 0)
        label = {"key": "key_id", "user": "user_id", "team": "team_id"}.get(grouping, grouping)
        data = [
            {
                label: None if name in (NO_KEY,) else name,
                **{f: buckets[name][f] for f in totals},
                "cost_usd": round(buckets[name]["cost_usd"], 10),
            }
            for name in sorted(buckets)
        ]
        return {
            "object": "usage",
            "start": start_day.isoformat(),
            "end": end_day.isoformat(),
            "group_by": grouping,
            "total_requests": totals["requests"],
            "total_cached_requests": totals["cached_requests"],
            "total_input_tokens": totals["input_tokens"],
            "total_output_tokens": totals["output_tokens"],
            "total_cost_usd": round(cost, 10),
            "data": data,
        }

    # ---- cache and providers ----

    def cache_stats(self) -> dict[str, Any]:
        """Live entries and bytes per model (the cache table), hits today (the aggregates)."""
        from inference_core.db.usage import read_aggregates

        stats = self.cache.stats_by_model()
        today = datetime.fromtimestamp(self._now(), UTC).date().isoformat()
        models = sorted(set(stats) | {e.alias for e in self.registry.entries()})
        data = []
        for name in models:
            hits = sum(
                int(r.cached_requests or 0) for r in read_aggregates(f"model#{name}", today, today)
            )
            row = stats.get(name, {"entries": 0, "bytes": 0})
            data.append(
                {
                    "model": name,
                    "entries": row["entries"],
                    "bytes": row["bytes"],
                    "hits_today": hits,
                }
            )
        return {
            "object": "cache",
            "total_entries": sum(r["entries"] for r in data),
            "total_bytes": sum(r["bytes"] for r in data),
            "data": data,
        }

    def invalidate_cache(self, actor_id: str, body: CacheInvalidate) -> dict[str, Any]:
        if body.tenant_id is None and body.model is None:
            raise InvalidRequestError(
                "Name a tenant_id, a model, or both.", code="missing_filter", param="tenant_id"
            )
        deleted = self.cache.invalidate(tenant_id=body.tenant_id, model=body.model)
        scope = {"tenant_id": body.tenant_id, "model": body.model}
        # The one change whose record follows it: the deletes are any number of items, more than
        # a transaction holds, and doing them again on a retry is harmless.
        self.audit.record(
            self._entry(
                actor_id,
                action="cache.invalidate",
                target_type="cache",
                target_id=f"{body.tenant_id or '*'}/{body.model or '*'}",
                before=scope,
                after={**scope, "deleted": deleted},
            )
        )
        self._forget()
        return {"object": "cache.invalidated", "deleted": deleted, **scope}

    def providers(self) -> dict[str, Any]:
        """Each deployment of each alias: configured or not, breaker state, recent error rate
        (this process's view: breakers and counters are per process)."""
        data = []
        for entry in self.registry.entries():
            for deployment in entry.deployments:
                configured = True
                if self.router is not None:
                    try:
                        self.router.provider(deployment.provider)
                    except Exception:  # not configured is the answer, not an error
                        configured = False
                health = self.router.breaker.health(deployment) if self.router is not None else {}
                data.append(
                    {
                        "model": entry.alias,
                        "deployment": deployment.label,
                        "provider": deployment.provider,
                        "upstream_model": deployment.model,
                        "configured": configured,
                        **health,
                    }
                )
        return {"object": "list", "data": data}

    def resilience(self) -> dict[str, Any]:
        """The active resilience preset and its figures, and each deployment's breaker and cold
        state (this process's view)."""
        if self.router is None:
            return {"object": "resilience", "preset": None, "policy": None, "models": {}}
        return {"object": "resilience", **self.router.describe()}

    # ---- audit ----

    def audit_log(
        self, *, limit: int | None, after: str | None, target_id: str | None
    ) -> dict[str, Any]:
        records, cursor = self.audit.page(limit=_page_size(limit), after=after, target_id=target_id)
        return {
            "object": "list",
            "data": [audit_view(r) for r in records],
            "has_more": cursor is not None,
            "after": cursor,
        }


def _usage_range(start: str | None, end: str | None) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    try:
        end_day = date.fromisoformat(end) if end else today
        start_day = (
            date.fromisoformat(start) if start else end_day - timedelta(USAGE_DEFAULT_DAYS - 1)
        )
    except ValueError:
        raise InvalidRequestError(
            "start and end are dates: YYYY-MM-DD.", code="invalid_date", param="start"
        ) from None
    if start_day > end_day:
        raise InvalidRequestError("start is after end.", code="invalid_date", param="start")
    if (end_day - start_day).days >= USAGE_MAX_DAYS:
        raise InvalidRequestError(
            f"The range may span at most {USAGE_MAX_DAYS} days.", code="invalid_date", param="start"
        )
    return start_day, end_day
