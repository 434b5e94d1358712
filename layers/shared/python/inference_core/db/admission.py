"""Admission and settle: the two DynamoDB writes around every governed provider call.

**Admit** is ONE `TransactWriteItems` over the levels of a request (the API key, its user, the
user's team). For each level it checks, in the condition, that the credential is still good (key
not revoked or expired, user active, the JWT's session family not signed out, team not deleted)
and that the request fits every limit the level carries, and in the same write it counts the
request and reserves its tokens and worst-case cost, and takes an in-flight lease:

    request_window.<minute> += 1        (rpm_limit: the count before must be < limit)
    token_window.<minute>   += tokens   (tpm_limit: the count before must be <= limit - tokens)
    spend.<period>          += cost     (max_budget_usd: the spend before must be <= budget - cost)
    leases.<request id>      = {x: expiry, c: cost, p: period}   (size(leases) < max_parallel)

DynamoDB conditions cannot add, so "count + n <= limit" is written "count <= limit - n" with the
right-hand side computed here from the level's limits. All levels hold or nothing is written, so
the limits are exact across any number of processes. Windows are fixed UTC minutes; budget periods
are UTC calendar days or months (or `total`). Old window and period entries are removed by later
admissions (the two previous minutes, the previous period, and whatever `stale` entries a read
found), so the maps stay a few entries long.

When the transaction is cancelled, DynamoDB returns each failed item as it was
(`ReturnValuesOnConditionCheckFailure=ALL_OLD`), and that says why: a credential problem (401), a
limit (429, naming the level and the limit), or leases that expired (their process died): those are
reclaimed (removed, and their reserved cost given back) by the retry, conditionally on still being
there, so a lease is reclaimed once.

**Contention.** Real DynamoDB cancels a transaction that touches an item another transaction has in
flight, with the reason `TransactionConflict` (botocore does not retry it): many clients on one key
make the admissions and settles of that key's and user's items collide. Both transactions retry
those cancellations, and only those (a `ConditionalCheckFailed` is an answer: a limit, a revoked
credential), with full-jitter exponential backoff (`conflict_backoff`): admission briefly, as it is
on the client's wait (at most `MAX_ADMIT_ATTEMPTS` attempts, sleeps ≤ 0.25 s in all, then 503 with
`Retry-After`), settle longer, as the client already has its answer (`MAX_SETTLE_ATTEMPTS`, ≤ 2 s).

**Settle** is ONE `TransactWriteItems` after the call: on each level the real tokens and cost
replace the reservation (`+= real - reserved`) and the lease is removed (on the condition that it
is still there: a level whose lease was reclaimed is settled with the real figures instead), plus
the ledger line, the daily aggregates (`db.usage.aggregate_keys`) and the cache fill. A settle never
fails the request: after its retries a lost settle returns False, and the caller records the request
as unmetered (an `UnmeteredRequests` metric and a log line carrying its usage:
`observability.record_unmetered`); its lease expires and is reclaimed.

**Riders**: a caller can have its own writes ride in the same two transactions (`riding`): the
batch worker claims the line in the admission and records its outcome and the job's counters in
the settle (`db.jobs.LineClaim`), so a line costs no extra round trip and is charged and counted
together or not at all. A rider explains its own refused items (see `TransactionRider`).
"""

from __future__ import annotations

import calendar
import contextlib
import contextvars
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import ClientError

from inference_core.db.availability import StoreGuard, error_code
from inference_core.db.usage import aggregate_keys
from inference_core.errors import (
    BudgetExceededError,
    RateLimitError,
    ServiceUnavailableError,
)
from inference_core.observability import get_logger

Item = dict[str, Any]  # a raw DynamoDB item: {"attr": {"S": "..."}}

MAX_ADMIT_ATTEMPTS = 6
MAX_SETTLE_ATTEMPTS = 8
# Full-jitter exponential backoff after a TransactionConflict: (first ceiling, cap) in seconds.
ADMIT_BACKOFF = (0.01, 0.08)
SETTLE_BACKOFF = (0.02, 0.5)
# Window entries older than this many minutes are removed by the next admission.
WINDOW_KEEP_MINUTES = 2


