"""Dollars per million chat completions (cache miss, cache hit), per thousand batch lines, and the
idle cost per month, at the list prices of bench/prices.py.

DynamoDB request units come from the calls a governed request really makes (counted in-process
through the Mangum handler over moto, with the item sizes and the GSIs of each table); Lambda
duration is the gateway's own time per request measured here with the DynamoDB time replaced by
BENCH_DYNAMODB_LATENCY_MS per round trip, plus BENCH_UPSTREAM_SECONDS of waiting for the model
(default 0: the gateway's overhead alone; an LLM answer of a few seconds dominates the bill). API
Gateway and Lambda requests are one each. Prints; never fails.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from dynamodb_calls import Context, event, in_process_gateway  # noqa: E402
from prices import PRICES_US_EAST_1 as P  # noqa: E402

MEMORY_MB = int(os.environ.get("BENCH_LAMBDA_MEMORY_MB", "1024"))  # infra/config.py default
DYNAMODB_MS = float(os.environ.get("BENCH_DYNAMODB_LATENCY_MS", "4"))
UPSTREAM_S = float(os.environ.get("BENCH_UPSTREAM_SECONDS", "0"))
REQUESTS = int(os.environ.get("BENCH_COST_REQUESTS", "20"))
SECRETS = 4  # infra/secret_store.py
DASHBOARDS = 1  # infra/observability.py


class Units:
    """A before-call/after-call hook: request units and time spent in DynamoDB."""

    def __init__(self, indexes: dict[str, int]) -> None:
        self.indexes = indexes
        self.wru = 0.0
        self.rru = 0.0
        self.seconds = 0.0
        self.round_trips = 0
        self._in_flight = 0
        self._since = 0.0
        self._lock = threading.Lock()

    def _write(self, table: str, item: Any, factor: int) -> None:
        kb = max(1, math.ceil(len(json.dumps(item, default=str)) / 1024))
        self.wru += factor * kb + self.indexes.get(table, 0)

    def before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            if self._in_flight == 0:
                self.round_trips += 1
                self._since = time.perf_counter()
            self._in_flight += 1
        name = model.name
        raw = params.get("body") or b"{}"  # before-call sees the serialized request
        params = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        if name == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                ((kind, body),) = entry.items()
                self._write(
                    body["TableName"],
                    body.get("Item") or body,
                    2 if kind != "ConditionCheck" else 0,
                )
                if kind == "ConditionCheck":
                    self.rru += 2
        elif name in ("PutItem", "UpdateItem", "DeleteItem"):
            self._write(params["TableName"], params.get("Item") or params, 1)
        elif name == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    self._write(table, request, 1)
        elif name in ("GetItem", "Query"):
            self.rru += 1 if params.get("ConsistentRead") else 0.5
        elif name == "TransactGetItems":
            self.rru += 2 * len(params.get("TransactItems", []))

    def after(self, **_: Any) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.seconds += time.perf_counter() - self._since

    def reset(self) -> None:
        self.wru = self.rru = self.seconds = 0.0
        self.round_trips = 0


def measure(handler: Any, key: str, units: Units, hit: bool) -> tuple[float, float, float]:
    """(WRU, RRU, Lambda seconds) per request."""
    body = {"model": "bench", "messages": [{"role": "user", "content": "the same question"}]}
    if hit:
        handler(event("/v1/chat/completions", body, key), Context())  # fill the cache
    units.reset()
    elapsed = 0.0
    for i in range(REQUESTS):
        request = body if hit else {**body, "messages": [{"role": "user", "content": f"q {i}"}]}
        start = time.perf_counter()
        response = handler(event("/v1/chat/completions", request, key), Context())
        elapsed += time.perf_counter() - start
        assert response["statusCode"] == 200, response
    own = (elapsed - units.seconds) / REQUESTS
    seconds = own + units.round_trips / REQUESTS * DYNAMODB_MS / 1000 + (0 if hit else UPSTREAM_S)
    return units.wru / REQUESTS, units.rru / REQUESTS, seconds


def request_cost(wru: float, rru: float, seconds: float) -> float:
    return (
        wru * P["dynamodb_write_request_unit"]
        + rru * P["dynamodb_read_request_unit"]
        + seconds * MEMORY_MB / 1024 * P["lambda_arm64_gb_second"]
        + P["lambda_request"]
    )


def main() -> None:
    import boto3

    from inference_core.db.models import ALL_MODELS

    with in_process_gateway() as (handler, key):
        handler(
            event(
                "/v1/chat/completions",
                {"model": "bench", "messages": [{"role": "user", "content": "w"}]},
                key,
            ),
            Context(),
        )
        dynamodb = boto3.client("dynamodb")
        indexes = {
            name: len(
                dynamodb.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
            )
            for name in dynamodb.list_tables()["TableNames"]
        }
        units = Units(indexes)
        seen: set[int] = set()
        for model in ALL_MODELS:
            client = model._get_connection().connection.client
            if id(client) not in seen:
                seen.add(id(client))
                client.meta.events.register("before-call.dynamodb", units.before)
                client.meta.events.register("after-call.dynamodb", units.after)
        rows = {
            label: measure(handler, key, units, hit)
            for label, hit in (("miss", False), ("hit", True))
        }
    gateway = P["api_gateway_rest_request"]
    print(
        f"Cost at us-east-1 list prices (bench/prices.py), Lambda arm64 {MEMORY_MB} MB,"
        f" {DYNAMODB_MS:g} ms per DynamoDB round trip, {UPSTREAM_S:g} s waiting for the model"
    )
    for label, (wru, rru, seconds) in rows.items():
        per_million = (request_cost(wru, rru, seconds) + gateway) * 1_000_000
        print(
            f"  chat completion, cache {label:4s}: ${per_million:8.2f} per million"
            f"  ({wru:.1f} WRU, {rru:.1f} RRU, {seconds * 1000:.1f} ms Lambda, 1 API Gateway request)"
        )
    wru, rru, seconds = rows["miss"]
    # a batch line: the same governed miss, plus its item's status write, one S3 GET share of the
    # input, and its SQS message sent, received and deleted (10 lines per request of each)
    line = (
        request_cost(wru + 1, rru, seconds) + 3 * P["sqs_request"] / 10 + P["s3_get_request"] / 10
    )
    print(f"  batch lines:                ${line * 1000:8.4f} per thousand (no API Gateway)")
    idle = (
        SECRETS * P["secrets_manager_secret_month"] + DASHBOARDS * P["cloudwatch_dashboard_month"]
    )
    print(
        f"  idle: ${idle:.2f} per month ({SECRETS} secrets, {DASHBOARDS} dashboard) + $0.10 per"
        " CloudWatch alarm; on-demand DynamoDB, Lambda, API Gateway and SQS cost nothing idle"
        " (storage: $0.25 + $0.20 PITR per GB-month)"
    )


if __name__ == "__main__":
    main()
