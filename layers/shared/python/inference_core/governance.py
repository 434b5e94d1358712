"""Governance of every inference request: its levels, its reservation, admit before the provider
call and settle after it, and the `x-ratelimit-*` headers.

- **Levels**: the API key, its user, the user's team (`resolve_*`). The resolution (ids, limits,
  allowed models) is cached in-process for `resolution_cache_seconds` (≤ 30 s); revocation,
  expiry, deactivation and signed-out sessions are never cached: they are conditions of the
  admission transaction, so they take effect on the very next request.
- **Reservation**: estimated prompt tokens (`estimate.prompt_tokens`) plus `max_tokens` (or the
  deployment's output cap), priced at the most expensive deployment the router may fall back to.
- **Admit / settle**: `db.admission` (one transaction each). See docs/governance.md.

The `x-ratelimit-remaining-*` figures come from the counts this process last read or wrote (the
transaction does not return the items it updated): exact for one process, a little generous when
many share a level. Limits themselves are enforced exactly by DynamoDB.
"""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from inference_core.db.admission import (
    Admission,
    AdmissionStore,
    Guard,
    Item,
    Level,
    Limits,
    Settlement,
    day_of,
    minute_of,
    period_id,
)
from inference_core.db.governance import GovernanceReads
from inference_core.errors import AuthenticationError, RateLimitError
from inference_core.observability import get_logger

if TYPE_CHECKING:
    from inference_core.settings import Settings

# Response headers the governance adds (x-ratelimit-*); the request middleware puts a fresh dict
# here per request and copies it onto the response.
response_headers: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "governance_response_headers", default=None
)


class GovernedCaller(Protocol):
    """What the governance needs of a caller (an `auth.principal.Principal`)."""

    @property
    def user_id(self) -> str: ...
    @property
    def key_id(self) -> str | None: ...
    @property
    def key_hash(self) -> str | None: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def token_issued_at(self) -> float | None: ...
    @property
    def is_anonymous(self) -> bool: ...


@dataclass(frozen=True)
class LevelSnapshot:
    """One level as the last read saw it (cached; never trusted for revocation)."""

    name: str
    table: str
    key: Item
    hash_attribute: str
    limits: Limits
    allowed_models: frozenset[str] | None
    stale: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Resolution:
    user_id: str
    role: str
    email: str | None
    key_id: str | None
    key_hash: str | None
    team_id: str | None
    levels: tuple[LevelSnapshot, ...]
    user_item: Item = field(repr=False, default_factory=dict)
    key_item: Item | None = field(repr=False, default=None)
    # The guardrail policies the team and key items carry (set by the admin API; None: none).
    team_guardrails: dict[str, str] | None = None
    key_guardrails: dict[str, str] | None = None

    @property
    def allowed_models(self) -> frozenset[str] | None:
        allowed: frozenset[str] | None = None
        for level in self.levels:
            if level.allowed_models is not None:
                allowed = (
                    level.allowed_models if allowed is None else allowed & level.allowed_models
                )
        return allowed

    def level(self, name: str) -> LevelSnapshot | None:
        return next((lv for lv in self.levels if lv.name == name), None)


def _s(item: Item, name: str) -> str | None:
    value = item.get(name) or {}
    return str(value["S"]) if "S" in value else None


def _num(item: Item, name: str) -> float | None:
    value = item.get(name) or {}
    return float(value["N"]) if "N" in value else None


def _int(item: Item, name: str) -> int | None:
    value = _num(item, name)
    return None if value is None else int(value)


def _bool(item: Item, name: str) -> bool | None:
    value = item.get(name) or {}
    return bool(value["BOOL"]) if "BOOL" in value else None


def _models(item: Item) -> frozenset[str] | None:
    value = item.get("allowed_models") or {}
    if "L" not in value:
        return None
    return frozenset(str(v.get("S")) for v in value["L"] if "S" in v)


def guardrails_of(item: Item | None) -> dict[str, str] | None:
    """An item's `guardrails` map (check → mode), read with the item the resolution already has."""
    value = (item or {}).get("guardrails") or {}
    if "M" not in value:
        return None
    return {str(k): str(v["S"]) for k, v in value["M"].items() if "S" in v} or None


