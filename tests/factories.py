"""Event and context factories for driving the real Lambda handlers, shared by every suite.

- `lambda_context(function_name, ...)`: what Lambda passes as a handler's context;
- `api_gateway_event(method, path, ...)`: an API Gateway REST (v1) proxy event for the API handler;
- `sqs_event(records, queue_arn=...)`: an SQS event for the worker and the mailer, built by the
  same function the local stack's pollers use (`local.pollers.sqs_lambda_record`);
- `free_port()`, and `serialized_moto_server()`: our moto server (local/moto_server.py) started in
  a thread on a free port, for tests that need real concurrency over HTTP.
"""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serialized_moto_server() -> tuple[Any, str]:
    """Our moto server (its DynamoDB requests one at a time, as DynamoDB's isolation has them:
    `inference_core.local.moto_server`) started in a thread on a free port: (the server, its
    endpoint URL). The caller stops it."""
    from inference_core.local.moto_server import SerializedMotoServer

    port = free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@dataclass
class FakeLambdaContext:
    function_name: str = "ic-api"
    memory_limit_in_mb: int = 1024
    remaining_millis: int = 30_000
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = "2024/01/01/[$LATEST]test"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def lambda_context(
    function_name: str = "ic-api", *, memory_mb: int = 1024, remaining_millis: int = 30_000
) -> FakeLambdaContext:
    return FakeLambdaContext(
        function_name=function_name, memory_limit_in_mb=memory_mb, remaining_millis=remaining_millis
    )


def api_gateway_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as the control-plane Lambda receives it. A `bytes`
    body arrives base64-encoded (a binary media type); anything else but a string is sent as
    JSON."""
    all_headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "User-Agent": "pytest"}
    if body is not None and not isinstance(body, bytes):
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    if isinstance(body, bytes):
        raw_body: str | None = base64.b64encode(body).decode()
    else:
        raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "protocol": "HTTP/1.1",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
        },
        "body": raw_body,
        "isBase64Encoded": isinstance(body, bytes),
    }


def sqs_record(message: Any, *, queue_arn: str) -> dict[str, Any]:
    """One record: `message` is a `receive_message` result (keeps its id, receipt handle and
    receive count), a raw body string, or anything else, sent as JSON."""
    from inference_core.local.pollers import sqs_lambda_record

    if not (isinstance(message, dict) and "ReceiptHandle" in message):
        body = message if isinstance(message, str) else json.dumps(message)
        message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": str(uuid.uuid4()), "Body": body}
    return sqs_lambda_record(message, arn=queue_arn, region=REGION)


def sqs_event(records: list[Any], *, queue_arn: str) -> dict[str, Any]:
    return {"Records": [sqs_record(r, queue_arn=queue_arn) for r in records]}
