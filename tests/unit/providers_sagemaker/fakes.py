"""Recorded-shape stand-ins for `sagemaker-runtime`: canned bodies, and event streams that go
through botocore's own event-stream parser (built from the same frames the local server sends)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.eventstream import EventStream
from botocore.parsers import EventStreamJSONParser

from inference_core.local.eventstream import payload_part, stream_exception

ENDPOINT = "tgi-endpoint"


def runtime_client() -> Any:
    """A real client (for its service model and the Stubber); it never reaches the network."""
    return boto3.client("sagemaker-runtime", region_name="us-east-1")


class RawStream:
    """What botocore hands `EventStream`: a raw HTTP body with `stream()` and `close()`.

    `chunks` are delivered as they are (so a frame can be split across reads); `fail_with` is
    raised after the last chunk, like a connection that breaks mid-stream; `delay` sleeps before
    each chunk (the reader runs in a thread, so the event loop must keep going meanwhile).
    """

    def __init__(
        self, chunks: list[bytes], *, fail_with: BaseException | None = None, delay: float = 0.0
    ):
        self._chunks = chunks
        self._fail_with = fail_with
        self._delay = delay
        self.closed = threading.Event()
        self.delivered = 0

    def stream(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if self.closed.is_set():
                return
            if self._delay:
                time.sleep(self._delay)
            self.delivered += 1
            yield chunk
        if self._fail_with is not None:
            raise self._fail_with

    def close(self) -> None:
        self.closed.set()


def event_stream(raw: RawStream) -> EventStream:
    model = runtime_client().meta.service_model.operation_model("InvokeEndpointWithResponseStream")
    shape = model.output_shape.members["Body"]
    return EventStream(raw, shape, EventStreamJSONParser(), "InvokeEndpointWithResponseStream")


def sse(*events: Any) -> bytes:
    """SSE text as TGI writes it: one `data:` line per event, a blank line after each."""
    out = []
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        out.append(f"data: {data}\n\n")
    return "".join(out).encode()


def chunk(content: str | None = None, *, finish: str | None = None, **delta: Any) -> dict:
    if content is not None:
        delta["content"] = content
    return {
        "object": "chat.completion.chunk",
        "model": "tgi",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def usage_chunk(prompt: int, completion: int) -> dict:
    return {
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def frames(*parts: bytes) -> list[bytes]:
    return [payload_part(part) for part in parts]


def model_stream_error(message: str = "boom", code: str = "StreamBroken") -> bytes:
    return stream_exception("ModelStreamError", message, code)


class FakeRuntime:
    """A `sagemaker-runtime` client with queued outcomes; records every call's parameters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._outcomes: list[Any] = []

    def will_return(self, body: Any) -> FakeRuntime:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._outcomes.append({"Body": io.BytesIO(raw), "ContentType": "application/json"})
        return self

    def will_stream(self, raw: RawStream) -> FakeRuntime:
        self._outcomes.append({"Body": event_stream(raw), "ContentType": "text/event-stream"})
        return self

    def will_raise(self, exc: BaseException) -> FakeRuntime:
        self._outcomes.append(exc)
        return self

    def payload(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.calls[index][1]["Body"])

    def _next(self, operation: str, params: dict[str, Any]) -> Any:
        self.calls.append((operation, params))
        outcome = self._outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def invoke_endpoint(self, **params: Any) -> Any:
        return self._next("invoke_endpoint", params)

    def invoke_endpoint_with_response_stream(self, **params: Any) -> Any:
        return self._next("invoke_endpoint_with_response_stream", params)
