"""A recorded-shape Anthropic API on loopback for the local stack's `anthropic` deployment: it
answers `/v1/messages` (JSON or SSE, with a thinking block and prompt-cache usage, as the real API
does) and `/v1/messages/count_tokens`, and keeps every request it was sent so tests can see what
the gateway forwarded. Started and stopped by the e2e session; never reaches the internet."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

UPSTREAM_MODEL = "claude-e2e-1"  # made up: the SDK warns about deprecated real ids
COUNTED_TOKENS = 4321
USAGE = {
    "input_tokens": 7,
    "cache_creation_input_tokens": 1_024,
    "cache_read_input_tokens": 8_192,
    "output_tokens": 12,
}
CONTENT = [
    {"type": "thinking", "thinking": "A greeting is enough.", "signature": "EqQBCgIYAhIMrecorded"},
    {"type": "text", "text": "Hello from the recorded upstream."},
]


@dataclass
class RecordedRequest:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class RecordedAnthropic:
    url: str
    requests: list[RecordedRequest] = field(default_factory=list)


def message_events() -> list[dict[str, Any]]:
    start_usage = {**USAGE, "output_tokens": 1}
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_recorded",
                "type": "message",
                "role": "assistant",
                "model": UPSTREAM_MODEL,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": CONTENT[0]["thinking"]},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": CONTENT[0]["signature"]},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "text_delta", "text": CONTENT[1]["text"]},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": USAGE["output_tokens"]},
        },
        {"type": "message_stop"},
    ]
    return events


def start() -> tuple[RecordedAnthropic, ThreadingHTTPServer]:
    """Serve on a free loopback port in a daemon thread; call `server.shutdown()` to stop."""
    recorded = RecordedAnthropic(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            recorded.requests.append(
                RecordedRequest(
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            if parts.path == "/v1/messages/count_tokens":
                self._json({"input_tokens": COUNTED_TOKENS})
            elif parts.path == "/v1/messages" and body.get("stream"):
                frames = "".join(
                    f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in message_events()
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(frames)))
                self.end_headers()
                self.wfile.write(frames)
            elif parts.path == "/v1/messages":
                self._json(
                    {
                        "id": "msg_recorded",
                        "type": "message",
                        "role": "assistant",
                        "model": UPSTREAM_MODEL,
                        "content": CONTENT,
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": USAGE,
                    }
                )
            else:
                self._json(
                    {"type": "error", "error": {"type": "not_found_error", "message": "?"}}, 404
                )

        def _json(self, payload: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return recorded, server
