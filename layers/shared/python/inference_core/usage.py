"""The usage report behind `GET /v1/usage`: a key sees its own usage, a user's token sees all of
the user's (every key and session), from the daily aggregates the settle step writes (one Query
on one scope between two days, never a scan; see docs/governance.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from inference_core.errors import InvalidRequestError

GroupBy = Literal["day", "model", "key"]
MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class UsageQuery:
    start: date
    end: date
    group_by: GroupBy


def parse_query(start: str | None, end: str | None, group_by: str | None) -> UsageQuery:
    """400 for a bad date, an inverted or too long range, or an unknown grouping."""
    today = datetime.now(UTC).date()
    try:
        end_day = date.fromisoformat(end) if end else today
        start_day = date.fromisoformat(start) if start else end_day - timedelta(DEFAULT_DAYS - 1)
    except ValueError:
        raise InvalidRequestError(
            "start and end are dates: YYYY-MM-DD.", code="invalid_date", param="start"
        ) from None
    if start_day > end_day:
        raise InvalidRequestError("start is after end.", code="invalid_date", param="start")
    if (end_day - start_day).days >= MAX_DAYS:
        raise InvalidRequestError(
            f"The range may span at most {MAX_DAYS} days.", code="invalid_date", param="start"
        )
    grouping = group_by or "day"
    if grouping not in ("day", "model", "key"):
        raise InvalidRequestError(
            "group_by is one of day, model, key.", code="invalid_group_by", param="group_by"
        )
    return UsageQuery(start_day, end_day, grouping)  # type: ignore[arg-type]


def usage_report(
    *,
    user_id: str,
    key_id: str | None,
    start: str | None = None,
    end: str | None = None,
    group_by: str | None = None,
) -> dict[str, Any]:
    """The body of `GET /v1/usage` for a key (`key_id`) or a user (all keys and sessions)."""
    from inference_core.db.usage import NO_KEY, read_aggregates  # PynamoDB: on first use

    query = parse_query(start, end, group_by)
    scope = f"key#{key_id}" if key_id else f"user#{user_id}"
    rows = read_aggregates(scope, query.start.isoformat(), query.end.isoformat())
    buckets: dict[str, dict[str, Any]] = {}
    totals = {"requests": 0, "cached_requests": 0, "input_tokens": 0, "output_tokens": 0}
    cost = 0.0
    for row in rows:
        if query.group_by == "day":
            name = row.day
        elif query.group_by == "model":
            name = row.model
        else:
            name = key_id or (row.sk.rsplit("#", 1)[-1])
        bucket = buckets.setdefault(
            name,
            {
                "requests": 0,
                "cached_requests": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "cost": 0.0,
            },
        )
        for field in totals:
            value = int(getattr(row, field) or 0)
            bucket[field] += value
            totals[field] += value
        bucket["cost"] += float(row.cost_usd or 0)
        cost += float(row.cost_usd or 0)
    label = {"day": "day", "model": "model", "key": "key_id"}[query.group_by]
    data = []
    for name in sorted(buckets):
        bucket = buckets[name]
        data.append(
            {
                label: None if (query.group_by == "key" and name == NO_KEY) else name,
                "requests": bucket["requests"],
                "cached_requests": bucket["cached_requests"],
                "input_tokens": bucket["input_tokens"],
                "output_tokens": bucket["output_tokens"],
                "cost_usd": round(bucket["cost"], 10),
            }
        )
    return {
        "object": "usage",
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "group_by": query.group_by,
        "total_requests": totals["requests"],
        "total_cached_requests": totals["cached_requests"],
        "total_input_tokens": totals["input_tokens"],
        "total_output_tokens": totals["output_tokens"],
        "total_cost_usd": round(cost, 10),
        "data": data,
    }
