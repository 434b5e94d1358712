"""Server-sent events for both wire formats, and the error event a stream ends with on failure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

from inference_core.api.errors import error_body
from inference_core.errors import InferenceCoreError
from inference_core.observability import get_logger

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_data(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n".encode()


async def openai_sse(payloads: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """OpenAI's framing: one `data:` event per chunk object, then `data: [DONE]` (never after a
    failure: the error propagates to `guarded`, which ends the stream with an error event)."""
    async for payload in payloads:
        yield sse_data(payload)
    yield sse_data("[DONE]")


def sse_event(event: str, payload: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


async def guarded(
    events: AsyncIterator[bytes], path: str, *, anthropic: bool = False
) -> AsyncIterator[bytes]:
    """Relay events; a failure after the response has started becomes an error event in the
    endpoint's format (the status line is already sent), never a dropped connection."""
    try:
        async for event in events:
            yield event
    except InferenceCoreError as exc:
        body = error_body(path, exc.status_code, exc.message, code=exc.code)
        yield sse_event("error", body) if anthropic else sse_data(body)
    except Exception as exc:
        get_logger().exception("stream failed", extra={"error": type(exc).__name__})
        body = error_body(path, 500, "The server had an error while streaming the response.")
        yield sse_event("error", body) if anthropic else sse_data(body)


def sse_response(events: AsyncIterator[bytes], headers: dict[str, str]) -> StreamingResponse:
    return StreamingResponse(
        events, media_type="text/event-stream", headers={**SSE_HEADERS, **headers}
    )
