"""Guardrails on `/v1/messages` pass-through to an Anthropic deployment (the real AnthropicProvider
and SDK over a recorded-shape upstream, moto): the client's own body is what Anthropic is sent, so
`redact` must rewrite that body (system, text, tool_use input, tool_result), and Anthropic's own
answer and events are what the client gets, so output redaction must rewrite those, streams and
cache replays included; everything else in the body and the answer stays as it was."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.inference.test_claude_code_replays import (
    THINKING_STREAM,
    UPSTREAM_MODEL,
    claude,
    claude_code_body,
    claude_code_headers,
    key,
    message,
    post_stream,
    sse,
)

__all__ = ["claude", "key"]

EMAIL = "ada.lovelace@example.com"


@pytest.fixture
def guarded(claude: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The deployment's policy: PII redacted on the way in and on the way out."""
    from inference_core.api.deps import reset_dependencies
    from inference_core.settings import get_settings

    monkeypatch.setenv(
        "IC_GUARDRAILS_POLICY", json.dumps({"pii": "redact", "output_pii": "redact"})
    )
    get_settings.cache_clear()
    reset_dependencies()
    yield claude
    reset_dependencies()


def body_with_pii() -> dict[str, Any]:
    body = claude_code_body(stream=False)
    body["system"][1]["text"] += f" The operator is {EMAIL}."
    body["messages"] = [
        {"role": "user", "content": f"Mail the invoice to {EMAIL}"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Sending it."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"input": EMAIL}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": f"sent to {EMAIL}"}],
                },
                {"type": "text", "text": "Done?", "cache_control": {"type": "ephemeral"}},
            ],
        },
    ]
    return body


def test_anthropic_is_sent_the_clients_body_redacted_and_nothing_else_changed(
    client: Any, guarded: Any, key: str
) -> None:
    upstream, _ = guarded
    answer = message(
        [
            {"type": "thinking", "thinking": "Reply briefly.", "signature": "EqQB"},
            {"type": "text", "text": f"Yes, {EMAIL} has it."},
        ]
    )
    upstream.replies.append(answer)
    body = body_with_pii()

    response = client.post("/v1/messages", json=body, headers=claude_code_headers(key))

    assert response.status_code == 200, response.text
    sent = upstream.body()
    assert EMAIL not in json.dumps(sent)
    expected = copy.deepcopy(body)
    expected["model"] = UPSTREAM_MODEL
    del expected["stream"]  # a plain request goes without it
    expected["system"][1]["text"] = expected["system"][1]["text"].replace(EMAIL, "[EMAIL]")
    expected["messages"][0]["content"] = "Mail the invoice to [EMAIL]"
    expected["messages"][1]["content"][1]["input"] = {"input": "[EMAIL]"}
    expected["messages"][2]["content"][0]["content"][0]["text"] = "sent to [EMAIL]"
    assert sent == expected  # cache_control, thinking, tools, metadata: as the client sent them
    got = response.json()
    assert got["content"] == [
        {"type": "thinking", "thinking": "Reply briefly.", "signature": "EqQB"},
        {"type": "text", "text": "Yes, [EMAIL] has it."},
    ]
    assert got["usage"]["cache_read_input_tokens"] == answer["usage"]["cache_read_input_tokens"]
    assert "pii.email" in response.headers["x-ic-guardrails"]


def test_a_pass_through_stream_and_its_cache_replay_reach_the_client_redacted(
    client: Any, guarded: Any, key: str
) -> None:
    upstream, _ = guarded
    events = copy.deepcopy(THINKING_STREAM)
    text_deltas = [
        i for i, e in enumerate(events) if e.get("delta", {}).get("type") == "text_delta"
    ]
    events[text_deltas[0]]["delta"]["text"] = "Write to ada.love"
    events[text_deltas[1]]["delta"]["text"] = "lace@example.com today."
    upstream.replies.append(sse(*events))

    def text_of(received: list[Any]) -> str:
        return "".join(
            e["delta"]["text"]
            for name, e in received
            if name == "content_block_delta" and e["delta"]["type"] == "text_delta"
        )

    first_response, first = post_stream(client, key, claude_code_body())
    second_response, second = post_stream(client, key, claude_code_body())

    assert (first_response.headers["x-cache"], second_response.headers["x-cache"]) == (
        "miss",
        "hit",
    )
    for received in (first, second):
        assert text_of(received) == "Write to [EMAIL] today."
        assert "lovelace" not in json.dumps(received)
        names = [name for name, _ in received]
        # every text delta still sits inside its block, before the block's stop
        last_text = max(i for i, (n, e) in enumerate(received) if n == "content_block_delta")
        assert names[last_text + 1] == "content_block_stop"
        assert names[-2:] == ["message_delta", "message_stop"]
        thinking = [e for n, e in received if e.get("delta", {}).get("type") == "thinking_delta"]
        assert thinking[0]["delta"]["thinking"] == "The user asks about main.py."
