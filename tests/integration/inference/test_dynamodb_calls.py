"""DynamoDB calls per inference request, counted with a botocore event hook (deterministic, so
asserted): a governed chat completion makes 3, miss or hit: the admission transaction and the cache
read (concurrently: one round trip before the provider call), then the settle transaction."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}


@pytest.fixture
def all_dynamodb_calls(aws: Any, upstream: Any) -> list[str]:
    """Hook every PynamoDB model's botocore client (each model has its own connection)."""
    from inference_core.auth.deps import get_auth_settings
    from inference_core.db.models import ALL_MODELS
    from inference_core.wiring import get_inference_service

    get_auth_settings()
    get_inference_service()
    operations: list[str] = []
    seen: set[int] = set()
    for model in ALL_MODELS:
        client = model._get_connection().connection.client
        if id(client) not in seen:
            seen.add(id(client))
            client.meta.events.register(
                "before-call.dynamodb", lambda model, **_: operations.append(model.name)
            )
    return operations


@pytest.fixture
def frozen_key(make_account: Any, gateway: Any, api_handler: Any) -> Any:
    """An API key, with the rate-window clock frozen mid-minute (no window rollover mid-test)."""
    from inference_core.auth.deps import get_clock

    account = make_account()
    key = gateway.call(
        "POST", "/v1/auth/api-keys", {"name": "t"}, token=account.access_token
    ).json()["key"]
    app = api_handler.__self__.app if hasattr(api_handler, "__self__") else None
    app = app or __import__("api_lambda_handler").handler.app
    app.dependency_overrides[get_clock] = lambda: lambda: 1_800_000_030.0
    yield key
    app.dependency_overrides.pop(get_clock, None)


def test_cache_miss_and_hit_make_three_calls_one_round_trip_before_the_provider(
    gateway: Any, frozen_key: str, all_dynamodb_calls: list[str]
) -> None:
    # The first request resolves the key's levels (then cached in-process for up to 30 s).
    warm = gateway.call(
        "POST", "/v1/chat/completions", {**CHAT, "temperature": 0.1}, token=frozen_key
    )
    assert warm.status == 200
    all_dynamodb_calls.clear()

    miss = gateway.call("POST", "/v1/chat/completions", CHAT, token=frozen_key)
    assert miss.headers["x-cache"] == "miss"
    # admit (authorize, count, reserve, lease) ∥ read the cache; then settle + fill the cache
    assert sorted(all_dynamodb_calls[:2]) == ["GetItem", "TransactWriteItems"]
    assert all_dynamodb_calls[2:] == ["TransactWriteItems"]
    all_dynamodb_calls.clear()

    hit = gateway.call("POST", "/v1/chat/completions", CHAT, token=frozen_key)
    assert hit.headers["x-cache"] == "hit"
    # a hit is admitted and settled too: $0, but counted as a request in the usage
    assert sorted(all_dynamodb_calls[:2]) == ["GetItem", "TransactWriteItems"]
    assert all_dynamodb_calls[2:] == ["TransactWriteItems"]


def test_importing_the_api_handler_loads_no_provider_sdk() -> None:
    # nor anything deferred to first use or to the SnapStart snapshot (inference_core.snapstart)
    probe = (
        "import sys, json; sys.path.insert(0, 'functions/api'); import handler; "
        "from inference_core.snapstart import DEFERRED_MODULES as d; "
        "heavy = ('openai', 'anthropic', 'llama_cpp', 'moto', 'cryptography', *d); "
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_request_log_line_has_usage_and_no_secret(
    gateway: Any, upstream: Any, frozen_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    response = gateway.call("POST", "/v1/chat/completions", CHAT, token=frozen_key)
    assert response.status == 200
    lines = [r for r in caplog.records if r.getMessage() == "inference request"]
    assert len(lines) == 1
    line = lines[0].__dict__
    assert (line["input_tokens"], line["output_tokens"], line["model"]) == (11, 5, "scripted")
    assert line["cost_usd"] > 0 and line["cache_hit"] is False and "latency_ms" in line
    # the correlation id is the API Gateway request id, also returned to the caller
    assert line["correlation_id"] == response.headers["x-request-id"]
    everything = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert frozen_key not in everything


def test_a_stored_response_adds_one_write_and_a_continuation_one_query(
    gateway: Any, frozen_key: str, all_dynamodb_calls: list[str]
) -> None:
    warm = gateway.call(
        "POST", "/v1/responses", {"model": "scripted", "input": "warm up"}, token=frozen_key
    )
    assert warm.status == 200
    all_dynamodb_calls.clear()

    first = gateway.call(
        "POST", "/v1/responses", {"model": "scripted", "input": "Hi"}, token=frozen_key
    )
    assert first.status == 200
    # those of a chat completion (admit ∥ cache read, settle + cache fill) and the stored
    # response; the settle runs last, once the body is sent (`inference_core.after_response`)
    assert sorted(all_dynamodb_calls[:2]) == ["GetItem", "TransactWriteItems"]
    assert all_dynamodb_calls[2:] == ["BatchWriteItem", "TransactWriteItems"]
    all_dynamodb_calls.clear()

    body = {"model": "scripted", "input": "Again", "previous_response_id": first.json()["id"]}
    second = gateway.call("POST", "/v1/responses", body, token=frozen_key)
    assert second.status == 200
    # plus one strongly consistent Query that rebuilds the conversation, before anything else
    assert all_dynamodb_calls[0] == "Query"
    assert sorted(all_dynamodb_calls[1:3]) == ["GetItem", "TransactWriteItems"]
    assert all_dynamodb_calls[3:] == ["BatchWriteItem", "TransactWriteItems"]
