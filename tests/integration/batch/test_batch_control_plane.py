"""Files and Batches through the real control-plane Lambda handler (Mangum), with API Gateway REST
proxy events and a real API key: a multipart upload arrives base64-encoded, as API Gateway sends
binary media types, and the content download goes back the same way."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.factories import api_gateway_event, lambda_context

from .batch_support import chat_line, jsonl

REPO = Path(__file__).resolve().parents[3]


def _api_handler() -> Any:
    name = "api_lambda_handler"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO / "functions" / "api" / "handler.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name].handler


def event(
    method: str,
    path: str,
    key: str,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    accept: str | None = None,
) -> dict[str, Any]:
    """A REST proxy event with the key; a body arrives base64-encoded (a binary media type)."""
    headers = {"Authorization": f"Bearer {key}"}
    if content_type:
        headers["Content-Type"] = content_type
    if accept:
        headers["Accept"] = accept
    return api_gateway_event(method, path, body, headers)


@pytest.fixture
def api_key(aws: Any) -> str:
    from inference_core.admin import auth_service
    from inference_core.api.deps import reset_dependencies
    from inference_core.auth.deps import reset_auth_dependencies

    reset_dependencies()
    reset_auth_dependencies()
    service = auth_service()
    user = service.create_user("frank@example.com", "correct horse battery staple")
    return service.create_api_key(service.principal_for_user(user.user_id), name="t").secret


def test_upload_create_and_download_through_api_gateway(aws, api_key):
    handler = _api_handler()
    boundary = "----ic" + uuid.uuid4().hex
    payload = jsonl([chat_line("a", "one"), chat_line("b", "two")])
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )

    uploaded = handler(
        event(
            "POST",
            "/v1/files",
            api_key,
            body=multipart,
            content_type=f"multipart/form-data; boundary={boundary}",
        ),
        lambda_context(),
    )
    assert uploaded["statusCode"] == 200, uploaded["body"]
    file = json.loads(uploaded["body"])
    assert file["bytes"] == len(payload)

    created = handler(
        event(
            "POST",
            "/v1/batches",
            api_key,
            content_type="application/json",
            body=json.dumps(
                {
                    "input_file_id": file["id"],
                    "endpoint": "/v1/chat/completions",
                    "completion_window": "24h",
                }
            ).encode(),
        ),
        lambda_context(),
    )
    assert created["statusCode"] == 200, created["body"]
    assert json.loads(created["body"])["status"] == "in_progress"

    content = handler(
        event("GET", f"/v1/files/{file['id']}/content", api_key, accept="application/binary"),
        lambda_context(),
    )
    assert content["statusCode"] == 200
    body = (
        base64.b64decode(content["body"])
        if content["isBase64Encoded"]
        else content["body"].encode()
    )
    assert body == payload

    anonymous = handler(
        event("GET", f"/v1/files/{file['id']}", "sk-ic-not-a-key"), lambda_context()
    )
    assert anonymous["statusCode"] == 401
