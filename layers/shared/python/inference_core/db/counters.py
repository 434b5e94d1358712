"""Fixed-window counters in DynamoDB (the sessions table's `counter#` items), for auth throttling.

A counter is one item per name and window (`counter#<name>#<window index>`), bumped with an atomic
`ADD`, carrying `expires_at` (the window's end plus a minute) so DynamoDB's TTL sweeps it; reads
check the window in the key, so an unswept item never counts. Because the count lives in DynamoDB
the limit holds across every Lambda instance. Counter items carry no `user_id`, so they stay out of
the sessions table's user index (a sparse index). Names are the caller's: they hash anything
personal (an email) before it becomes a key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inference_core.db.availability import THROTTLED_RETRY_AFTER, StoreGuard
from inference_core.db.models import SessionModel
from inference_core.errors import ServiceUnavailableError

KIND = "counter"
_SESSIONS = StoreGuard("The session store is unavailable.")


@dataclass(frozen=True)
class Window:
    seconds: int
    index: int
    now: float

    @property
    def retry_after(self) -> int:
        """Seconds until this window ends (at least 1)."""
        return max(1, math.ceil((self.index + 1) * self.seconds - self.now))


class CountersRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def window(self, seconds: int) -> Window:
        now = self._now()
        return Window(seconds, int(now // seconds), now)

    def counts(self, names: list[str], window: Window) -> dict[str, int]:
        """The current window's count of each name (0 when it has none), in one BatchGetItem."""
        table = SessionModel.Meta.table_name
        keys = {self._key(name, window): name for name in names}
        with _SESSIONS:
            response = self._client().batch_get_item(
                RequestItems={
                    table: {
                        "Keys": [{"pk": {"S": k}} for k in keys],
                        "ConsistentRead": True,
                        "ProjectionExpression": "pk, #n",
                        "ExpressionAttributeNames": {"#n": "n"},
                    }
                }
            )
        counts = dict.fromkeys(names, 0)
        for item in response.get("Responses", {}).get(table, []):
            counts[keys[item["pk"]["S"]]] = int(item.get("n", {}).get("N", "0"))
        if response.get("UnprocessedKeys"):
            raise ServiceUnavailableError(
                "The session store is unavailable.", retry_after=THROTTLED_RETRY_AFTER
            )
        return counts

    def add(self, name: str, window: Window) -> int:
        """Count one more in the window; returns the new count."""
        expires_at = (window.index + 1) * window.seconds + 60
        with _SESSIONS:
            response = self._client().update_item(
                TableName=SessionModel.Meta.table_name,
                Key={"pk": {"S": self._key(name, window)}},
                UpdateExpression="ADD #n :one SET #k = :kind, #e = :e",
                ExpressionAttributeNames={"#n": "n", "#k": "kind", "#e": "expires_at"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":kind": {"S": KIND},
                    ":e": {"N": str(expires_at)},
                },
                ReturnValues="UPDATED_NEW",
            )
        return int(response["Attributes"]["n"]["N"])

    @staticmethod
    def _key(name: str, window: Window) -> str:
        return f"{KIND}#{name}#{window.seconds}#{window.index}"

    @staticmethod
    def _client() -> Any:
        return SessionModel._get_connection().connection.client