def limits_of(item: Item, *, defaults: Limits | None = None, period: str = "month") -> Limits:
    d = defaults or Limits()
    rpm, tpm = _int(item, "rpm_limit"), _int(item, "tpm_limit")
    parallel, budget = _int(item, "max_parallel_requests"), _num(item, "max_budget_usd")
    return Limits(
        rpm=d.rpm if rpm is None else rpm,
        tpm=d.tpm if tpm is None else tpm,
        parallel=d.parallel if parallel is None else parallel,
        budget_usd=d.budget_usd if budget is None else budget,
        period=_s(item, "budget_period") or (d.period if defaults else period),
    )


def _stale_entries(item: Item, now: float, limits: Limits) -> tuple[tuple[str, str], ...]:
    minute = minute_of(now)
    current_period = period_id(limits.period, now)
    stale: list[tuple[str, str]] = []
    for name in ("request_window", "token_window"):
        for entry in (item.get(name) or {}).get("M", {}):
            if not entry.isdigit() or int(entry) < minute - 2:
                stale.append((name, entry))
    for entry in (item.get("spend") or {}).get("M", {}):
        if entry != current_period:
            stale.append(("spend", entry))
    return tuple(stale[:20])


class _Counts:
    """This process's view of each level item's current minute (for the x-ratelimit headers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, float, float]] = {}

    @staticmethod
    def _id(level: LevelSnapshot | Level) -> str:
        return f"{level.table}:{sorted(level.key.items())}"

    def seed(self, level: LevelSnapshot, item: Item, minute: int) -> None:
        requests = float(
            (item.get("request_window") or {}).get("M", {}).get(str(minute), {}).get("N", 0)
        )
        tokens = float(
            (item.get("token_window") or {}).get("M", {}).get(str(minute), {}).get("N", 0)
        )
        with self._lock:
            self._seen[self._id(level)] = (minute, requests, tokens)

    def add(self, level: Level, minute: int, tokens: float) -> tuple[float, float]:
        with self._lock:
            seen_minute, requests, used = self._seen.get(self._id(level), (minute, 0.0, 0.0))
            if seen_minute != minute:
                requests, used = 0.0, 0.0
            requests, used = requests + 1, used + tokens
            self._seen[self._id(level)] = (minute, requests, used)
            return requests, used


class Governance:
    """Resolution cache + admission store; one per process (`auth.deps.get_governance`)."""

    def __init__(
        self,
        *,
        settings: Settings,
        reads: GovernanceReads | None = None,
        store: AdmissionStore | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.reads = reads or GovernanceReads()
        self.store = store or AdmissionStore(lambda: self.reads.client)
        self.clock = clock
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, Resolution]] = {}
        self._lock = threading.Lock()
        self._counts = _Counts()
        self._alerts: Any = None  # BudgetAlerts, built on the first settle that spends a budget

    # ---- resolution (cached ≤ resolution_cache_seconds) ----

    def _fresh(self, cache_key: str, now: float) -> Resolution | None:
        ttl = min(30.0, self.settings.governance.resolution_cache_seconds)
        with self._lock:
            hit = self._cache.get(cache_key)
        return hit[1] if hit is not None and now - hit[0] < ttl else None

    def _cached(self, cache_key: str, load: Callable[[], Resolution]) -> Resolution:
        now = self._monotonic()
        fresh = self._fresh(cache_key, now)
        if fresh is not None:
            return fresh
        resolution = load()
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[cache_key] = (now, resolution)
        return resolution

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def resolve_key(self, key_hash: str) -> Resolution:
        """The levels of an API key; 401 if it is unknown, revoked or expired (checked again by
        every admission)."""
        return self._cached("key:" + key_hash, lambda: self._load_key(key_hash))

    def resolve_user(self, user_id: str) -> Resolution:
        return self._cached("user:" + user_id, lambda: self._load_user(user_id, None, None))

    def cached_key(self, key_hash: str) -> Resolution | None:
        """`resolve_key` if it is cached (no DynamoDB call, so safe on the event loop); else None."""
        return self._fresh("key:" + key_hash, self._monotonic())

    def cached_user(self, user_id: str) -> Resolution | None:
        """`resolve_user` if it is cached; else None."""
        return self._fresh("user:" + user_id, self._monotonic())

    def resolve_key_id(self, owner_id: str, key_id: str) -> Resolution:
        """The levels of a key known by its id (batch lines); 401 if it no longer exists."""

        def load() -> Resolution:
            key_hash = self.reads.key_hash_for(owner_id, key_id)
            if key_hash is None:
                raise AuthenticationError("The API key no longer exists.", code="invalid_api_key")
            return self._load_key(key_hash)

        return self._cached(f"keyid:{owner_id}:{key_id}", load)

    def _load_key(self, key_hash: str) -> Resolution:
        item = self.reads.key(key_hash)
        now = self.clock()
        if item is None or _bool(item, "revoked"):
            raise AuthenticationError("Incorrect API key provided.", code="invalid_api_key")
        expires = _num(item, "expires_at")
        if expires is not None and expires <= now:
            raise AuthenticationError("This API key has expired.", code="api_key_expired")
        owner = _s(item, "owner_id") or ""
        key_limits = limits_of(item, period=self.settings.governance.default_budget_period)
        snapshot = self._snapshot(
            "key",
            self.reads.keys_table,
            {"key_hash": {"S": key_hash}},
            "key_hash",
            item,
            key_limits,
            now,
        )
        return self._load_user(owner, snapshot, item)

    def _load_user(
        self, user_id: str, key_level: LevelSnapshot | None, key_item: Item | None
    ) -> Resolution:
        item = self.reads.user(user_id)
        now = self.clock()
        if item is None:
            raise AuthenticationError("The token is invalid.", code="invalid_token")
        if not _bool(item, "is_active"):
            raise AuthenticationError("This account is disabled.", code="account_disabled")
        g = self.settings.governance
        defaults = Limits(
            rpm=self.settings.auth.default_rpm,
            tpm=g.default_tpm_limit,
            parallel=g.default_max_parallel_requests,
            budget_usd=g.default_max_budget_usd,
            period=g.default_budget_period,
        )
        levels = [key_level] if key_level else []
        levels.append(
            self._snapshot(
                "user",
                self.reads.users_table,
                {"user_id": {"S": user_id}},
                "user_id",
                item,
                limits_of(item, defaults=defaults),
                now,
            )
        )
        team_id = _s(item, "team_id")
        team_guardrails = None
        if team_id:
            team = self.reads.team(team_id)
            if team is None or _bool(team, "deleted"):
                team_id = None
            else:
                team_guardrails = guardrails_of(team)
                levels.append(
                    self._snapshot(
                        "team",
                        self.reads.teams_table,
                        {"team_id": {"S": team_id}},
                        "team_id",
                        team,
                        limits_of(team, period=g.default_budget_period),
                        now,
                    )
                )
        return Resolution(
            user_id=user_id,
            role=_s(item, "role") or "user",
            email=_s(item, "email"),
            key_id=_s(key_item, "key_id") if key_item else None,
            key_hash=_s(key_item, "key_hash") if key_item else None,
            team_id=team_id,
            levels=tuple(levels),
            user_item=item,
            key_item=key_item,
            team_guardrails=team_guardrails,
            key_guardrails=guardrails_of(key_item),
        )

    def _snapshot(
        self,
        name: str,
        table: str,
        key: Item,
        hash_attribute: str,
        item: Item,
        limits: Limits,
        now: float,
    ) -> LevelSnapshot:
        self.reads.ensure_state_maps(table, key, hash_attribute, item)
        snapshot = LevelSnapshot(
            name=name,
            table=table,
            key=key,
            hash_attribute=hash_attribute,
            limits=limits,
            allowed_models=_models(item),
            stale=_stale_entries(item, now, limits),
        )
        self._counts.seed(snapshot, item, minute_of(now))
        return snapshot

    def resolve(self, caller: GovernedCaller) -> Resolution | None:
        """The caller's levels (None: the anonymous caller of a public gateway is not governed)."""
        if caller.is_anonymous:
            return None
        if caller.key_hash:
            return self.resolve_key(caller.key_hash)
        if caller.key_id:
            return self.resolve_key_id(caller.user_id, caller.key_id)
        return self.resolve_user(caller.user_id)

    # ---- admission ----

    def admit(
        self, caller: GovernedCaller, *, request_id: str, tokens: int, cost_usd: float
    ) -> Admission | None:
        """One transaction over the caller's levels; raises 401/429 (see db.admission)."""
        resolution = self.resolve(caller)
        if resolution is None:
            return None
        now = self.clock()
        levels = [self._level(s, caller, now) for s in resolution.levels]
        try:
            admission = self.store.admit(
                levels,
                # Never the client-influenced request id: each admission owns exactly one lease.
                lease_id=f"{uuid.uuid4().hex}",
                tokens=tokens,
                cost_usd=cost_usd,
                now=now,
                lease_seconds=self.settings.governance.lease_seconds,
            )
        except RateLimitError as exc:
            get_logger().info(
                "admission refused",
                extra={"request_id": request_id, "level": exc.level, "limit": exc.limit},
            )
            raise
        for level in admission.levels:
            requests, used = self._counts.add(level, admission.minute, tokens)
            admission.observed[level.name] = {"requests": requests, "tokens": used}
        holder = response_headers.get()
        if holder is not None:
            holder.update(rate_limit_headers(admission))
        return admission

    def _level(self, snapshot: LevelSnapshot, caller: GovernedCaller, now: float) -> Level:
        if snapshot.name == "key":
            guard = _key_guard(now)
        elif snapshot.name == "user":
            guard = _user_guard(
                caller.session_id, caller.token_issued_at, keyed=bool(caller.key_id)
            )
        else:
            guard = Guard(
                condition="attribute_not_exists(#gdl) OR #gdl = :gf",
                names={"#gdl": "deleted"},
                values={":gf": {"BOOL": False}},
                explain=lambda old: None,
            )
        return Level(
            name=snapshot.name,
            table=snapshot.table,
            key=snapshot.key,
            hash_attribute=snapshot.hash_attribute,
            limits=snapshot.limits,
            guard=guard,
            optional=snapshot.name == "team",
            stale=snapshot.stale,
        )

    # ---- settle ----

    def settle(
        self,
        admission: Admission,
        *,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float,
        cached: bool,
        model: str,
        ledger: Any | None,
        cache_entry: Any | None,
    ) -> bool:
        """The one write after the call (see db.admission.AdmissionStore.settle)."""
        from inference_core.db.models import CacheEntryModel, UsageAggregateModel, UsageRecordModel

        now = self.clock()
        user_level = next((lv for lv in admission.levels if lv.name == "user"), None)
        team_level = next((lv for lv in admission.levels if lv.name == "team"), None)
        retention = self.settings.governance.usage_aggregate_retention_days * 86400
        outcome = Settlement(
            input_tokens=0 if cached else input_tokens,
            output_tokens=0 if cached else output_tokens,
            cost_usd=0.0 if cached else cost_usd,
            ledger_item=ledger.serialize() if ledger is not None else None,
            ledger_table=str(UsageRecordModel.Meta.table_name),
            cache_item=cache_entry.serialize() if cache_entry is not None else None,
            cache_table=str(CacheEntryModel.Meta.table_name),
            day=day_of(admission.now),
            model=model,
            user_id=str(user_level.key["user_id"]["S"]) if user_level else "",
            key_id=ledger.key_id if ledger is not None else None,
            team_id=str(team_level.key["team_id"]["S"]) if team_level else None,
            cached=cached,
            aggregates_table=str(UsageAggregateModel.Meta.table_name),
            aggregate_expires_at=int(now) + retention,
        )
        try:
            settled = self.store.settle(admission, outcome, now=now)
        except Exception as exc:  # a settle never fails the request; the lease is reclaimed later
            get_logger().warning(
                "usage not settled",
                extra={"lease_id": admission.lease_id, "error": type(exc).__name__},
            )
            return False
        if settled and outcome.cost_usd > 0:
            self._alert_budgets(admission, outcome)
        return settled

    def _alert_budgets(self, admission: Admission, outcome: Settlement) -> None:
        """80 % / 100 % budget alerts for each level with a budget that this spend moved (one
        read per such level, after the settle; alerts never raise)."""
        levels = [lv for lv in admission.levels if lv.limits.budget_usd is not None]
        if not levels:
            return
        if self._alerts is None:
            from inference_core.budget_alerts import BudgetAlerts

            self._alerts = BudgetAlerts(settings=self.settings)
        for level in levels:
            level_id = str(level.key[level.hash_attribute]["S"])
            self._alerts.check_settled(
                level.name,  # type: ignore[arg-type]
                level_id,
                table=level.table,
                key=level.key,
                budget_usd=level.limits.budget_usd,
                period=admission.periods[level.name],
                cost_usd=outcome.cost_usd,
                owner_id=outcome.user_id or None,
            )


