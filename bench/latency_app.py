"""The API with a modelled AWS DynamoDB: a botocore hook sleeps a fixed time on every DynamoDB call.

`uvicorn bench.latency_app:create_app --factory` with `BENCH_DYNAMODB_LATENCY_MS` (default 4, an
in-region round trip): every client botocore creates gets a `before-send.dynamodb` handler that
waits that long before the request goes to moto, in the calling thread, so calls issued
concurrently wait concurrently and sequential round trips add up as they would on AWS.
"""

from __future__ import annotations

import os
import time
from typing import Any

import botocore.session

from inference_core.api.app import create_app as _create_app


def install(latency_ms: float) -> None:
    """Every botocore client created from now on waits `latency_ms` per DynamoDB call."""
    original = botocore.session.Session.create_client
    delay = latency_ms / 1000

    def wait(**_: Any) -> None:
        time.sleep(delay)

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-send.dynamodb", wait)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def create_app() -> Any:
    install(float(os.environ.get("BENCH_DYNAMODB_LATENCY_MS", "4")))
    return _create_app()
