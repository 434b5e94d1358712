"""A client-sent X-Request-Id never replaces the gateway's own request id in logs: it is kept as a
separate, validated field (length and charset), and dropped when it is not plain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import ApiGateway, api_gateway_event, lambda_context, reconfigure

CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5}


@pytest.fixture
def key(gateway: ApiGateway, make_account: Any) -> str:
    account = make_account()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "t"}, token=account.access_token)
    assert created.status == 201, created.text
    return str(created.json()["key"])


def _request_line(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    lines = [r.__dict__ for r in caplog.records if r.getMessage() == "inference request"]
    assert len(lines) == 1
    return lines[0]


def test_a_client_request_id_is_logged_apart_and_never_as_ours(
    client: TestClient, upstream: Any, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    response = client.post(
        "/v1/chat/completions",
        json=CHAT,
        headers={"Authorization": f"Bearer {key}", "X-Request-Id": "client-chosen-id"},
    )
    assert response.status_code == 200
    ours = response.headers["x-request-id"]
    assert ours != "client-chosen-id"
    assert response.headers["x-client-request-id"] == "client-chosen-id"
    line = _request_line(caplog)
    assert line["correlation_id"] == ours == line["request_id"]
    assert line["client_request_id"] == "client-chosen-id"


@pytest.mark.parametrize(
    "sent",
    ["x" * 129, "has space", "line\\nbreak", "<script>", "naïve", "a;b", ""],
)
def test_an_unplain_client_request_id_is_dropped(
    client: TestClient, upstream: Any, key: str, caplog: pytest.LogCaptureFixture, sent: str
) -> None:
    caplog.set_level("INFO")
    response = client.post(
        "/v1/chat/completions",
        json=CHAT,
        headers={"Authorization": f"Bearer {key}", "X-Request-Id": sent.encode()},
    )
    assert response.status_code == 200
    assert "x-client-request-id" not in response.headers
    assert response.headers["x-request-id"] != sent
    line = _request_line(caplog)
    assert "client_request_id" not in line
    assert line["correlation_id"] == response.headers["x-request-id"]


def test_on_the_control_plane_api_gateways_id_wins(
    api_handler: Any, aws: Any, upstream: Any, key: str
) -> None:
    event = api_gateway_event(
        "GET", "/v1/models", headers={"Authorization": f"Bearer {key}", "X-Request-Id": "mine"}
    )
    result = api_handler(event, lambda_context())
    headers = {k.lower(): v for k, v in result["headers"].items()}
    assert headers["x-request-id"] == event["requestContext"]["requestId"]
    assert headers["x-client-request-id"] == "mine"


def test_on_the_data_plane_the_web_adapters_context_is_ours_only_inside_lambda(
    client: TestClient, upstream: Any, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = {"x-amzn-request-context": json.dumps({"requestId": "apigw-request-1"})}
    outside = client.get("/v1/models", headers={"Authorization": f"Bearer {key}", **context})
    assert outside.headers["x-request-id"] != "apigw-request-1"  # a client could send that
    reconfigure(monkeypatch, AWS_LAMBDA_FUNCTION_NAME="ic-data-plane")
    inside = client.get("/v1/models", headers={"Authorization": f"Bearer {key}", **context})
    assert inside.headers["x-request-id"] == "apigw-request-1"
