"""Request context: a correlation id per request (API Gateway's request id when there is one)."""

from __future__ import annotations

import contextvars
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")


def current_correlation_id() -> str:
    return correlation_id.get()


def _request_id_from_scope(scope: Scope) -> str:
    # Mangum puts the API Gateway event in the scope; the Web Adapter forwards the context header.
    event = scope.get("aws.event") or {}
    rid = (event.get("requestContext") or {}).get("requestId")
    if rid:
        return str(rid)
    for name, value in scope.get("headers", []):
        if name in (b"x-request-id", b"x-amzn-requestid", b"x-correlation-id"):
            text = value.decode("latin-1")[:128]
            if text.replace("-", "").isalnum():
                return text
    return str(uuid.uuid4())


class RequestContextMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) so streamed responses are never buffered."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id_from_scope(scope)
        token = correlation_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
