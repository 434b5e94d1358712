"""The local stack's terminal: one short line per API request from the API's JSON access line,
warnings in short, everything else only in `.local/api.log`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from inference_core.api.errors import install_error_handlers
from inference_core.api.middleware import RequestContextMiddleware
from inference_core.errors import ServiceUnavailableError
from inference_core.local.dev_log import tee, terminal_line
from inference_core.observability import RequestUsage, get_logger, log_request


def access(**fields: object) -> str:
    record = {"level": "INFO", "message": "request", "service": "inference-core", **fields}
    return json.dumps(record)


def test_an_inference_request_is_one_line_with_model_tokens_cost_latency_and_cache() -> None:
    line = access(
        http_method="POST",
        path="/v1/chat/completions",
        status_code=200,
        latency_ms=812.4,
        model="smollm2",
        input_tokens=12,
        output_tokens=34,
        cost_usd=0.0000456,
        cache_hit=False,
    )

    assert terminal_line(line) == (
        "POST /v1/chat/completions 200  smollm2  12+34 tok  $0.000046  812 ms  cache miss"
    )


def test_a_cached_answer_says_so() -> None:
    line = access(
        http_method="POST",
        path="/v1/messages",
        status_code=200,
        latency_ms=3,
        model="smollm2",
        input_tokens=5,
        output_tokens=7,
        cost_usd=0,
        cache_hit=True,
    )

    assert (
        terminal_line(line) == "POST /v1/messages 200  smollm2  5+7 tok  $0.000000  3 ms  cache hit"
    )


def test_a_request_without_a_model_call_is_method_path_status_latency() -> None:
    assert terminal_line(
        access(http_method="GET", path="/health", status_code=200, latency_ms=1.6)
    ) == ("GET /health 200  2 ms")


def test_warnings_are_short_and_the_rest_stays_in_the_file() -> None:
    warning = json.dumps(
        {"level": "WARNING", "message": "request failed", "error_code": "service_unavailable"}
    )
    inference = json.dumps({"level": "INFO", "message": "inference request", "model": "smollm2"})

    assert terminal_line(warning) == "WARNING request failed (service_unavailable)"
    assert terminal_line(inference) is None
    assert terminal_line("INFO:     Started server process [42]") is None
    assert terminal_line("ERROR:    [Errno 98] address already in use") == (
        "ERROR:    [Errno 98] address already in use"
    )


def test_tee_keeps_every_line_in_the_log_and_shows_the_short_ones() -> None:
    lines = [
        "INFO:     Started server process [42]\n",
        json.dumps({"level": "INFO", "message": "inference request"}) + "\n",
        access(http_method="GET", path="/v1/models", status_code=200, latency_ms=4) + "\n",
    ]
    log, terminal = io.BytesIO(), io.StringIO()

    tee(io.BytesIO("".join(lines).encode()), log, terminal)

    assert log.getvalue().decode() == "".join(lines)
    assert terminal.getvalue() == "GET /v1/models 200  4 ms\n"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the one Powertools logger writes, formatted as in Lambda."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(get_logger().registered_formatter)
    target = logging.getLogger("inference-core")
    target.addHandler(handler)
    try:
        yield stream
    finally:
        target.removeHandler(handler)


def test_the_api_writes_one_access_line_per_request_with_the_usage_of_its_model_call(
    json_lines: io.StringIO,
) -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)

    @app.post("/v1/chat/completions")
    def chat(request: Request) -> dict[str, str]:  # a sync route: it runs in a copied context
        log_request(
            RequestUsage(
                request_id="r",
                tenant_id="t",
                key_id="k",
                endpoint="chat.completions",
                model="smollm2",
                input_tokens=12,
                output_tokens=34,
                cost_usd=0.25,
                cached=True,
            )
        )
        return {"ok": "yes"}

    @app.get("/v1/files")
    def files() -> None:
        raise ServiceUnavailableError(
            "The file store is unavailable.", code="file_store_unavailable"
        )

    client = TestClient(app)
    answered = client.post("/v1/chat/completions", headers={"x-request-id": "req-1"})
    failed = client.get("/v1/files", headers={"x-request-id": "req-2"})
    assert (answered.status_code, failed.status_code) == (200, 503)

    records = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    access_lines = [r for r in records if r["message"] == "request"]
    assert [(r["http_method"], r["path"], r["status_code"]) for r in access_lines] == [
        ("POST", "/v1/chat/completions", 200),
        ("GET", "/v1/files", 503),
    ]
    first, second = access_lines
    assert (first["model"], first["input_tokens"], first["output_tokens"]) == ("smollm2", 12, 34)
    # The correlation id is the gateway's own (returned as x-request-id); the client's id is kept
    # apart, as `client_request_id`.
    assert (first["cost_usd"], first["cache_hit"]) == (0.25, True)
    assert first["correlation_id"] == answered.headers["x-request-id"] != "req-1"
    assert first["client_request_id"] == "req-1"
    assert "model" not in second
    # The error handler's warning goes through the same JSON logger, with the request's id.
    [warning] = [r for r in records if r["message"] == "request failed"]
    assert (warning["level"], warning["error_code"], warning["correlation_id"]) == (
        "WARNING",
        "file_store_unavailable",
        failed.headers["x-request-id"],
    )
    assert warning["client_request_id"] == "req-2"
