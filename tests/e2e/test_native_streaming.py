"""`/v1/generate` and `/v1/chat` with `"stream": true` against the local stack and the real model."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx


def _events(response: httpx.Response) -> tuple[list[Any], list[float]]:
    events: list[Any] = []
    arrivals: list[float] = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line[6:]
            events.append(data if data == "[DONE]" else json.loads(data))
            arrivals.append(time.perf_counter())
    return events, arrivals


def test_generate_and_chat_stream_pieces_then_the_whole_answer(local_stack: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {local_stack['api_key']}", "Cache-Control": "no-cache"}
    with httpx.Client(base_url=local_stack["api_url"], timeout=120, headers=headers) as client:
        body = {"prompt": "Once upon a time", "max_tokens": 16, "stream": True}
        with client.stream("POST", "/v1/generate", json=body) as response:
            assert response.status_code == 200
            events, arrivals = _events(response)
        pieces = [e["text"] for e in events[:-2]]
        final = events[-2]
        assert len(pieces) >= 3 and arrivals[0] < arrivals[-1]
        assert final["done"] is True and final["generated_text"] == "".join(pieces)
        assert final["tokens_generated"] > 0 and events[-1] == "[DONE]"

        turn = {"message": "My name is Ada.", "max_tokens": 8, "stream": True}
        with client.stream("POST", "/v1/chat", json=turn) as response:
            session_id = response.headers["x-session-id"]
            events, _ = _events(response)
        assert events[-2]["session_id"] == session_id and events[-2]["history_length"] == 2
        second = client.post(
            "/v1/chat", json={"message": "And again?", "session_id": session_id, "max_tokens": 8}
        )
        assert second.status_code == 200 and second.json()["history_length"] == 4
