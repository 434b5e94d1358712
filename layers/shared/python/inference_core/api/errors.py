"""One table that maps `InferenceCoreError` (and FastAPI's own validation errors) to HTTP.

The body follows the wire format of the endpoint that failed: Anthropic's for `/v1/messages`,
OpenAI's everywhere else, so each official SDK raises the right exception class. Messages come from
our own exceptions only: a foreign exception's text (which might carry an upstream URL or key)
never reaches a client.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from inference_core.errors import (
    InferenceCoreError,
    ProviderError,
    RateLimitError,
    ServiceUnavailableError,
)
from inference_core.observability import get_logger
from inference_core.upstream_errors import ROUTER_REFUSALS

ANTHROPIC_PATHS = ("/v1/messages",)

# OpenAI's `type` → Anthropic's error `type`.
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "api_error",
}

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(
    path: str, status: int, message: str, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    if path.startswith(ANTHROPIC_PATHS):
        return {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message},
        }
    return {
        "error": {
            "message": message,
            "type": _OPENAI_TYPES.get(
                status, "api_error" if status >= 500 else "invalid_request_error"
            ),
            "param": param,
            "code": code,
        }
    }


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(request.url.path, status, message, code=code, param=param),
        status_code=status,
        headers=headers,
    )


def _describe_validation(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "Invalid request body.", None
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    param = ".".join(loc) or None
    if first.get("type") == "json_invalid":
        return "We could not parse the JSON body of your request.", None
    msg = first.get("msg", "invalid value")
    where = f" at '{param}'" if param else ""
    return f"Invalid request{where}: {msg}.", param


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InferenceCoreError)
    async def _core_error(request: Request, exc: InferenceCoreError) -> JSONResponse:
        headers = None
        if isinstance(exc, RateLimitError | ServiceUnavailableError) and exc.retry_after:
            headers = {"Retry-After": str(exc.retry_after)}
        elif isinstance(exc, ProviderError) and exc.code in ROUTER_REFUSALS and exc.retry_after:
            # The router's own verdicts (breaker open, model scaling up) know when to come back.
            headers = {"Retry-After": str(math.ceil(exc.retry_after))}
        if exc.status_code >= 500:
            get_logger().warning(
                "request failed", extra={"error_code": exc.code, "error": type(exc).__name__}
            )
        return error_response(
            request, exc.status_code, exc.message, code=exc.code, param=exc.param, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _describe_validation(exc)
        return error_response(request, 400, message, code="invalid_request", param=param)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        return error_response(
            request, exc.status_code, message, headers=dict(exc.headers) if exc.headers else None
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log the type only: a foreign exception's text may carry secrets.
        get_logger().exception("unhandled error", extra={"error": type(exc).__name__})
        return error_response(
            request, 500, "The server had an error while processing your request."
        )
