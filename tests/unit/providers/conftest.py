"""Fake upstreams for the provider adapters: recorded-shape responses behind a mock transport.

The official SDKs are driven unchanged; only their HTTP client is swapped for one whose transport
answers from a script, so no test touches the network.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest

try:  # the HTTP library the provider SDKs are built on (httpx2 for current releases)
    import httpx2 as sdk_httpx
except ImportError:  # pragma: no cover - older SDK releases use httpx
    import httpx as sdk_httpx  # type: ignore[no-redef]

# Looks like a real key, so a leak is easy to spot in any message or traceback.
API_KEY = "sk-test-SECRET-7f3a9c2e41d84b6aa0c5"

Reply = Any  # an sdk_httpx.Response, an exception to raise, or a callable(request) -> either


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeUpstream:
    """A scripted upstream: answers each request with the next reply, and keeps the requests."""

    def __init__(self, *replies: Reply):
        self.replies = list(replies)
        self.requests: list[Any] = []

    def handler(self, request: Any) -> Any:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request to {request.url}")
        reply = self.replies.pop(0)
        if callable(reply) and not isinstance(reply, sdk_httpx.Response):
            reply = reply(request)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def client(self) -> Any:
        return sdk_httpx.AsyncClient(transport=sdk_httpx.MockTransport(self.handler))

    def body(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.requests[index].content)


def json_reply(payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None):
    return sdk_httpx.Response(status, json=payload, headers=headers)


class _CutStream(sdk_httpx.AsyncByteStream):
    """A response body that delivers some bytes, then loses the connection."""

    def __init__(self, parts: list[bytes]):
        self.parts = parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part
        raise sdk_httpx.ReadError("connection reset by peer")


def sse_reply(frames: list[bytes], *, cut: bool = False):
    headers = {"content-type": "text/event-stream"}
    if cut:
        return sdk_httpx.Response(200, headers=headers, stream=_CutStream(frames))
    return sdk_httpx.Response(200, headers=headers, content=b"".join(frames))


def openai_sse(*payloads: dict[str, Any] | str) -> list[bytes]:
    """OpenAI's stream framing: `data: {json}` events, the caller adds `[DONE]` if it wants it."""
    return [f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n".encode() for p in payloads]


def anthropic_sse(*events: dict[str, Any]) -> list[bytes]:
    """Anthropic's stream framing: a named event per JSON object (named by its `type`)."""
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


def timeout_reply(request: Any) -> BaseException:
    return sdk_httpx.ReadTimeout("timed out", request=request)


def connect_error_reply(request: Any) -> BaseException:
    return sdk_httpx.ConnectError("connection refused", request=request)


def formatted(exc: BaseException) -> str:
    """Everything a log line or trace could show of `exc`: message, repr and its whole chain."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(getattr(exc, "message", ""))


async def collect(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]
