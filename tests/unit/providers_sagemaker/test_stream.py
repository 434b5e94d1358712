"""Streaming through `invoke_endpoint_with_response_stream`: PayloadParts that carry SSE lines,
decoded by botocore's real event-stream parser from frames built like the local server's."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from urllib3.exceptions import ProtocolError
from urllib3.exceptions import ReadTimeoutError as SocketReadTimeoutError

from inference_core.canonical import ChatChunk, ChatRequest, Deployment
from inference_core.errors import UpstreamBadResponseError, UpstreamTimeoutError
from inference_core.providers.sagemaker import SageMakerProvider

from .fakes import (
    FakeRuntime,
    RawStream,
    chunk,
    frames,
    model_stream_error,
    sse,
    usage_chunk,
)

REQUEST = ChatRequest(messages=[{"role": "user", "content": "Say hello"}], max_tokens=8)


def collect(provider: SageMakerProvider, deployment: Deployment) -> list[ChatChunk]:
    async def run() -> list[ChatChunk]:
        return [c async for c in provider.chat_stream(REQUEST, deployment)]

    return asyncio.run(run())


def split_at(data: bytes, *positions: int) -> list[bytes]:
    edges = [0, *positions, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def test_stream_sends_the_streaming_body(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_stream(RawStream(frames(sse(chunk("Hi", finish="stop"), "[DONE]"))))
    collect(provider, deployment)
    operation, params = runtime.calls[0]
    assert operation == "invoke_endpoint_with_response_stream"
    payload = json.loads(params["Body"])
    assert payload["stream"] is True
    assert payload["stream_options"] == {"include_usage": True}
    assert payload["model"] == "tgi" and payload["max_tokens"] == 8


def test_sse_lines_split_across_payload_parts_are_reassembled(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    text = sse(
        chunk(role="assistant"),
        chunk("Hél"),
        chunk("lo 👋"),
        chunk(" world", finish="eos_token"),
        usage_chunk(12, 3),
        "[DONE]",
    )
    # Cut through `data:`, through a JSON value, and through two multi-byte characters.
    accent = text.index("é".encode()) + 1
    emoji = text.index("👋".encode()) + 2
    parts = split_at(text, 3, 40, accent, emoji, len(text) - 4)
    runtime.will_stream(RawStream(frames(*parts)))

    chunks = collect(provider, deployment)

    assert [c.content for c in chunks[:-1]] == ["Hél", "lo 👋", " world"]
    final = chunks[-1]
    assert final.finish_reason == "stop"
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (12, 3)


def test_event_stream_frames_split_across_reads_still_decode(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    wire = b"".join(frames(sse(chunk("a")), sse(chunk("b", finish="length"), "[DONE]")))
    runtime.will_stream(RawStream([wire[:7], wire[7:50], wire[50:]]))
    chunks = collect(provider, deployment)
    assert [c.content for c in chunks] == ["a", "b", None]
    assert chunks[-1].finish_reason == "length"


def test_usage_is_estimated_when_the_container_sends_none(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_stream(
        RawStream(
            frames(sse(chunk("one")), sse(chunk(" two")), sse(chunk(" three", finish="stop")))
        )
    )
    final = collect(provider, deployment)[-1]
    assert final.usage is not None
    assert final.usage.output_tokens == 3  # TGI streams one token per chunk
    assert final.usage.input_tokens > 0


def test_streamed_tool_calls_keep_openais_delta_shape(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    ARGS = '{"q": 1}'
    first = {"id": "0", "type": "function", "function": {"name": "lookup", "arguments": ""}}
    runtime.will_stream(
        RawStream(
            frames(
                sse(chunk(tool_calls=[first])),
                sse(
                    chunk(tool_calls=[{"function": {"arguments": '{"q": 1}'}}], finish="eos_token")
                ),
                sse("[DONE]"),
            )
        )
    )
    chunks = collect(provider, deployment)
    assert chunks[0].tool_calls == [
        {"index": 0, "id": "0", "type": "function", "function": {"name": "lookup", "arguments": ""}}
    ]
    assert chunks[1].tool_calls == [{"index": 0, "function": {"arguments": ARGS}}]
    assert chunks[-1].finish_reason == "tool_calls"


def test_a_stream_that_ends_without_finishing_is_a_bad_response(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_stream(RawStream(frames(sse(chunk("Hel")))))
    with pytest.raises(UpstreamBadResponseError) as caught:
        collect(provider, deployment)
    assert not caught.value.retryable  # the client has already seen output


def test_a_model_stream_error_after_output_is_a_bad_response_not_retried(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_stream(RawStream([*frames(sse(chunk("Hel"))), model_stream_error()]))
    seen: list[Any] = []

    async def run() -> None:
        async for c in provider.chat_stream(REQUEST, deployment):
            seen.append(c.content)

    with pytest.raises(UpstreamBadResponseError) as caught:
        asyncio.run(run())
    assert seen == ["Hel"]
    assert not caught.value.retryable
    assert "ModelStreamError" in caught.value.message
    assert caught.value.__cause__ is not None


def test_a_stream_broken_before_any_output_may_be_retried(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_stream(RawStream([model_stream_error()]))
    with pytest.raises(UpstreamBadResponseError) as caught:
        collect(provider, deployment)
    assert caught.value.retryable


def test_a_connection_cut_mid_stream_is_a_bad_response(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    cut = ProtocolError("Connection broken: IncompleteRead")
    runtime.will_stream(RawStream(frames(sse(chunk("Hel"))), fail_with=cut))
    with pytest.raises(UpstreamBadResponseError) as caught:
        collect(provider, deployment)
    assert caught.value.__cause__ is cut


def test_a_stalled_stream_is_a_timeout(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    stall = SocketReadTimeoutError(None, "/", "Read timed out.")  # type: ignore[arg-type]
    runtime.will_stream(RawStream(frames(sse(chunk("Hel"))), fail_with=stall))
    with pytest.raises(UpstreamTimeoutError) as caught:
        collect(provider, deployment)
    assert caught.value.status_code == 504


def test_an_error_event_from_the_container_is_a_bad_response(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_stream(
        RawStream(frames(sse({"error": "CUDA out of memory", "error_type": "generation"})))
    )
    with pytest.raises(UpstreamBadResponseError) as caught:
        collect(provider, deployment)
    assert "CUDA" not in caught.value.message  # the container's words stay upstream


def test_closing_the_stream_early_closes_the_http_body(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    raw = RawStream(frames(*(sse(chunk(f"t{i}")) for i in range(50))), delay=0.01)
    runtime.will_stream(raw)

    async def run() -> None:
        stream = provider.chat_stream(REQUEST, deployment)
        first = await anext(stream)
        assert first.content == "t0"
        await stream.aclose()

    asyncio.run(run())
    assert raw.closed.wait(2)
    assert raw.delivered < 50


def test_reading_the_stream_never_blocks_the_event_loop(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    # Each PayloadPart takes 50 ms to arrive; a ticker on the loop must keep running meanwhile.
    parts = [sse(chunk(f"t{i}")) for i in range(5)] + [sse(chunk(finish="stop"), "[DONE]")]
    runtime.will_stream(RawStream(frames(*parts), delay=0.05))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def run() -> list[ChatChunk]:
        task = asyncio.create_task(ticker())
        try:
            return [c async for c in provider.chat_stream(REQUEST, deployment)]
        finally:
            task.cancel()

    chunks = asyncio.run(run())
    assert len(chunks) == 6
    assert ticks >= 10  # ~300 ms of streaming at one tick per 10 ms, with room for a slow CI
