"""Refuse JSON bodies whose text is not valid Unicode, once, in front of every route.

JSON may spell a lone UTF-16 surrogate (`"\\ud800"`); Python decodes it into a `str` that cannot be
encoded again, so it would blow up later (DynamoDB, the provider SDKs, logging) as a 500 after
work was done. Bytes that are not UTF-8 fail the same way. This ASGI middleware buffers a JSON
request body (already bounded by `BodySizeLimitMiddleware`, which runs first), and answers a 400 in
the endpoint's own error format before the app sees it when the body is not UTF-8 or any string in
it (keys included) holds a surrogate. Multipart uploads and other content types pass untouched.
The common case costs one regular-expression scan: only a body that spells a surrogate escape is
parsed here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# `\uD800`-`\uDFFF` as a JSON escape (an odd run of backslashes before it is checked by parsing).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}")
_METHODS_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}

INVALID_UNICODE_MESSAGE = (
    "The request body holds invalid Unicode (a lone UTF-16 surrogate or bytes that are not UTF-8)."
)


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def invalid_unicode(body: bytes) -> bool:
    """True if a JSON body is not UTF-8 or decodes to a string holding a lone surrogate.

    A body that is not JSON at all is left to the route's own parsing (its usual 400)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return _has_surrogate(parsed)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True  # FastAPI parses a body without a content type as JSON


class JsonTextGuardMiddleware:
    """Pure ASGI: the response side (streams) is never touched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in _METHODS_WITH_BODY
            or not _is_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        from inference_core.errors import InferenceCoreError

        chunks: list[bytes] = []
        while True:
            try:
                message = await receive()
            except InferenceCoreError as exc:  # e.g. the body size limit, counted as it arrives
                await _refuse(scope, send, exc.status_code, exc.message, exc.code)
                return
            if message["type"] != "http.request":
                # The client went away while sending: let the app see the disconnect.
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if invalid_unicode(body):
            await _refuse(scope, send, 400, INVALID_UNICODE_MESSAGE, "invalid_unicode")
            return
        await self.app(scope, _replay([body], None, receive), send)


def _replay(bodies: list[bytes], tail: Message | None, receive: Receive) -> Receive:
    pending: list[Message] = [
        {"type": "http.request", "body": b, "more_body": False} for b in bodies
    ]
    if tail is not None:
        pending.append(tail)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _refuse(scope: Scope, send: Send, status: int, message: str, code: str) -> None:
    from inference_core.api.errors import error_body

    body = json.dumps(error_body(scope["path"], status, message, code=code)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
