"""The Bedrock adapter against botocore's Stubber (real `bedrock-runtime` service model, recorded
Converse shapes; never the network): plain, stream, tool use, images, errors."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import EventStreamError
from botocore.stub import Stubber

from inference_core.canonical import ChatChunk, ChatRequest, Deployment
from inference_core.errors import (
    ContextWindowExceededError,
    InvalidRequestError,
    ProviderError,
    UpstreamBadResponseError,
    UpstreamUnavailableError,
)
from inference_core.providers.bedrock import BedrockProvider
from inference_core.upstream_errors import REQUEST_REJECTED

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
DEPLOYMENT = Deployment(provider="bedrock", model=MODEL, context_window=200000)
WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def client() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1")


def converse_response(
    content: list[dict[str, Any]], stop: str = "end_turn", **usage: int
) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15, **usage},
        "metrics": {"latencyMs": 120},
    }


class FakeStreamClient:
    """`converse_stream` with recorded ConverseStream events (the Stubber cannot build an
    EventStream); optionally breaks with the EventStreamError botocore raises mid-stream."""

    def __init__(
        self,
        events: list[dict[str, Any]],
        error_code: str | None = None,
        cut: BaseException | None = None,
    ):
        self.events = events
        self.error_code = error_code
        self.cut = cut
        self.calls: list[dict[str, Any]] = []
        self.closed = False

    def converse_stream(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"stream": self}

    def __iter__(self) -> Any:
        yield from self.events
        if self.cut is not None:
            raise self.cut
        if self.error_code:
            raise EventStreamError(
                {"Error": {"Code": self.error_code, "Message": "slow down"}}, "ConverseStream"
            )

    def close(self) -> None:
        self.closed = True


def stream_events(*blocks: dict[str, Any], stop: str = "end_turn") -> list[dict[str, Any]]:
    return [
        {"messageStart": {"role": "assistant"}},
        *blocks,
        {"messageStop": {"stopReason": stop}},
        {
            "metadata": {
                "usage": {
                    "inputTokens": 20,
                    "outputTokens": 7,
                    "totalTokens": 27,
                    "cacheReadInputTokens": 100,
                    "cacheWriteInputTokens": 0,
                },
                "metrics": {"latencyMs": 300},
            }
        },
    ]


def collect(provider: BedrockProvider, request: ChatRequest) -> list[ChatChunk]:
    async def run() -> list[ChatChunk]:
        return [c async for c in provider.chat_stream(request, DEPLOYMENT)]

    return asyncio.run(run())


def test_plain_chat_sends_converse_and_reads_the_answer() -> None:
    bedrock = client()
    request = ChatRequest(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        max_tokens=64,
        temperature=0.2,
        stop=["\n\n"],
    )
    with Stubber(bedrock) as stubber:
        stubber.add_response(
            "converse",
            converse_response([{"text": "Hello!"}], cacheReadInputTokens=8),
            expected_params={
                "modelId": MODEL,
                "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
                "system": [{"text": "Be brief."}],
                "inferenceConfig": {"maxTokens": 64, "temperature": 0.2, "stopSequences": ["\n\n"]},
            },
        )
        result = asyncio.run(BedrockProvider(bedrock).chat(request, DEPLOYMENT))
    assert result.content == "Hello!" and result.finish_reason == "stop"
    # Converse counts cached tokens apart; ours includes them (and says how many were cached).
    assert (result.usage.input_tokens, result.usage.output_tokens) == (20, 3)
    assert result.usage.cached_input_tokens == 8


def test_tool_use_round_trip_and_an_image() -> None:
    bedrock = client()
    request = ChatRequest(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather where this photo was taken?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "tooluse_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "tooluse_1", "content": "5C"},
        ],
        tools=[WEATHER],
        tool_choice="required",
    )
    with Stubber(bedrock) as stubber:
        stubber.add_response(
            "converse",
            converse_response(
                [
                    {"text": "Checking again."},
                    {
                        "toolUse": {
                            "toolUseId": "tooluse_2",
                            "name": "get_weather",
                            "input": {"city": "Bergen"},
                        }
                    },
                ],
                stop="tool_use",
            ),
            expected_params={
                "modelId": MODEL,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"text": "Weather where this photo was taken?"},
                            {
                                "image": {
                                    "format": "png",
                                    "source": {"bytes": base64.b64decode(PIXEL)},
                                }
                            },
                        ],
                    },
                    {
                        "role": "assistant",
                        "content": [
                            {
                                "toolUse": {
                                    "toolUseId": "tooluse_1",
                                    "name": "get_weather",
                                    "input": {"city": "Oslo"},
                                }
                            }
                        ],
                    },
                    {
                        "role": "user",
                        "content": [
                            {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "5C"}]}}
                        ],
                    },
                ],
                "toolConfig": {
                    "tools": [
                        {
                            "toolSpec": {
                                "name": "get_weather",
                                "description": "Weather for a city",
                                "inputSchema": {"json": WEATHER["function"]["parameters"]},
                            }
                        }
                    ],
                    "toolChoice": {"any": {}},
                },
            },
        )
        result = asyncio.run(BedrockProvider(bedrock).chat(request, DEPLOYMENT))
    assert result.finish_reason == "tool_calls"
    assert result.content == "Checking again."
    assert result.tool_calls == [
        {
            "id": "tooluse_2",
            "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": "Bergen"})},
        }
    ]


def test_a_stream_relays_text_tool_deltas_stop_reason_and_cache_usage() -> None:
    fake = FakeStreamClient(
        stream_events(
            {"contentBlockDelta": {"delta": {"text": "Let me "}, "contentBlockIndex": 0}},
            {"contentBlockDelta": {"delta": {"text": "check."}, "contentBlockIndex": 0}},
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {
                "contentBlockStart": {
                    "start": {"toolUse": {"toolUseId": "tooluse_9", "name": "get_weather"}},
                    "contentBlockIndex": 1,
                }
            },
            {
                "contentBlockDelta": {
                    "delta": {"toolUse": {"input": '{"city":'}},
                    "contentBlockIndex": 1,
                }
            },
            {
                "contentBlockDelta": {
                    "delta": {"toolUse": {"input": ' "Oslo"}'}},
                    "contentBlockIndex": 1,
                }
            },
            {"contentBlockStop": {"contentBlockIndex": 1}},
            stop="tool_use",
        )
    )
    chunks = collect(
        BedrockProvider(fake),
        ChatRequest(messages=[{"role": "user", "content": "?"}], tools=[WEATHER]),
    )
    assert "".join(c.content or "" for c in chunks) == "Let me check."
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert deltas[0] == {
        "index": 0,
        "id": "tooluse_9",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert json.loads("".join(d["function"]["arguments"] for d in deltas)) == {"city": "Oslo"}
    final = chunks[-1]
    assert final.finish_reason == "tool_calls"
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.cached_input_tokens) == (120, 100)
    assert fake.closed


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("ThrottlingException", 429, True),
        ("ModelNotReadyException", 503, True),
        ("ServiceUnavailableException", 503, True),
        ("InternalServerException", 500, True),
        ("ValidationException", 400, False),
        ("AccessDeniedException", 403, False),
        ("ResourceNotFoundException", 404, False),
    ],
)
def test_bedrock_errors_go_through_the_gateways_table(
    code: str, status: int, retryable: bool
) -> None:
    bedrock = client()
    with Stubber(bedrock) as stubber:
        stubber.add_client_error("converse", code, "details that must not leak", status)
        with pytest.raises(ProviderError) as caught:
            asyncio.run(
                BedrockProvider(bedrock).chat(
                    ChatRequest(messages=[{"role": "user", "content": "Hi"}]), DEPLOYMENT
                )
            )
    error = caught.value
    assert error.retryable is retryable
    assert "must not leak" not in str(error) and error.__cause__ is None
    if code == "ThrottlingException":
        assert isinstance(error, UpstreamUnavailableError) and error.code == "upstream_rate_limited"
    if code == "ModelNotReadyException":
        assert error.status_code == 503
    if code == "ValidationException":
        assert error.code == REQUEST_REJECTED  # the router raises it at once


def test_a_prompt_too_long_is_the_clients_400() -> None:
    bedrock = client()
    with Stubber(bedrock) as stubber:
        stubber.add_client_error(
            "converse", "ValidationException", "Input is too long for requested model.", 400
        )
        with pytest.raises(ContextWindowExceededError):
            asyncio.run(
                BedrockProvider(bedrock).chat(
                    ChatRequest(messages=[{"role": "user", "content": "Hi"}]), DEPLOYMENT
                )
            )


def test_throttling_before_the_first_chunk_may_be_retried_after_it_may_not() -> None:
    before = FakeStreamClient([{"messageStart": {"role": "assistant"}}], "throttlingException")
    with pytest.raises(UpstreamUnavailableError) as caught:
        collect(BedrockProvider(before), ChatRequest(messages=[{"role": "user", "content": "?"}]))
    assert caught.value.retryable and caught.value.code == "upstream_rate_limited"

    after = FakeStreamClient(
        [{"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}}],
        "throttlingException",
    )
    with pytest.raises(ProviderError) as caught_after:
        collect(BedrockProvider(after), ChatRequest(messages=[{"role": "user", "content": "?"}]))
    assert not caught_after.value.retryable


def test_a_stream_without_a_stop_is_a_bad_response() -> None:
    fake = FakeStreamClient(
        [{"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}}]
    )
    with pytest.raises(UpstreamBadResponseError):
        collect(BedrockProvider(fake), ChatRequest(messages=[{"role": "user", "content": "?"}]))


@pytest.mark.parametrize(
    "request_",
    [
        ChatRequest(
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                }
            ]
        ),
        ChatRequest(
            messages=[{"role": "user", "content": "Hi"}], response_format={"type": "json_object"}
        ),
    ],
    ids=["a remote image URL", "a JSON response_format"],
)
def test_what_converse_cannot_express_is_a_400_before_any_call(request_: ChatRequest) -> None:
    bedrock = client()
    with Stubber(bedrock), pytest.raises(InvalidRequestError):
        asyncio.run(BedrockProvider(bedrock).chat(request_, DEPLOYMENT))


@pytest.mark.parametrize(
    "response",
    [{"output": {}}, {"output": {"message": {"content": [{"toolUse": {"name": "x"}}]}}}, {}],
)
def test_an_unexpected_answer_shape_is_a_bad_response_not_a_500(response: dict[str, Any]) -> None:
    class OddClient:  # a shape the service model would not produce (the Stubber refuses it)
        def converse(self, **kwargs: Any) -> dict[str, Any]:
            return response

    with pytest.raises(UpstreamBadResponseError):
        asyncio.run(
            BedrockProvider(OddClient()).chat(
                ChatRequest(messages=[{"role": "user", "content": "Hi"}]), DEPLOYMENT
            )
        )


def test_the_lazy_client_uses_the_settings_region_and_no_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inference_core.providers import create_provider
    from inference_core.settings import get_settings

    monkeypatch.setenv("IC_BEDROCK_REGION", "eu-west-1")
    get_settings.cache_clear()
    try:
        provider = create_provider("bedrock", get_settings())
        assert isinstance(provider, BedrockProvider)
        assert provider.client.meta.region_name == "eu-west-1"
        assert provider.client.meta.service_model.service_name == "bedrock-runtime"
    finally:
        get_settings.cache_clear()


def test_a_connection_cut_mid_stream_is_a_clean_bad_response() -> None:
    from urllib3.exceptions import ProtocolError

    before = FakeStreamClient([], cut=ProtocolError("Connection reset by peer"))
    with pytest.raises(UpstreamBadResponseError) as caught:
        collect(BedrockProvider(before), ChatRequest(messages=[{"role": "user", "content": "?"}]))
    assert caught.value.retryable
    after = FakeStreamClient(
        [{"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}}],
        cut=ProtocolError("Connection reset by peer"),
    )
    with pytest.raises(UpstreamBadResponseError) as caught_after:
        collect(BedrockProvider(after), ChatRequest(messages=[{"role": "user", "content": "?"}]))
    assert not caught_after.value.retryable