def _key_guard(now: float) -> Guard:
    def explain(old: Item) -> None:
        if not old or _bool(old, "revoked"):
            raise AuthenticationError("Incorrect API key provided.", code="invalid_api_key")
        expires = _num(old, "expires_at")
        if expires is not None and expires <= now:
            raise AuthenticationError("This API key has expired.", code="api_key_expired")

    return Guard(
        condition="#grv = :gf AND (attribute_not_exists(#gkx) OR #gkx > :gnow)",
        names={"#grv": "revoked", "#gkx": "expires_at"},
        values={":gf": {"BOOL": False}, ":gnow": {"N": str(int(now))}},
        explain=explain,
    )


def _user_guard(session_id: str | None, issued_at: float | None, *, keyed: bool) -> Guard:
    condition = "#gia = :gt"
    names = {"#gia": "is_active"}
    values: Item = {":gt": {"BOOL": True}}
    if session_id is not None and issued_at is not None:
        condition += (
            " AND (attribute_not_exists(#gtv) OR #gtv <= :giat)"
            " AND attribute_not_exists(#grs.#gsid)"
        )
        names |= {"#gtv": "tokens_valid_after", "#grs": "revoked_sessions", "#gsid": session_id}
        values[":giat"] = {"N": repr(float(issued_at))}

    def explain(old: Item) -> None:
        if not old:
            raise AuthenticationError(
                "The token is invalid.", code="invalid_api_key" if keyed else "invalid_token"
            )
        if not _bool(old, "is_active"):
            raise AuthenticationError("This account is disabled.", code="account_disabled")
        if session_id is not None and issued_at is not None:
            if (_num(old, "tokens_valid_after") or 0) > issued_at:
                raise AuthenticationError("The session has been revoked.", code="token_revoked")
            if session_id in (old.get("revoked_sessions") or {}).get("M", {}):
                raise AuthenticationError("The session has been revoked.", code="token_revoked")

    return Guard(condition=condition, names=names, values=values, explain=explain)


