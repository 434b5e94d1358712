"""The official `anthropic` SDK against the real local stack (`/v1/messages`, `x-api-key`)."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest


def test_message_returns_generated_text(anthropic_client: Any) -> None:
    message = anthropic_client.messages.create(
        model="smollm2",
        max_tokens=16,
        system="You are terse.",
        messages=[{"role": "user", "content": "Name a fruit."}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text" and message.content[0].text.strip()
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_message_stream_has_anthropic_events_and_text(anthropic_client: Any) -> None:
    events = []
    with anthropic_client.messages.stream(
        model="smollm2", max_tokens=24, messages=[{"role": "user", "content": "Count to five."}]
    ) as stream:
        for event in stream:
            events.append(event.type)
        final = stream.get_final_message()
    assert events[0] == "message_start"
    assert "content_block_start" in events and "content_block_stop" in events
    assert events.count("text") + events.count("content_block_delta") >= 3
    assert "message_delta" in events and events[-1] == "message_stop"
    assert final.content[0].text.strip()


def test_bad_key_is_an_authentication_error(local_stack: dict[str, Any]) -> None:
    client = anthropic.Anthropic(
        base_url=local_stack["api_url"], api_key="sk-ic-nope", max_retries=0
    )
    with pytest.raises(anthropic.AuthenticationError):
        client.messages.create(
            model="smollm2", max_tokens=4, messages=[{"role": "user", "content": "hi"}]
        )


def test_missing_max_tokens_is_a_bad_request(anthropic_client: Any) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client.messages.create(
            model="smollm2",
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=None,  # type: ignore[arg-type]
        )
    assert caught.value.body["type"] == "error"


def test_unknown_model_is_not_found(anthropic_client: Any) -> None:
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.messages.create(
            model="claude-none", max_tokens=4, messages=[{"role": "user", "content": "hi"}]
        )
