"""Where the source IP for throttling comes from, per entry point (never X-Forwarded-For)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.requests import Request

from inference_core.api.source_ip import source_ip
from inference_core.settings import get_settings


def _request(headers: dict[str, str] | None = None, **scope: Any) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "headers": raw, "client": ("127.0.0.9", 5000), **scope})


SPOOF = {"X-Forwarded-For": "6.6.6.6"}


def test_mangum_rest_and_http_api_events() -> None:
    rest = {"requestContext": {"identity": {"sourceIp": "203.0.113.7"}}}
    http = {"requestContext": {"http": {"sourceIp": "2001:db8::1"}}}
    assert source_ip(_request(SPOOF, **{"aws.event": rest})) == "203.0.113.7"
    assert source_ip(_request(SPOOF, **{"aws.event": http})) == "2001:db8::1"
    assert source_ip(_request(SPOOF, **{"aws.event": {"requestContext": {}}})) is None


def test_web_adapter_header_only_inside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    header = {"x-amzn-request-context": json.dumps({"identity": {"sourceIp": "198.51.100.5"}})}
    assert source_ip(_request({**header, **SPOOF})) == "127.0.0.9"  # locally: the TCP peer
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ic-data-plane")
    get_settings.cache_clear()
    assert source_ip(_request({**header, **SPOOF})) == "198.51.100.5"
    assert source_ip(_request(SPOOF)) is None  # in Lambda without the header: unknown
    assert source_ip(_request({"x-amzn-request-context": "not json"})) is None
