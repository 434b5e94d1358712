"""The official `anthropic` SDK against the real local stack: `messages.count_tokens` (the local
model by the gateway's estimate, the Anthropic alias by the upstream's own counter), `models.list`
in Anthropic's shape, and a Claude Code-style request (system blocks with `cache_control`,
`thinking`, beta headers) passed through to the recorded-shape Anthropic upstream, with its
thinking block and cache usage coming back."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from tests.e2e.recorded_anthropic import (
    CONTENT,
    COUNTED_TOKENS,
    UPSTREAM_MODEL,
    USAGE,
    RecordedAnthropic,
)

SYSTEM: Any = [
    {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
    {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
]
BETAS: Any = ["interleaved-thinking-2025-05-14", "context-management-2025-06-27"]


def test_count_tokens_for_the_local_model_is_the_gateways_estimate(anthropic_client: Any) -> None:
    short = anthropic_client.messages.count_tokens(
        model="smollm2", messages=[{"role": "user", "content": "Name a fruit."}]
    )
    longer = anthropic_client.messages.count_tokens(
        model="smollm2",
        system="You are terse.",
        messages=[{"role": "user", "content": "Name a fruit. " * 40}],
    )
    assert 0 < short.input_tokens < longer.input_tokens < 400


def test_count_tokens_for_an_anthropic_alias_is_anthropics_count(
    anthropic_client: Any, recorded_anthropic: RecordedAnthropic
) -> None:
    counted = anthropic_client.beta.messages.count_tokens(
        model="claude",
        system=SYSTEM,
        messages=[{"role": "user", "content": "hi"}],
        thinking={"type": "enabled", "budget_tokens": 2048},
        betas=BETAS,
    )
    assert counted.input_tokens == COUNTED_TOKENS
    sent = recorded_anthropic.requests[-1]
    assert sent.path == "/v1/messages/count_tokens"
    assert sent.body["model"] == UPSTREAM_MODEL and sent.body["system"] == SYSTEM
    # Every beta the SDK sent (ours, plus its own token-counting one) is forwarded.
    assert set(BETAS) < set(sent.headers["anthropic-beta"].split(","))


def test_count_tokens_refuses_an_unknown_model(anthropic_client: Any) -> None:
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.messages.count_tokens(
            model="claude-none", messages=[{"role": "user", "content": "hi"}]
        )


def test_models_list_is_in_anthropics_shape(anthropic_client: Any) -> None:
    models = list(anthropic_client.models.list())
    assert {"smollm2", "claude"} <= {m.id for m in models}
    assert all(m.type == "model" and m.created_at for m in models)
    assert anthropic_client.models.retrieve("claude-e2e-20260101").id == "claude"


def test_a_claude_code_request_streams_thinking_and_cache_usage_back(
    anthropic_client: Any, recorded_anthropic: RecordedAnthropic
) -> None:
    with anthropic_client.beta.messages.stream(
        model="claude-e2e-20260101",  # a dated id the alias matches
        max_tokens=32_000,
        system=SYSTEM,
        messages=[{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
        thinking={"type": "enabled", "budget_tokens": 31_999},
        metadata={"user_id": "user_e2e_session_1"},
        betas=BETAS,
        extra_headers={"Cache-Control": "no-cache"},
    ) as stream:
        final = stream.get_final_message()

    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == CONTENT[0]["thinking"]
    assert final.content[0].signature == CONTENT[0]["signature"]
    assert final.content[1].text == CONTENT[1]["text"]
    assert final.usage.cache_read_input_tokens == USAGE["cache_read_input_tokens"]
    assert final.usage.cache_creation_input_tokens == USAGE["cache_creation_input_tokens"]
    sent = recorded_anthropic.requests[-1]
    assert sent.path == "/v1/messages" and sent.body["stream"] is True
    assert sent.body["model"] == UPSTREAM_MODEL
    assert sent.body["system"] == SYSTEM  # cache_control where the client put it
    assert sent.body["thinking"] == {"type": "enabled", "budget_tokens": 31_999}
    assert sent.body["max_tokens"] == 32_000
    assert sent.headers["anthropic-beta"] == ",".join(BETAS)
    assert sent.headers.get("x-api-key") != anthropic_client.api_key
    assert anthropic_client.api_key not in sent.headers.get("authorization", "")
