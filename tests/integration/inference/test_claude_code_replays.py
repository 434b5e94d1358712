"""Replays of the requests Claude Code sends, through the gateway (over moto) to a recorded-shape
Anthropic upstream: the real AnthropicProvider and SDK, with only the SDK's HTTP transport
answering from recorded Anthropic responses and SSE streams.

Each test asserts what reached the upstream (path, query, headers, the body with `cache_control`
where the client put it) and what the client got back (thinking blocks, server-tool blocks, cache
usage, stop sequences), and that non-Anthropic deployments refuse, or drop and name, what they
cannot take.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from inference_core.providers.anthropic import AnthropicProvider
from tests.integration.inference.conftest import ScriptedUpstream

try:  # the HTTP library the SDK is built on (httpx2 for current releases)
    import httpx2 as sdk_httpx
except ImportError:  # pragma: no cover - older SDK releases use httpx
    import httpx as sdk_httpx  # type: ignore[no-redef]

UPSTREAM_KEY = "sk-ant-test-UPSTREAM-4b1d"
UPSTREAM_MODEL = "claude-sonnet-4-6-20260217"  # made up: the SDK warns on deprecated ids
REGISTRY = {
    "default_model": "claude-sonnet",
    "models": {
        "claude-sonnet": {
            "display_name": "Claude Sonnet (via the gateway)",
            "match": ["claude-sonnet-4-6*", "claude-sonnet-4-*", "claude-opus-*"],
            "deployments": [
                {
                    "provider": "anthropic",
                    "model": UPSTREAM_MODEL,
                    "input_price_per_mtok": 3.0,
                    "output_price_per_mtok": 15.0,
                    "context_window": 200_000,
                    "max_output_tokens": 64_000,
                }
            ],
        },
        "local": {
            "match": ["claude-3-5-haiku*"],
            "deployments": [
                {
                    "provider": "sagemaker",
                    "model": "primary",
                    "context_window": 200_000,
                    "max_output_tokens": 32_000,
                }
            ],
        },
        "local-lenient": {
            "deployments": [
                {
                    "provider": "sagemaker",
                    "model": "primary",
                    "context_window": 200_000,
                    "max_output_tokens": 32_000,
                    "drop_unsupported": True,
                }
            ]
        },
    },
}

# What Claude Code sends on every request (2.x, API-key auth).
BETAS = [
    "claude-code-20250219",
    "interleaved-thinking-2025-05-14",
    "fine-grained-tool-streaming-2025-05-14",
    "context-management-2025-06-27",
]
SYSTEM = [
    {
        "type": "text",
        "text": "You are Claude Code, Anthropic's official CLI for Claude.",
        "cache_control": {"type": "ephemeral"},
    },
    {
        "type": "text",
        "text": "You are an interactive CLI tool that helps users with software engineering tasks.",
        "cache_control": {"type": "ephemeral"},
    },
]
TOOL_NAMES = [
    "Task", "Bash", "Glob", "Grep", "ExitPlanMode", "Read", "Edit", "Write", "NotebookEdit",
    "WebFetch", "TodoWrite", "WebSearch", "BashOutput", "KillShell", "SlashCommand", "Skill",
    "mcp__ide__getDiagnostics", "mcp__ide__executeCode", "mcp__github__search_code",
    "mcp__github__get_file", "mcp__github__create_issue", "mcp__linear__list_issues",
]  # fmt: skip
TOOLS: list[dict[str, Any]] = [
    {
        "name": name,
        "description": f"The {name} tool.",
        "input_schema": {
            "type": "object",
            "properties": {"input": {"type": "string", "description": "what to act on"}},
            "required": ["input"],
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    }
    for name in TOOL_NAMES
]
TOOLS[-1]["cache_control"] = {"type": "ephemeral"}  # Claude Code marks the last tool
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
PDF = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PD4+CiUlRU9GCg=="


def claude_code_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": UPSTREAM_MODEL,
        "max_tokens": 32_000,
        "system": copy.deepcopy(SYSTEM),
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "<system-reminder>This is a reminder.</system-reminder>",
                    },
                    {
                        "type": "text",
                        "text": "What does main.py do?",
                        "cache_control": {"type": "ephemeral"},
                    },
                ],
            }
        ],
        "tools": copy.deepcopy(TOOLS),
        "metadata": {"user_id": "user_5f1e_account__session_0c2d"},
        "thinking": {"type": "enabled", "budget_tokens": 31_999},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
        "stream": True,
    }
    body.update(overrides)
    return body


def claude_code_headers(key: str) -> dict[str, str]:
    return {
        "x-api-key": key,
        "anthropic-version": "2023-06-01",
        "anthropic-beta": ",".join(BETAS),
        "anthropic-dangerous-direct-browser-access": "true",
        "x-app": "cli",
        "user-agent": "claude-cli/2.0.30 (external, cli)",
    }


# ---- the recorded-shape upstream ----


def sse(*events: dict[str, Any]) -> Any:
    frames = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return sdk_httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=frames.encode()
    )


def message(content: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": UPSTREAM_MODEL,
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 12,
            "cache_creation_input_tokens": 1_800,
            "cache_read_input_tokens": 14_000,
            "output_tokens": 40,
            "service_tier": "standard",
        },
        **fields,
    }


THINKING_STREAM: list[dict[str, Any]] = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_01Thinking",
            "type": "message",
            "role": "assistant",
            "model": UPSTREAM_MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 9,
                "cache_creation_input_tokens": 2_048,
                "cache_read_input_tokens": 15_360,
                "output_tokens": 1,
            },
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
        "delta": {"type": "thinking_delta", "thinking": "The user asks about main.py."},
    },
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {
            "type": "signature_delta",
            "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pk",
        },
    },
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "text_delta", "text": "It starts the "},
    },
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "server."}},
    {"type": "content_block_stop", "index": 1},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 31},
    },
    {"type": "message_stop"},
]


class RecordedAnthropic:
    """Answers each request with the next recorded reply and keeps what it was sent."""

    def __init__(self) -> None:
        self.replies: list[Any] = []
        self.requests: list[Any] = []

    def handler(self, request: Any) -> Any:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected upstream request to {request.url}")
        reply = self.replies.pop(0)
        if isinstance(reply, dict):
            return sdk_httpx.Response(200, json=reply)
        return reply

    def body(self, index: int = -1) -> dict[str, Any]:
        return dict(json.loads(self.requests[index].content))


@pytest.fixture
def claude(
    aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[tuple[RecordedAnthropic, ScriptedUpstream]]:
    from inference_core.api.deps import reset_dependencies
    from inference_core.settings import get_settings

    registry = tmp_path / "models.json"
    registry.write_text(json.dumps(REGISTRY))
    monkeypatch.setenv("IC_MODEL_REGISTRY_PATH", str(registry))
    monkeypatch.setenv("IC_MAX_TOKENS_CAP", "4096")  # the gateway-wide cap Claude Code exceeds
    monkeypatch.setenv("IC_MAX_PROMPT_CHARS", "20000")
    get_settings.cache_clear()
    reset_dependencies()
    upstream = RecordedAnthropic()
    scripted = ScriptedUpstream()

    def create_provider(name: str, settings: Any) -> Any:
        if name == "anthropic":
            return AnthropicProvider(
                api_key=UPSTREAM_KEY,
                http_client=sdk_httpx.AsyncClient(
                    transport=sdk_httpx.MockTransport(upstream.handler)
                ),
            )
        return scripted

    monkeypatch.setattr("inference_core.providers.create_provider", create_provider)
    yield upstream, scripted
    reset_dependencies()


@pytest.fixture
def key(make_account: Any, gateway: Any) -> str:
    account = make_account()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "cc"}, token=account.access_token)
    assert created.status == 201, created.text
    return str(created.json()["key"])


def stream_events(response: Any) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    name = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name is not None:
            events.append((name, json.loads(line[6:])))
            name = None
    return events


def post_stream(client: Any, key: str, body: dict[str, Any]) -> tuple[Any, list[Any]]:
    with client.stream(
        "POST", "/v1/messages?beta=true", json=body, headers=claude_code_headers(key)
    ) as response:
        return response, stream_events(response)


# ---- the replays ----


def test_first_request_streams_thinking_and_reports_cache_usage(
    client: Any, claude: Any, key: str, aws: Any
) -> None:
    upstream, scripted = claude
    upstream.replies.append(sse(*THINKING_STREAM))
    body = claude_code_body()

    response, events = post_stream(client, key, body)

    assert response.status_code == 200
    sent = upstream.requests[0]
    assert sent.url.path == "/v1/messages" and sent.url.params.get("beta") == "true"
    assert sent.headers["anthropic-beta"] == ",".join(BETAS)
    # The gateway's own key goes upstream, never the client's.
    assert UPSTREAM_KEY in (
        sent.headers.get("x-api-key"),
        sent.headers.get("authorization", "")[7:],
    )
    assert not any(key in value for value in sent.headers.values())
    # Everything Claude Code sent arrives unchanged, cache_control where it put it.
    assert upstream.body() == {**body, "model": UPSTREAM_MODEL, "stream": True}
    # The client gets Anthropic's own events: thinking with its signature, then the text.
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"]
    assert [e for _, e in events if _ != "ping"] == THINKING_STREAM
    start = events[0][1]["message"]["usage"]
    assert (start["cache_read_input_tokens"], start["cache_creation_input_tokens"]) == (
        15_360,
        2_048,
    )
    assert scripted.calls == []
    # Metered with the cached tokens counted as input.
    [item] = aws.scan("ic-usage")
    assert item["input_tokens"]["N"] == str(9 + 2_048 + 15_360)
    assert item["output_tokens"]["N"] == "31"
    assert item["provider"]["S"] == "anthropic"


def test_claude_code_2_1_shape_with_adaptive_thinking_and_a_mid_conversation_system_turn(
    client: Any, claude: Any, key: str
) -> None:
    # What Claude Code 2.1.197 sends first (captured against a recording upstream, trimmed).
    upstream, _ = claude
    upstream.replies.append(sse(*THINKING_STREAM))
    body = claude_code_body(
        model="claude-opus-4-8",
        max_tokens=64_000,
        thinking={"type": "adaptive"},
        metadata={"user_id": json.dumps({"device_id": "586063ad", "session_id": "3a27e53a"})},
    )
    body["system"].insert(
        0,
        {
            "type": "text",
            "text": "x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli;",
        },
    )
    body["messages"].append(
        {"role": "system", "content": "Available agent types for the Agent tool:\n- claude: ..."}
    )
    headers = claude_code_headers(key)
    headers["anthropic-beta"] = (
        "claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14,"
        "context-management-2025-06-27,mid-conversation-system-2026-04-07,effort-2025-11-24"
    )

    with client.stream("POST", "/v1/messages?beta=true", json=body, headers=headers) as response:
        events = stream_events(response)

    assert response.status_code == 200
    assert upstream.body() == {**body, "model": UPSTREAM_MODEL, "stream": True}
    assert upstream.requests[0].headers["anthropic-beta"] == headers["anthropic-beta"]
    assert events[-1][0] == "message_stop"


def test_the_official_sdk_streams_the_thinking_through_the_gateway(
    app: Any, claude: Any, key: str
) -> None:
    upstream, _ = claude
    upstream.replies.append(sse(*THINKING_STREAM))

    async def ask() -> Any:
        # The Anthropic SDK as Claude Code uses it (beta client, betas, thinking), its HTTP
        # transport going straight into the gateway's ASGI app.
        transport = sdk_httpx.ASGITransport(app=app)
        async with sdk_httpx.AsyncClient(transport=transport) as http:
            sdk = anthropic.AsyncAnthropic(
                base_url="http://gateway", api_key=key, http_client=http, max_retries=0
            )
            async with sdk.beta.messages.stream(
                model=UPSTREAM_MODEL,
                max_tokens=32_000,
                system=SYSTEM,  # type: ignore[arg-type]
                messages=[{"role": "user", "content": "What does main.py do?"}],
                thinking={"type": "enabled", "budget_tokens": 31_999},
                betas=BETAS,
            ) as stream:
                return await stream.get_final_message()

    # A loop of its own, not asyncio.run: that would unset the main thread's loop, which the
    # Mangum handler in the other tests still uses.
    loop = asyncio.new_event_loop()
    try:
        final = loop.run_until_complete(ask())
    finally:
        loop.close()

    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[0].signature.startswith("EqQB")  # type: ignore[union-attr]
    assert final.content[1].text == "It starts the server."  # type: ignore[union-attr]
    assert final.usage.cache_read_input_tokens == 15_360
    assert final.usage.cache_creation_input_tokens == 2_048
    assert upstream.requests[0].headers["anthropic-beta"] == ",".join(BETAS)


def test_tool_round_trip_with_an_image_in_the_tool_result(
    client: Any, claude: Any, key: str
) -> None:
    upstream, _ = claude
    upstream.replies.append(
        message(
            [
                {"type": "thinking", "thinking": "I should read it.", "signature": "sig-1"},
                {
                    "type": "tool_use",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "Read",
                    "input": {"input": "/repo/screenshot.png"},
                },
            ],
            stop_reason="tool_use",
        )
    )
    upstream.replies.append(message([{"type": "text", "text": "A red pixel."}]))
    first_body = claude_code_body(stream=False)
    first = client.post("/v1/messages?beta=true", json=first_body, headers=claude_code_headers(key))
    assert first.status_code == 200, first.text
    turn = first.json()
    assert turn["stop_reason"] == "tool_use"
    assert [b["type"] for b in turn["content"]] == ["thinking", "tool_use"]
    assert turn["usage"]["cache_read_input_tokens"] == 14_000

    second_body = claude_code_body(stream=False)
    second_body["messages"] += [
        {"role": "assistant", "content": turn["content"]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                    "content": [
                        {"type": "text", "text": "Read image (1x1)"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                        },
                    ],
                    "cache_control": {"type": "ephemeral"},
                }
            ],
        },
    ]
    second = client.post(
        "/v1/messages?beta=true", json=second_body, headers=claude_code_headers(key)
    )

    assert second.status_code == 200, second.text
    assert second.json()["content"] == [{"type": "text", "text": "A red pixel."}]
    sent = upstream.body()
    # The thinking block with its signature goes back, and the image stays inside the result.
    assert sent["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "I should read it.",
        "signature": "sig-1",
    }
    assert sent["messages"][2] == second_body["messages"][2]
    assert sent["messages"][2]["content"][0]["cache_control"] == {"type": "ephemeral"}


def test_a_pdf_read_reaches_the_upstream_as_a_document_block(
    client: Any, claude: Any, key: str
) -> None:
    upstream, _ = claude
    upstream.replies.append(message([{"type": "text", "text": "An empty PDF."}]))
    body = claude_code_body(stream=False)
    body["messages"][0]["content"].insert(
        0,
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
            "cache_control": {"type": "ephemeral"},
        },
    )

    response = client.post("/v1/messages?beta=true", json=body, headers=claude_code_headers(key))

    assert response.status_code == 200, response.text
    assert upstream.body()["messages"][0]["content"][0] == body["messages"][0]["content"][0]


def test_web_search_server_tool_blocks_come_back_whole(client: Any, claude: Any, key: str) -> None:
    upstream, _ = claude
    search_blocks: list[dict[str, Any]] = [
        {
            "type": "server_tool_use",
            "id": "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
            "name": "web_search",
            "input": {"query": "python 3.14 release date"},
        },
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
            "content": [
                {
                    "type": "web_search_result",
                    "url": "https://peps.python.org/pep-0745/",
                    "title": "PEP 745 - Python 3.14 Release Schedule",
                    "encrypted_content": "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y",
                    "page_age": "2025-10-07",
                }
            ],
        },
        {
            "type": "text",
            "text": "Python 3.14 was released on 7 October 2025.",
            "citations": [
                {
                    "type": "web_search_result_location",
                    "url": "https://peps.python.org/pep-0745/",
                    "title": "PEP 745 - Python 3.14 Release Schedule",
                    "encrypted_index": "Eo8BCioIAhgBIiQyYjQ0OWJmZi1lNm",
                    "cited_text": "3.14.0 final: Tuesday, 2025-10-07",
                }
            ],
        },
    ]
    upstream.replies.append(
        message(
            search_blocks,
            usage={
                "input_tokens": 2_100,
                "output_tokens": 90,
                "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0},
            },
        )
    )
    # Claude Code's WebSearch tool runs as its own request with the server tool.
    body = {
        "model": UPSTREAM_MODEL,
        "max_tokens": 32_000,
        "system": [{"type": "text", "text": "You are an assistant for performing a web search."}],
        "messages": [
            {"role": "user", "content": "Perform a web search for: python 3.14 release date"}
        ],
        "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 8}],
        "stream": False,
    }

    response = client.post("/v1/messages?beta=true", json=body, headers=claude_code_headers(key))

    assert response.status_code == 200, response.text
    assert response.json()["content"] == search_blocks
    assert upstream.body()["tools"] == body["tools"]
    parsed = anthropic.types.Message.model_validate(response.json())
    assert parsed.usage.server_tool_use is not None
    assert parsed.usage.server_tool_use.web_search_requests == 1


def test_stop_sequence_is_reported(client: Any, claude: Any, key: str) -> None:
    upstream, _ = claude
    upstream.replies.append(
        message(
            [{"type": "text", "text": "1, 2, 3"}],
            stop_reason="stop_sequence",
            stop_sequence="STOP",
        )
    )
    body = claude_code_body(stream=False, stop_sequences=["STOP"])

    response = client.post("/v1/messages", json=body, headers=claude_code_headers(key))

    assert response.status_code == 200, response.text
    assert (response.json()["stop_reason"], response.json()["stop_sequence"]) == (
        "stop_sequence",
        "STOP",
    )


def test_max_tokens_up_to_the_deployments_own_limit(client: Any, claude: Any, key: str) -> None:
    upstream, _ = claude
    upstream.replies.append(message([{"type": "text", "text": "ok"}]))

    allowed = client.post(
        "/v1/messages",
        json=claude_code_body(stream=False, max_tokens=64_000),
        headers=claude_code_headers(key),
    )
    over = client.post(
        "/v1/messages",
        json=claude_code_body(stream=False, max_tokens=64_001),
        headers=claude_code_headers(key),
    )

    assert allowed.status_code == 200, allowed.text  # over IC_MAX_TOKENS_CAP (4096): its own
    assert over.status_code == 400
    assert over.json()["type"] == "error"
    assert "max_tokens" in over.json()["error"]["message"]
    assert len(upstream.requests) == 1


def test_prompts_are_sized_by_the_context_window_in_tokens(
    client: Any, claude: Any, key: str
) -> None:
    upstream, _ = claude
    upstream.replies.append(message([{"type": "text", "text": "ok"}]))
    body = claude_code_body(stream=False)
    # 60k characters: over IC_MAX_PROMPT_CHARS (20k), far inside a 200k-token window.
    body["messages"][0]["content"][0]["text"] = "word " * 12_000
    fits = client.post("/v1/messages", json=body, headers=claude_code_headers(key))
    assert fits.status_code == 200, fits.text

    body["max_tokens"] = 64_000
    body["messages"][0]["content"][0]["text"] = "x" * 600_000  # ~150k tokens + 64k > 200k
    too_big = client.post("/v1/messages", json=body, headers=claude_code_headers(key))
    assert too_big.status_code in (400, 413)
    assert too_big.json()["type"] == "error"
    assert len(upstream.requests) == 1


def test_a_non_anthropic_deployment_refuses_what_it_cannot_take_by_name(
    client: Any, claude: Any, key: str
) -> None:
    upstream, scripted = claude
    body = claude_code_body(model="claude-3-5-haiku-20241022", stream=False)

    response = client.post("/v1/messages", json=body, headers=claude_code_headers(key))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("context_management:")
    assert upstream.requests == [] and scripted.calls == []


def test_a_lenient_deployment_drops_and_names_what_it_cannot_take(
    client: Any, claude: Any, key: str
) -> None:
    upstream, scripted = claude
    body = claude_code_body(model="local-lenient", stream=False)
    body["tools"].append({"type": "web_search_20250305", "name": "web_search"})

    response = client.post("/v1/messages", json=body, headers=claude_code_headers(key))

    assert response.status_code == 200, response.text
    assert response.json()["content"] == [{"type": "text", "text": "Hello from primary"}]
    assert response.headers["x-ic-dropped-params"].split(",") == [
        "context_management",
        "output_config",
        "thinking",
        f"tools.{len(TOOLS)}:web_search_20250305",
    ]
    assert scripted.calls == ["primary"] and upstream.requests == []


def test_a_lenient_deployment_streams_with_the_header(client: Any, claude: Any, key: str) -> None:
    _, scripted = claude
    response, events = post_stream(client, key, claude_code_body(model="local-lenient"))
    assert response.status_code == 200
    assert response.headers["x-ic-dropped-params"] == "context_management,output_config,thinking"
    assert events[0][0] == "message_start" and events[-1][0] == "message_stop"
    assert scripted.calls == ["primary"]


def test_a_repeated_stream_is_a_cache_hit_that_replays_the_thinking(
    client: Any, claude: Any, key: str
) -> None:
    upstream, _ = claude
    upstream.replies.append(sse(*THINKING_STREAM))
    first_response, first = post_stream(client, key, claude_code_body())
    second_response, second = post_stream(client, key, claude_code_body())

    assert (first_response.headers["x-cache"], second_response.headers["x-cache"]) == (
        "miss",
        "hit",
    )
    assert len(upstream.requests) == 1

    def text_of(events: list[Any], delta_type: str, field: str) -> str:
        return "".join(
            e["delta"][field]
            for n, e in events
            if n == "content_block_delta" and e["delta"]["type"] == delta_type
        )

    assert text_of(second, "thinking_delta", "thinking") == text_of(
        first, "thinking_delta", "thinking"
    )
    assert text_of(second, "text_delta", "text") == "It starts the server."
    assert text_of(second, "signature_delta", "signature").startswith("EqQB")
    assert second[-2][1]["delta"]["stop_reason"] == "end_turn"


def test_count_tokens_uses_anthropics_counter_and_the_estimator_elsewhere(
    client: Any, claude: Any, key: str
) -> None:
    upstream, scripted = claude
    upstream.replies.append({"input_tokens": 17_321})
    body = claude_code_body()
    for name in ("max_tokens", "stream"):
        body.pop(name)

    counted = client.post(
        "/v1/messages/count_tokens?beta=true", json=body, headers=claude_code_headers(key)
    )
    plain = {"model": "local", "messages": [{"role": "user", "content": "Hello there"}]}
    estimated = client.post("/v1/messages/count_tokens", json=plain, headers={"x-api-key": key})

    assert counted.status_code == 200, counted.text
    assert counted.json() == {"input_tokens": 17_321}
    assert counted.headers["x-ic-token-count"] == "provider"
    sent = upstream.requests[0]
    assert sent.url.path == "/v1/messages/count_tokens"
    assert sent.headers["anthropic-beta"] == ",".join(BETAS)
    assert upstream.body() == {k: v for k, v in body.items() if k != "metadata"} | {
        "model": UPSTREAM_MODEL
    }
    assert estimated.status_code == 200, estimated.text
    assert estimated.headers["x-ic-token-count"] == "estimate"
    assert 0 < estimated.json()["input_tokens"] < 20
    assert scripted.calls == []


def test_count_tokens_refuses_malformed_bodies_in_anthropics_format(
    client: Any, claude: Any, key: str
) -> None:
    upstream, _ = claude
    response = client.post(
        "/v1/messages/count_tokens",
        json={"model": UPSTREAM_MODEL, "messages": "hi"},
        headers={"x-api-key": key},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert upstream.requests == []


def test_requests_without_a_gateway_key_never_reach_anthropic(client: Any, claude: Any) -> None:
    upstream, _ = claude
    headers = claude_code_headers("sk-ant-someone-elses-key")
    response = client.post("/v1/messages", json=claude_code_body(), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert upstream.requests == []


def test_models_answer_in_anthropics_shape_and_aliases_match_dated_ids(
    client: Any, claude: Any, key: str
) -> None:
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    listed = client.get("/v1/models", headers=headers)
    one = client.get(f"/v1/models/{UPSTREAM_MODEL}", headers=headers)
    openai_style = client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})

    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["has_more"] is False and page["first_id"] == "claude-sonnet"
    models = [anthropic.types.ModelInfo.model_validate(m) for m in page["data"]]
    assert [m.id for m in models] == ["claude-sonnet", "local", "local-lenient"]
    assert models[0].display_name == "Claude Sonnet (via the gateway)"
    assert (models[0].max_input_tokens, models[0].max_tokens) == (200_000, 64_000)
    assert one.status_code == 200 and one.json()["id"] == "claude-sonnet"
    assert openai_style.json()["object"] == "list"
