"""The caller's IP address as API Gateway saw it, for throttling (never `X-Forwarded-For`, which
any client can write).

- Control plane (Mangum): the API Gateway event is in the ASGI scope (`aws.event`); REST APIs put
  the address at `requestContext.identity.sourceIp`, HTTP APIs at `requestContext.http.sourceIp`.
- Data plane (uvicorn under the Lambda Web Adapter): the adapter forwards the request context as
  JSON in the `x-amzn-request-context` header. That header is trusted only inside Lambda
  (`AWS_LAMBDA_FUNCTION_NAME` is set), where the adapter, not the client, writes it; outside it a
  client could send one.
- Locally: the TCP peer's address.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from fastapi import Request

REQUEST_CONTEXT_HEADER = "x-amzn-request-context"


def _from_context(context: Any) -> str | None:
    if not isinstance(context, dict):
        return None
    for holder in (context.get("identity"), context.get("http")):
        if isinstance(holder, dict) and isinstance(holder.get("sourceIp"), str):
            return holder["sourceIp"]
    return None


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def source_ip(request: Request) -> str | None:
    event = request.scope.get("aws.event")
    if isinstance(event, dict):
        return _valid(_from_context(event.get("requestContext")))
    from inference_core.settings import get_settings

    if get_settings().http.lambda_function_name:
        header = request.headers.get(REQUEST_CONTEXT_HEADER)
        if header:
            try:
                return _valid(_from_context(json.loads(header)))
            except ValueError:
                return None
        return None
    return _valid(request.client.host if request.client else None)
