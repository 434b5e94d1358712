"""Request context: the gateway's own request id (the correlation id in every log line) and, apart
from it, the id a client sent.

The request id is API Gateway's (`requestContext.requestId`: the Mangum event, or the Web
Adapter's `x-amzn-request-context` header inside Lambda), else a fresh UUID. A client's
`X-Request-Id` never replaces it: when it is short and plain (`[A-Za-z0-9._:-]`, at most 128
characters) it is kept as `client_request_id`, a separate log field, and echoed back as
`x-client-request-id`; otherwise it is dropped.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inference_core import snapstart
from inference_core.after_response import collecting, drain
from inference_core.guardrails import HEADER as GUARDRAILS_HEADER
from inference_core.guardrails import fired_checks

# The context variable lives in `observability` (the bottom); re-exported for the routes.
from inference_core.observability import (
    correlation_id,
    current_correlation_id,
    log_access,
    start_access_record,
)

__all__ = [
    "BodySizeLimitMiddleware",
    "LazyCorsMiddleware",
    "RequestContextMiddleware",
    "correlation_id",
    "current_correlation_id",
]


_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_GATEWAY_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _request_id_from_scope(scope: Scope) -> str:
    """API Gateway's request id, never one a client wrote; else a fresh UUID."""
    context: object = (scope.get("aws.event") or {}).get("requestContext")
    if context is None:
        # The Web Adapter forwards the request context as a header: trusted only inside Lambda.
        from inference_core.settings import get_settings

        header = _header(scope, b"x-amzn-request-context")
        if header and get_settings().http.lambda_function_name:
            try:
                context = json.loads(header)
            except ValueError:
                context = None
    rid = context.get("requestId") if isinstance(context, dict) else None
    if isinstance(rid, str) and _GATEWAY_REQUEST_ID.fullmatch(rid):
        return rid
    return str(uuid.uuid4())


def _client_request_id_from_scope(scope: Scope) -> str | None:
    """The client's own `X-Request-Id`, if it is short and plain; never used as ours."""
    value = _header(scope, b"x-request-id")
    if value is not None and _CLIENT_REQUEST_ID.fullmatch(value):
        return value
    return None


class RequestContextMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) so streamed responses are never buffered."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from inference_core.governance import response_headers
        from inference_core.observability import client_request_id

        rid = _request_id_from_scope(scope)
        client_rid = _client_request_id_from_scope(scope)
        token = correlation_id.set(rid)
        client_token = client_request_id.set(client_rid)
        extra: dict[str, str] = {}  # the admission's x-ratelimit-* headers land here
        headers_token = response_headers.set(extra)
        record = start_access_record()
        fired: list[str] = []
        fired_token = fired_checks.set(fired)
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.body" and pending:
                if not message.get("more_body", False):
                    # The client now has every byte it needs; the settle runs before the
                    # response (and with it the Lambda invocation) ends.
                    await send({**message, "more_body": True})
                    await drain(pending)
                    message = {"type": "http.response.body", "body": b"", "more_body": False}
            elif message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                if client_rid:
                    headers.append((b"x-client-request-id", client_rid.encode()))
                if fired:
                    headers.append((GUARDRAILS_HEADER.encode(), ",".join(fired).encode()))
                if 200 <= int(message.get("status", 0)) < 300:
                    headers += [(k.encode(), v.encode()) for k, v in extra.items()]
                message["headers"] = headers
            await send(message)

        try:
            with collecting() as pending:
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    await drain(pending)  # a response that never ended (client gone, error)
        finally:
            log_access(
                record,
                method=scope["method"],
                path=scope["path"],
                status=status,
                latency_ms=(time.perf_counter() - started) * 1000,
            )
            client_request_id.reset(client_token)
            fired_checks.reset(fired_token)
            correlation_id.reset(token)
            response_headers.reset(headers_token)
            snapstart.freeze_when_warm()


class BodySizeLimitMiddleware:
    """Refuse bodies over `IC_MAX_REQUEST_BODY_BYTES` (413 in the endpoint's format) before the app
    parses them. File uploads have their own, larger limit (checked by the files route)."""

    EXEMPT_PREFIXES = ("/v1/files",)

    def __init__(self, app: ASGIApp):
        self.app = app
        self._limit: int | None = None

    def limit(self) -> int:
        if self._limit is None:
            from inference_core.settings import get_settings

            self._limit = get_settings().http.max_request_body_bytes
        return self._limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        from inference_core.errors import PayloadTooLargeError

        limit = self.limit()
        message = f"The request body is larger than {limit} bytes."
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                from inference_core.api.errors import error_body

                body = json.dumps(
                    error_body(scope["path"], 413, message, code="request_too_large")
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message_in = await receive()
            if message_in["type"] == "http.request":
                received += len(message_in.get("body", b""))
                if received > limit:
                    raise PayloadTooLargeError(message)
            return message_in

        await self.app(scope, counting_receive, send)


# Every response under /console: the page runs only its own scripts and styles, talks only to this
# origin, cannot be framed, and leaks no URL to other sites.
CONSOLE_SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
)


class ConsoleSecurityHeadersMiddleware:
    """Adds `CONSOLE_SECURITY_HEADERS` to every response whose path is `/console` or below it,
    whatever produced it (the page, an asset, a 404 or a 405 from the error table)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/console" or path.startswith("/console/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in CONSOLE_SECURITY_HEADERS}
                headers = [h for h in message.get("headers", []) if h[0].lower() not in names]
                message["headers"] = [*headers, *CONSOLE_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LazyCorsMiddleware:
    """Starlette's CORS middleware, configured from settings on the first request (so importing the
    app reads no environment). No origins configured: no CORS headers at all."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self._inner: ASGIApp | None = None

    def _build(self) -> ASGIApp:
        from starlette.middleware.cors import CORSMiddleware

        from inference_core.settings import get_settings

        origins = [o.strip() for o in get_settings().http.cors_origins.split(",") if o.strip()]
        if not origins:
            return self.app
        return CORSMiddleware(
            self.app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=[
                "authorization",
                "content-type",
                "x-api-key",
                "anthropic-version",
                "cache-control",
            ],
            expose_headers=[
                "x-cache",
                "x-request-id",
                "retry-after",
                "x-ic-guardrails",
                "x-ratelimit-limit-requests",
                "x-ratelimit-remaining-requests",
                "x-ratelimit-reset-requests",
                "x-ratelimit-limit-tokens",
                "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-tokens",
            ],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._inner is None:
            self._inner = self._build()
        await self._inner(scope, receive, send)
