"""Which budget alerts were already sent: one marker item per (level, period, threshold), so an
alert goes out once per period per level however many processes cross the line together.

Markers live in the usage-aggregates table under their own scope (`alert#<level>#<id>`, sk
`<period id>#<percent>`), which no usage query reads, and expire with the aggregates' TTL. Claiming
one is a single conditional PutItem: the first writer wins, every later one sees the condition fail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from inference_core.db.models import UsageAggregateModel
from inference_core.errors import ServiceUnavailableError

MARKER_RETENTION_SECONDS = 400 * 86400


class BudgetAlertMarkers:
    def __init__(self, *, now: Callable[[], float] = time.time, client: Any | None = None):
        self._now = now
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or UsageAggregateModel._get_connection().connection.client

    def period_spend(self, table: str, key: dict[str, Any], period: str) -> float:
        """A level item's spend (settled + reserved) in `period`: one GetItem of that one entry."""
        try:
            item = (
                self.client.get_item(
                    TableName=table,
                    Key=key,
                    ConsistentRead=True,
                    ProjectionExpression="#sp.#p",
                    ExpressionAttributeNames={"#sp": "spend", "#p": period},
                ).get("Item")
                or {}
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailableError("The usage store is unavailable.") from exc
        entry = ((item.get("spend") or {}).get("M") or {}).get(period) or {}
        return float(entry.get("N", 0))

    def claim(self, level: str, level_id: str, period: str, percent: int) -> bool:
        """True for the one caller that records this alert first; False if it was sent already."""
        now = int(self._now())
        try:
            self.client.put_item(
                TableName=str(UsageAggregateModel.Meta.table_name),
                Item={
                    "scope": {"S": f"alert#{level}#{level_id}"},
                    "sk": {"S": f"{period}#{percent}"},
                    "at": {"N": str(now)},
                    "expires_at": {"N": str(now + MARKER_RETENTION_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(#s)",
                ExpressionAttributeNames={"#s": "scope"},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise ServiceUnavailableError("The usage store is unavailable.") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailableError("The usage store is unavailable.") from exc
        return True