def rate_limit_headers(admission: Admission) -> dict[str, str]:
    """OpenAI's x-ratelimit-* headers for the tightest level (by requests, then by tokens)."""
    headers: dict[str, str] = {}
    reset = max(1, int((admission.minute + 1) * 60 - admission.now))
    by_requests = [
        (lv.limits.rpm - admission.observed.get(lv.name, {}).get("requests", 0), lv)
        for lv in admission.levels
        if lv.limits.rpm is not None
    ]
    if by_requests:
        remaining, level = min(by_requests, key=lambda pair: pair[0])
        headers["x-ratelimit-limit-requests"] = str(level.limits.rpm)
        headers["x-ratelimit-remaining-requests"] = str(max(0, int(remaining)))
        headers["x-ratelimit-reset-requests"] = f"{reset}s"
    by_tokens = [
        (lv.limits.tpm - admission.observed.get(lv.name, {}).get("tokens", 0), lv)
        for lv in admission.levels
        if lv.limits.tpm is not None
    ]
    if by_tokens:
        remaining, level = min(by_tokens, key=lambda pair: pair[0])
        headers["x-ratelimit-limit-tokens"] = str(level.limits.tpm)
        headers["x-ratelimit-remaining-tokens"] = str(max(0, int(remaining)))
        headers["x-ratelimit-reset-tokens"] = f"{reset}s"
    return headers


def key_budget_status(key: Any, *, now: float | None = None) -> tuple[float, float | None, str]:
    """(this period's spend, what remains of the budget or None, the period) of an ApiKeyModel."""
    from inference_core.settings import get_settings

    period = key.budget_period or get_settings().governance.default_budget_period
    current = period_id(period, time.time() if now is None else now)
    raw = key.spend.as_dict() if hasattr(key.spend, "as_dict") else dict(key.spend or {})
    spent = round(float(raw.get(current, 0) or 0), 10)
    if key.max_budget_usd is None:
        return spent, None, period
    return spent, round(max(0.0, float(key.max_budget_usd) - spent), 10), period
