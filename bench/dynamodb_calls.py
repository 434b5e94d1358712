"""DynamoDB calls per request, named, for a chat completion on a cache miss and on a hit.

In-process (moto), through the real Mangum handler and the real OpenAI adapter against the mock
upstream; calls are counted with a botocore `before-call` hook on every PynamoDB client.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _stack import free_port  # noqa: E402


def event(path: str, body: dict, key: str) -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "POST",
        "headers": {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Host": "x",
        },
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(time.time_ns()),
            "stage": "prod",
            "httpMethod": "POST",
            "path": path,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


class Context:
    function_name = "bench"
    aws_request_id = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@contextlib.contextmanager
def in_process_gateway() -> Iterator[tuple[Any, str]]:
    """(the Mangum handler, an API key) over moto in-process, routed to the mock upstream."""
    port = free_port()
    mock = subprocess.Popen([sys.executable, str(ROOT / "bench/mock_openai.py"), str(port)])
    tmp = tempfile.mkdtemp()
    registry = Path(tmp, "models.json")
    registry.write_text(
        json.dumps({"models": {"bench": {"deployments": [{"provider": "openai", "model": "m"}]}}})
    )
    os.environ.update(
        {
            "IC_LOCAL_MODE": "1",
            "IC_JWT_SECRET": "bench-" + "x" * 40,
            "IC_MODEL_REGISTRY_PATH": str(registry),
            "IC_OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "IC_OPENAI_API_KEY": "sk-bench",
            "IC_DEFAULT_RPM": "1000000",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_DISABLED": "1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        import boto3
        from moto import mock_aws

        from inference_core.local import moto_server

        moto_server.install_fixes()  # as our moto server does: item rollback, parsed-once
        with mock_aws():
            from inference_core.admin import create_api_key_for_email, create_user
            from inference_core.db.tables import create_tables
            from inference_core.settings import get_settings

            create_tables(boto3.client("dynamodb"), get_settings().tables.model_dump())
            create_user("bench@example.com", "a long bench password", superuser=True)
            key = create_api_key_for_email("bench@example.com")
            spec = importlib.util.spec_from_file_location(
                "api_handler", ROOT / "functions/api/handler.py"
            )
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            spec.loader.exec_module(module)  # type: ignore[union-attr]
            yield module.handler, key
    finally:
        mock.terminate()
        mock.wait()


class Overlap:
    """before-call / after-call on one sequence: which calls were in flight together.

    A call that starts while none is in flight is held (up to HOLD seconds) until the next one
    starts, as `tests/integration/inference/test_critical_path.py` does: calls issued together
    then always overlap in the record, whatever order the GIL runs their threads in (otherwise a
    fast cache read can finish before the admission's thread gets to start, and the count says
    two round trips where the client waited for one). Calls issued one after the other are held
    the whole HOLD and still count as two."""

    HOLD = 0.05

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self._cond = threading.Condition()
        self._started = 0
        self._in_flight = 0

    def before(self, model: Any, **_: Any) -> None:
        with self._cond:
            self.events.append(("start", model.name))
            self._started += 1
            self._in_flight += 1
            mine = self._started
            self._cond.notify_all()
            if self._in_flight == 1:
                self._cond.wait_for(lambda: self._started > mine, timeout=self.HOLD)

    def after(self, model: Any, **_: Any) -> None:
        with self._cond:
            self.events.append(("end", model.name))
            self._in_flight -= 1

    def round_trips(self) -> int:
        trips, in_flight = 0, 0
        for kind, _ in self.events:
            if kind == "start":
                trips += in_flight == 0
                in_flight += 1
            else:
                in_flight -= 1
        return trips


def main() -> None:
    from inference_core.db.models import ALL_MODELS

    with in_process_gateway() as (handler, key):
        body = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}
        handler(event("/v1/chat/completions", {**body, "seed": 1}, key), Context())  # warm
        calls: list[str] = []
        overlap = Overlap()
        for model in ALL_MODELS:
            client = model._get_connection().connection.client
            events = client.meta.events
            events.unregister("before-call.dynamodb", unique_id="bench")
            events.unregister("after-call.dynamodb", unique_id="bench-after")
            events.unregister("before-call.dynamodb", unique_id="bench-before")
            events.register(
                "before-call.dynamodb",
                lambda model, **_: calls.append(model.name),
                unique_id="bench",
            )
            events.register("before-call.dynamodb", overlap.before, unique_id="bench-before")
            events.register("after-call.dynamodb", overlap.after, unique_id="bench-after")
        print("DynamoDB calls per governed chat completion (API key, same rate window)")
        for label in ("cache miss", "cache hit"):
            calls.clear()
            overlap.events.clear()
            response = handler(event("/v1/chat/completions", body, key), Context())
            header = {k.lower(): v for k, v in response["headers"].items()}.get("x-cache")
            print(
                f"  {label:11s} x-cache={header:5s} {len(calls)} calls in"
                f" {overlap.round_trips()} round trips: {', '.join(calls)}"
            )
        print(
            "  critical path: one round trip before the provider call (admission with the cache"
            " read alongside), the settle after the body is sent (asserted by"
            " tests/integration/inference/test_critical_path.py)"
        )


if __name__ == "__main__":
    main()