# ---- riders: writes of another module in the same transactions ----


class TransactionRider(Protocol):
    """Writes that ride in the admission and settle of the request running in this context.

    `admit_items`/`settle_items` give the items to add; `admit_refused` gets the cancellation
    reasons of those items and raises if one of them refused the admission (nothing is written);
    `settle_refused` gets theirs and answers whether to try again with its items (possibly
    changed) or without them (the usage is settled all the same); `settled` says whether its
    items were written."""

    def admit_items(self, now: float) -> list[Item]: ...
    def admit_refused(self, reasons: list[dict[str, Any]]) -> None: ...
    def settle_items(self, now: float) -> list[Item]: ...
    def settle_refused(self, reasons: list[dict[str, Any]]) -> bool: ...
    def settled(self, written: bool) -> None: ...


_rider: contextvars.ContextVar[TransactionRider | None] = contextvars.ContextVar(
    "ic_transaction_rider", default=None
)


@contextlib.contextmanager
def riding(rider: TransactionRider) -> Iterator[None]:
    """Add `rider`'s writes to the admission and settle made in this context."""
    token = _rider.set(rider)
    try:
        yield
    finally:
        _rider.reset(token)


# ---- periods and windows ----


def minute_of(now: float) -> int:
    return int(now // 60)


def period_id(period: str, now: float) -> str:
    """The budget period `now` falls in: `d2026-12-01`, `m2026-12` or `total` (UTC)."""
    t = datetime.fromtimestamp(now, UTC)
    if period == "day":
        return f"d{t:%Y-%m-%d}"
    if period == "month":
        return f"m{t:%Y-%m}"
    return "total"


def previous_period_id(period: str, now: float) -> str | None:
    t = datetime.fromtimestamp(now, UTC)
    if period == "day":
        return f"d{t - timedelta(days=1):%Y-%m-%d}"
    if period == "month":
        first = t.replace(day=1)
        return f"m{first - timedelta(days=1):%Y-%m}"
    return None


def seconds_to_period_end(period: str, now: float) -> int:
    t = datetime.fromtimestamp(now, UTC)
    if period == "day":
        end = t.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    elif period == "month":
        days = calendar.monthrange(t.year, t.month)[1]
        end = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
    else:
        return 3600  # a total budget never resets: ask again in an hour (a raise may come)
    return max(1, int((end - t).total_seconds()) + 1)


def day_of(now: float) -> str:
    return f"{datetime.fromtimestamp(now, UTC):%Y-%m-%d}"


# The OS's entropy, not `random`'s state: Lambda instances restored from one SnapStart snapshot
# share that state (the data plane's restore hook does not run yet), and colliding instances
# drawing the same waits would collide again.
_JITTER = random.SystemRandom()


def conflict_backoff(attempt: int, backoff: tuple[float, float]) -> float:
    """Seconds to wait after the `attempt`-th (0-based) TransactionConflict: uniform between a
    tenth of the ceiling and the ceiling, which doubles per attempt up to the cap (the jitter
    spreads the colliding clients)."""
    first, cap = backoff
    ceiling = min(cap, first * 2**attempt)
    return _JITTER.uniform(ceiling / 10, ceiling)


# ---- what a level is ----


@dataclass(frozen=True)
class Limits:
    rpm: int | None = None
    tpm: int | None = None
    parallel: int | None = None
    budget_usd: float | None = None
    period: str = "month"


@dataclass(frozen=True)
class Guard:
    """The credential condition on a level's item, and how to explain its failure.

    `explain(old)` runs on the item as it was when the condition failed and raises the right
    error if the guard is what failed (it must raise when `old` is empty, unless the level is
    `optional`: a team that was deleted no longer applies)."""

    condition: str
    names: dict[str, str]
    values: Item
    explain: Callable[[Item], None]


@dataclass(frozen=True)
class Level:
    name: str  # "key" | "user" | "team"
    table: str
    key: Item
    hash_attribute: str
    limits: Limits
    guard: Guard
    optional: bool = False  # a missing or deleted item drops the level instead of refusing
    stale: tuple[tuple[str, str], ...] = ()  # (map attribute, entry) a read found out of date


@dataclass
class Admission:
    """What was written by a successful admission; what settle needs to undo or replace."""

    lease_id: str
    levels: tuple[Level, ...]
    now: float
    minute: int
    periods: dict[str, str]  # level name → period id
    tokens: int
    cost_usd: float
    lease_expires_at: float
    # Per level, the counts as this admission left them, where known (for x-ratelimit headers).
    observed: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Settlement:
    """The real outcome of an admitted request."""

    input_tokens: int
    output_tokens: int
    cost_usd: float
    ledger_item: Item | None  # the usage ledger line (serialized), with its table
    ledger_table: str | None
    cache_item: Item | None = None
    cache_table: str | None = None
    day: str = ""
    model: str = ""
    user_id: str = ""
    key_id: str | None = None
    team_id: str | None = None
    cached: bool = False
    aggregates_table: str = ""
    aggregate_expires_at: int = 0


def _num(value: Any) -> float:
    if isinstance(value, dict) and "N" in value:
        return float(value["N"])
    return 0.0


def _map(item: Item, name: str) -> dict[str, Any]:
    raw = item.get(name) or {}
    return dict(raw.get("M") or {})


def _n(value: float) -> dict[str, str]:
    """A DynamoDB number in plain decimal notation (never `9e-05`)."""
    if isinstance(value, int):
        return {"N": str(value)}
    text = f"{float(value):.12f}".rstrip("0").rstrip(".")
    return {"N": text if text not in ("", "-0") else "0"}


# ---- admission ----


class AdmissionStore:
    """The admission and settle transactions, over one botocore DynamoDB client."""

    def __init__(
        self,
        client_factory: Callable[[], Any],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._client_factory = client_factory
        self._sleep = sleep

    @property
    def client(self) -> Any:
        return self._client_factory()

    def admit(
        self,
        levels: Sequence[Level],
        *,
        lease_id: str,
        tokens: int,
        cost_usd: float,
        now: float,
        lease_seconds: int,
    ) -> Admission:
        """Authorize, count and reserve on every level in one transaction (see the module doc);
        raises AuthenticationError, RateLimitError or BudgetExceededError, all or nothing."""
        minute = minute_of(now)
        active = list(levels)
        for level in active:
            _refuse_if_never_fits(level, tokens, cost_usd, now)
        reclaim: dict[str, dict[str, tuple[str, float]]] = {}  # level → lease id → (period, c)
        rider = _rider.get()
        for attempt in range(MAX_ADMIT_ATTEMPTS):
            periods = {lv.name: period_id(lv.limits.period, now) for lv in active}
            items = [
                self._admit_item(
                    lv,
                    lease_id=lease_id,
                    tokens=tokens,
                    cost_usd=cost_usd,
                    now=now,
                    minute=minute,
                    period=periods[lv.name],
                    lease_expires_at=now + lease_seconds,
                    reclaim=reclaim.get(lv.name, {}),
                )
                for lv in active
            ]
            if rider is not None:
                items += rider.admit_items(now)
            ok, reasons = self._transact(items)
            if not ok and rider is not None:
                rider.admit_refused(reasons[len(active) :])  # raises if its items refused
            if ok:
                return Admission(
                    lease_id=lease_id,
                    levels=tuple(active),
                    now=now,
                    minute=minute,
                    periods=periods,
                    tokens=tokens,
                    cost_usd=cost_usd,
                    lease_expires_at=now + lease_seconds,
                )
            retry_now = False
            # A conflict on any item, a rider's included (`_transact` reports a
            # TransactionConflictException as one reason).
            conflict = any(r.get("Code") == "TransactionConflict" for r in reasons)
            for level, reason in zip(list(active), reasons, strict=False):
                code = reason.get("Code")
                if code == "TransactionConflict":
                    conflict = True
                    continue
                if code != "ConditionalCheckFailed":
                    continue
                old = dict(reason.get("Item") or {})
                if level.optional and (not old or _deleted(old)):
                    active.remove(level)  # the team is gone: its limits no longer apply
                    reclaim.pop(level.name, None)
                    retry_now = True
                    continue
                level.guard.explain(old)  # raises on a credential problem
                expired = _expired_leases(old, now, exclude=lease_id)
                known = reclaim.get(level.name, {})
                if any(lease not in _map(old, "leases") for lease in known):
                    reclaim[level.name] = {}  # someone else reclaimed first: start over
                    retry_now = True
                    continue
                refusal = _limit_refusal(
                    level,
                    old,
                    tokens=tokens,
                    cost_usd=cost_usd,
                    now=now,
                    minute=minute,
                    period=periods[level.name],
                    reclaiming=known,
                )
                if refusal is None:
                    retry_now = True  # the item changed under us (or lacks its maps): again
                    continue
                reclaim_helps = refusal.limit in ("max_budget_usd", "max_parallel_requests")
                if reclaim_helps and set(expired) - set(known):
                    reclaim[level.name] = {**known, **expired}
                    retry_now = True
                    continue
                raise refusal
            if conflict and not retry_now and attempt + 1 < MAX_ADMIT_ATTEMPTS:
                self._sleep(conflict_backoff(attempt, ADMIT_BACKOFF))
            elif not (conflict or retry_now):
                break
        raise ServiceUnavailableError(
            "The request could not be admitted; please retry.", retry_after=1
        )

    def _admit_item(
        self,
        level: Level,
        *,
        lease_id: str,
        tokens: int,
        cost_usd: float,
        now: float,
        minute: int,
        period: str,
        lease_expires_at: float,
        reclaim: dict[str, tuple[str, float]],
    ) -> Item:
        names: dict[str, str] = {
            "#pk": level.hash_attribute,
            "#rq": "request_window",
            "#tk": "token_window",
            "#sp": "spend",
            "#ls": "leases",
            "#m": str(minute),
            "#p": period,
            "#rid": lease_id,
            **level.guard.names,
        }
        given_back = sum(c for p, c in reclaim.values() if p == period)
        values: Item = {
            ":z": _n(0),
            ":one": _n(1),
            ":tok": _n(tokens),
            ":cost": _n(round(cost_usd - given_back, 10)),
            ":lease": {
                "M": {"x": _n(int(lease_expires_at)), "c": _n(cost_usd), "p": {"S": period}}
            },
            **level.guard.values,
        }
        conditions = ["attribute_exists(#pk)", f"({level.guard.condition})"]
        limits = level.limits
        if limits.rpm is not None:
            values[":rpm"] = _n(int(limits.rpm))
            conditions.append("(attribute_not_exists(#rq.#m) OR #rq.#m < :rpm)")
        if limits.tpm is not None:
            values[":troom"] = _n(int(limits.tpm) - tokens)
            conditions.append("(attribute_not_exists(#tk.#m) OR #tk.#m <= :troom)")
        if limits.budget_usd is not None:
            values[":broom"] = _n(round(limits.budget_usd - cost_usd + given_back, 10))
            conditions.append("(attribute_not_exists(#sp.#p) OR #sp.#p <= :broom)")
        if limits.parallel is not None:
            values[":par"] = _n(int(limits.parallel) + len(reclaim))
            conditions.append("size(#ls) < :par")
        removes: list[str] = []
        for i in range(1, WINDOW_KEEP_MINUTES + 1):
            names[f"#m{i}"] = str(minute - i)
            removes += [f"#rq.#m{i}", f"#tk.#m{i}"]
        previous = previous_period_id(limits.period, now)
        if previous is not None:
            names["#pp"] = previous
            removes.append("#sp.#pp")
        for i, (attribute, entry) in enumerate(level.stale):
            if attribute not in ("request_window", "token_window", "spend"):
                continue
            if entry in (str(minute), period):
                continue
            names[f"#s{i}"] = entry
            removes.append(f"{_ALIASES[attribute]}.#s{i}")
        for i, lease in enumerate(reclaim):
            names[f"#r{i}"] = lease
            conditions.append(f"attribute_exists(#ls.#r{i})")
            removes.append(f"#ls.#r{i}")
        sets = [
            "#rq.#m = if_not_exists(#rq.#m, :z) + :one",
            "#tk.#m = if_not_exists(#tk.#m, :z) + :tok",
            "#sp.#p = if_not_exists(#sp.#p, :z) + :cost",
            "#ls.#rid = :lease",
        ]
        if level.name == "key":  # the key's "last used", at no extra call (shown to its owner)
            names["#lu"] = "last_used_at"
            values[":now"] = _n(int(now))
            sets.append("#lu = :now")
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(dict.fromkeys(removes))
        return {
            "Update": {
                "TableName": level.table,
                "Key": level.key,
                "ConditionExpression": " AND ".join(conditions),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    # ---- settle ----

    def settle(self, admission: Admission, outcome: Settlement, *, now: float) -> bool:
        """Replace the reservation by the real usage on every level, release the lease, write the
        ledger line, the aggregates and the cache fill: one transaction. False if it was lost."""
        modes = {lv.name: "lease" for lv in admission.levels}
        rider = _rider.get()
        for attempt in range(MAX_SETTLE_ATTEMPTS):
            items: list[Item] = []
            settled_levels: list[Level] = []
            for level in admission.levels:
                if modes[level.name] == "drop":
                    continue
                items.append(self._settle_item(level, admission, outcome, now, modes[level.name]))
                settled_levels.append(level)
            items += self._record_items(outcome, now)
            riding_from = len(items)
            if rider is not None:
                items += rider.settle_items(now)
            ok, reasons = self._transact(items)
            if ok:
                if rider is not None:
                    rider.settled(True)
                return True
            conflict = changed = False
            if rider is not None and reasons:
                riders_reasons = reasons[riding_from:]
                # A refused rider item: it is retried changed, or left out.
                changed = any(r.get("Code") == "ConditionalCheckFailed" for r in riders_reasons)
                if not rider.settle_refused(riders_reasons):
                    rider.settled(False)
                    rider = None  # settle the usage without the rider's writes
                    changed = True
            for i, reason in enumerate(reasons):
                code = reason.get("Code")
                if code == "TransactionConflict":
                    conflict = True
                elif code == "ConditionalCheckFailed" and i < len(settled_levels):
                    level = settled_levels[i]
                    old = reason.get("Item") or {}
                    # The lease was reclaimed (the reservation is gone already): settle the real
                    # figures; an item that no longer exists is not settled at all.
                    modes[level.name] = "reclaimed" if old else "drop"
                    changed = True
            if not (conflict or changed):
                break  # cancelled for a reason a retry cannot change
            if conflict and attempt + 1 < MAX_SETTLE_ATTEMPTS:
                self._sleep(conflict_backoff(attempt, SETTLE_BACKOFF))
        if rider is not None:
            rider.settled(False)
        get_logger().warning(
            "usage not settled; the lease expires and is reclaimed",
            extra={"lease_id": admission.lease_id},
        )
        return False

    def _settle_item(
        self, level: Level, admission: Admission, outcome: Settlement, now: float, mode: str
    ) -> Item:
        names: dict[str, str] = {"#ls": "leases", "#rid": admission.lease_id}
        values: Item = {}
        sets: list[str] = []
        tokens = outcome.input_tokens + outcome.output_tokens
        if minute_of(now) == admission.minute:  # a past window is over: nothing to correct
            names |= {"#tk": "token_window", "#m": str(admission.minute)}
            values |= {":z": _n(0), ":dtok": _n(tokens - admission.tokens)}
            sets.append("#tk.#m = if_not_exists(#tk.#m, :z) + :dtok")
        period = admission.periods[level.name]
        if period_id(level.limits.period, now) == period:
            reserved = admission.cost_usd if mode == "lease" else 0.0
            names |= {"#sp": "spend", "#p": period}
            values |= {":z": _n(0), ":dcost": _n(round(outcome.cost_usd - reserved, 10))}
            sets.append("#sp.#p = if_not_exists(#sp.#p, :z) + :dcost")
        if mode == "lease":
            condition = "attribute_exists(#ls.#rid)"
        else:
            condition = "attribute_exists(#pk)"
            names["#pk"] = level.hash_attribute
        expression = ("SET " + ", ".join(sets) + " " if sets else "") + "REMOVE #ls.#rid"
        update: Item = {
            "TableName": level.table,
            "Key": level.key,
            "ConditionExpression": condition,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if values:
            update["ExpressionAttributeValues"] = values
        return {"Update": update}

    def _record_items(self, outcome: Settlement, now: float) -> list[Item]:
        items: list[Item] = []
        if outcome.ledger_item is not None and outcome.ledger_table:
            items.append({"Put": {"TableName": outcome.ledger_table, "Item": outcome.ledger_item}})
        if outcome.cache_item is not None and outcome.cache_table:
            items.append({"Put": {"TableName": outcome.cache_table, "Item": outcome.cache_item}})
        if not outcome.aggregates_table:
            return items
        cost = 0.0 if outcome.cached else outcome.cost_usd
        input_tokens = 0 if outcome.cached else outcome.input_tokens
        output_tokens = 0 if outcome.cached else outcome.output_tokens
        for key in aggregate_keys(
            day=outcome.day,
            model=outcome.model,
            user_id=outcome.user_id,
            key_id=outcome.key_id,
            team_id=outcome.team_id,
        ):
            names = {
                "#rq": "requests",
                "#cr": "cached_requests",
                "#it": "input_tokens",
                "#ot": "output_tokens",
                "#c": "cost_usd",
                "#d": "day",
                "#mo": "model",
                "#u": "user_id",
                "#x": "expires_at",
            }
            values: Item = {
                ":one": _n(1),
                ":cr": _n(1 if outcome.cached else 0),
                ":it": _n(input_tokens),
                ":ot": _n(output_tokens),
                ":c": _n(round(cost, 10)),
                ":d": {"S": outcome.day},
                ":mo": {"S": outcome.model},
                ":u": {"S": outcome.user_id},
                ":x": _n(outcome.aggregate_expires_at),
            }
            sets = "#d = :d, #mo = :mo, #u = :u, #x = :x"
            if outcome.key_id:
                names["#k"] = "key_id"
                values[":k"] = {"S": outcome.key_id}
                sets += ", #k = :k"
            if outcome.team_id:
                names["#t"] = "team_id"
                values[":t"] = {"S": outcome.team_id}
                sets += ", #t = :t"
            items.append(
                {
                    "Update": {
                        "TableName": outcome.aggregates_table,
                        "Key": {"scope": {"S": key.scope}, "sk": {"S": key.sk}},
                        "UpdateExpression": f"SET {sets} ADD #rq :one, #cr :cr, #it :it, "
                        "#ot :ot, #c :c",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        return items

    # ---- the one call ----

    def _transact(self, items: list[Item]) -> tuple[bool, list[dict[str, Any]]]:
        """(True, []) on success; (False, reasons) when cancelled or in conflict (answers, not
        failures); DynamoDB failing or throttling is a 503 with Retry-After (`StoreGuard`)."""
        try:
            with _GOVERNANCE_STORE:
                self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                reasons: Any = exc.response.get("CancellationReasons") or []  # type: ignore[typeddict-item]
                return False, [dict(r) for r in reasons]
            return False, [{"Code": "TransactionConflict"}]
        return True, []


_TRANSACTION_ANSWERS = frozenset({"TransactionCanceledException", "TransactionConflictException"})
_GOVERNANCE_STORE = StoreGuard("The governance store is unavailable.").passing(
    lambda exc: error_code(exc) in _TRANSACTION_ANSWERS
)
_ALIASES = {"request_window": "#rq", "token_window": "#tk", "spend": "#sp"}


def _deleted(item: Item) -> bool:
    return bool((item.get("deleted") or {}).get("BOOL", False))


def _expired_leases(old: Item, now: float, *, exclude: str) -> dict[str, tuple[str, float]]:
    expired: dict[str, tuple[str, float]] = {}
    for lease_id, raw in _map(old, "leases").items():
        lease = (raw or {}).get("M") or {}
        if lease_id != exclude and _num(lease.get("x")) <= now:
            expired[lease_id] = (str((lease.get("p") or {}).get("S", "")), _num(lease.get("c")))
    return expired


def _level_label(level: Level) -> str:
    return {"key": "API key", "user": "user", "team": "team"}.get(level.name, level.name)


def _refuse_if_never_fits(level: Level, tokens: int, cost_usd: float, now: float) -> None:
    """A request bigger than a whole window or budget is refused without a DynamoDB call."""
    limits = level.limits
    if limits.tpm is not None and tokens > limits.tpm:
        raise RateLimitError(
            f"Request too large for the {_level_label(level)}'s tpm_limit ({limits.tpm} tokens "
            f"per minute): it needs about {tokens} tokens (prompt + max_tokens); lower max_tokens.",
            retry_after=60,
            level=level.name,
            limit="tpm_limit",
        )
    if limits.budget_usd is not None and cost_usd > limits.budget_usd:
        raise BudgetExceededError(
            f"The {_level_label(level)}'s budget (max_budget_usd {limits.budget_usd:g} per "
            f"{limits.period}) cannot cover this request's worst-case cost (${cost_usd:.6f}).",
            retry_after=seconds_to_period_end(limits.period, now),
            level=level.name,
            limit="max_budget_usd",
        )


def _limit_refusal(
    level: Level,
    old: Item,
    *,
    tokens: int,
    cost_usd: float,
    now: float,
    minute: int,
    period: str,
    reclaiming: dict[str, tuple[str, float]],
) -> RateLimitError | None:
    """Which of the level's limits refused the request (None: none did; the item changed)."""
    limits = level.limits
    label = _level_label(level)
    to_minute_end = int((minute + 1) * 60 - now) + 1
    requests = _num(_map(old, "request_window").get(str(minute)))
    if limits.rpm is not None and requests >= limits.rpm:
        return RateLimitError(
            f"Rate limit reached for the {label}'s rpm_limit ({limits.rpm} requests per "
            "minute); try again later.",
            retry_after=to_minute_end,
            level=level.name,
            limit="rpm_limit",
        )
    used = _num(_map(old, "token_window").get(str(minute)))
    if limits.tpm is not None and used > limits.tpm - tokens:
        return RateLimitError(
            f"Rate limit reached for the {label}'s tpm_limit ({limits.tpm} tokens per minute): "
            f"{int(used)} used, this request needs about {tokens}; try again later.",
            retry_after=to_minute_end,
            level=level.name,
            limit="tpm_limit",
        )
    given_back = sum(c for p, c in reclaiming.values() if p == period)
    spent = _num(_map(old, "spend").get(period))
    if limits.budget_usd is not None and spent > limits.budget_usd - cost_usd + given_back:
        return BudgetExceededError(
            f"The {label}'s budget is spent (max_budget_usd {limits.budget_usd:g} per "
            f"{limits.period}; ${spent:.6f} used or reserved, this request may cost up to "
            f"${cost_usd:.6f}).",
            retry_after=seconds_to_period_end(limits.period, now),
            level=level.name,
            limit="max_budget_usd",
        )
    in_flight = len(_map(old, "leases"))
    if limits.parallel is not None and in_flight >= limits.parallel + len(reclaiming):
        return RateLimitError(
            f"Too many requests in flight for the {label}'s max_parallel_requests "
            f"({limits.parallel}); try again when one finishes.",
            retry_after=1,
            level=level.name,
            limit="max_parallel_requests",
        )
    return None
