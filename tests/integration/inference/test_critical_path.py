"""The DynamoDB critical path of a governed chat completion, from call overlap (not timing): one
round trip before the provider call (the admission transaction with the cache read alongside),
and none between the last byte the client needs and the client receiving it (the settle runs
after the body is sent, and still before the response, hence the invocation, ends).

The app is driven as raw ASGI so the test sees each body message as the client would. A botocore
hook records when each DynamoDB call starts and ends on one event sequence; it holds a call that
starts alone until another one starts (at most HOLD seconds), so two calls issued concurrently
always overlap in the record and two issued one after the other never do.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}
HOLD = 0.3


@dataclass
class Timeline:
    """Events on one sequence: ("start"|"end", operation, call id) and named marks."""

    events: list[tuple[int, str, str]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _calls: itertools.count[int] = field(default_factory=itertools.count)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _started: int = 0

    def mark(self, name: str, detail: str = "") -> int:
        with self._cond:
            seq = next(self._seq)
            self.events.append((seq, name, detail))
            return seq

    def before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        call = f"{model.name}#{next(self._calls)}"
        context["timeline_call"] = call
        with self._cond:
            self.events.append((next(self._seq), "start", call))
            self._started += 1
            mine = self._started
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._started > mine, timeout=HOLD)

    def after(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        self.mark("end", context.get("timeline_call", model.name))

    def calls(self) -> list[tuple[str, int, int]]:
        """(call, start seq, end seq) in start order."""
        starts = {d: s for s, n, d in self.events if n == "start"}
        ends = {d: s for s, n, d in self.events if n == "end"}
        return sorted(((c, starts[c], ends[c]) for c in starts), key=lambda c: c[1])

    def at(self, name: str) -> int:
        return next(s for s, n, _ in self.events if n == name)


def round_trips(calls: list[tuple[str, int, int]]) -> int:
    """Groups of calls in flight together: what a client waits for one after the other."""
    trips, in_flight_until = 0, -1
    for _, start, end in calls:
        if start > in_flight_until:
            trips += 1
        in_flight_until = max(in_flight_until, end)
    return trips


@pytest.fixture
def timeline(aws: Any, upstream: Any) -> Timeline:
    from inference_core.auth.deps import get_auth_settings
    from inference_core.db.models import ALL_MODELS
    from inference_core.wiring import get_inference_service

    get_auth_settings()
    get_inference_service()
    recorded = Timeline()
    seen: set[int] = set()
    for model in ALL_MODELS:
        client = model._get_connection().connection.client
        if id(client) not in seen:
            seen.add(id(client))
            client.meta.events.register("before-call.dynamodb", recorded.before)
            client.meta.events.register("after-call.dynamodb", recorded.after)
    original_chat, original_stream = upstream.chat, upstream.chat_stream

    async def chat(*args: Any) -> Any:
        recorded.mark("provider")
        return await original_chat(*args)

    def chat_stream(*args: Any) -> Any:
        recorded.mark("provider")
        return original_stream(*args)

    upstream.chat, upstream.chat_stream = chat, chat_stream
    return recorded


def _key(client: TestClient, make_account: Any) -> str:
    account = make_account()
    response = client.post("/v1/auth/api-keys", json={"name": "t"}, headers=account.auth)
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    # the first request resolves the key's levels (then cached in-process): off the measured one
    warm = client.post(
        "/v1/chat/completions",
        json={**CHAT, "temperature": 0.3},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert warm.status_code == 200, warm.text
    return key


def _call_asgi(app: FastAPI, timeline: Timeline, key: str, body: dict[str, Any]) -> bytes:
    """POST /v1/chat/completions as raw ASGI; marks "client-has-all" when the body received so
    far is everything the client needs (Content-Length reached, or the stream's [DONE])."""
    payload = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"authorization", f"Bearer {key}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    received = bytearray()
    length: int | None = None
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal length
        if message["type"] == "http.response.start":
            assert message["status"] == 200
            headers = {k.decode(): v.decode() for k, v in message["headers"]}
            length = int(headers["content-length"]) if "content-length" in headers else None
            return
        received.extend(message.get("body", b""))
        complete = (length is not None and len(received) >= length) or b"[DONE]" in received
        if complete and not any(n == "client-has-all" for _, n, _ in timeline.events):
            timeline.mark("client-has-all")
        if not message.get("more_body", False):
            timeline.mark("response-ended")

    # A loop of its own, never made current: asyncio.run would leave none behind, and the
    # session's Mangum handler (other tests) runs on the current one.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(app(scope, receive, send))
    finally:
        loop.close()
    return bytes(received)


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "stream"])
def test_one_round_trip_before_the_provider_and_none_before_the_client_has_the_answer(
    app: FastAPI, client: TestClient, make_account: Any, timeline: Timeline, stream: bool
) -> None:
    key = _key(client, make_account)
    timeline.events.clear()
    body = _call_asgi(app, timeline, key, {**CHAT, "stream": stream})
    assert b"Hello" in body and b"primary" in body

    provider = timeline.at("provider")
    calls = timeline.calls()
    before = [c for c in calls if c[1] < provider]
    after = [c for c in calls if c[1] > provider]
    # admission ∥ cache read: both in flight together, both answered before the provider call
    assert sorted(c[0].split("#")[0] for c in before) == ["GetItem", "TransactWriteItems"]
    assert round_trips(before) == 1
    assert all(end < provider for _, _, end in before)
    # the settle: after the client has everything it needs, before the response ends
    assert [c[0].split("#")[0] for c in after] == ["TransactWriteItems"]
    (_, settle_start, settle_end) = after[0]
    assert timeline.at("client-has-all") < settle_start
    assert settle_end < timeline.at("response-ended")


def test_the_round_trip_count_sees_calls_made_one_after_the_other() -> None:
    # the counter itself can fail: sequential calls are two round trips, overlapping ones one
    assert round_trips([("a", 0, 1), ("b", 2, 3)]) == 2
    assert round_trips([("a", 0, 2), ("b", 1, 3)]) == 1
