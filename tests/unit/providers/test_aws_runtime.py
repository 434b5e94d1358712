"""The thread-fed stream Bedrock and SageMaker share: events arrive in order, a failure to open
and a break mid-stream are told apart (each adapter maps them to its own errors), and a reader
that walks away closes the upstream stream."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from inference_core.providers.aws_runtime import (
    RuntimeClient,
    StreamCutError,
    StreamOpenError,
    threaded_stream,
)


class BlockingStream:
    """A botocore event stream: blocking iteration, `close()` that ends it."""

    def __init__(self, events: list[object], *, cut_after: int | None = None):
        self.events, self.cut_after = events, cut_after
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[object]:
        for index, event in enumerate(self.events):
            if self.cut_after is not None and index == self.cut_after:
                raise ConnectionResetError("peer reset")
            if self.closed.is_set():
                return
            yield event

    def close(self) -> None:
        self.closed.set()


async def read_all(stream: BlockingStream) -> list[object]:
    return [event async for event in threaded_stream(lambda: stream, thread_name="t")]


def test_events_arrive_in_order_and_the_stream_is_closed_at_the_end() -> None:
    stream = BlockingStream(["a", "b", "c"])
    assert asyncio.run(read_all(stream)) == ["a", "b", "c"]
    assert stream.closed.wait(2)


def test_a_failure_to_open_and_a_cut_are_told_apart() -> None:
    def refuse() -> BlockingStream:
        raise TimeoutError("connect timed out")

    async def open_refused() -> None:
        async for _ in threaded_stream(refuse, thread_name="t"):
            pass

    with pytest.raises(StreamOpenError) as opened:
        asyncio.run(open_refused())
    assert isinstance(opened.value.cause, TimeoutError)

    cut = BlockingStream(["a", "b", "c"], cut_after=1)
    received: list[object] = []

    async def read_until_cut() -> None:
        async for event in threaded_stream(lambda: cut, thread_name="t"):
            received.append(event)

    with pytest.raises(StreamCutError) as broke:
        asyncio.run(read_until_cut())
    assert received == ["a"]
    assert isinstance(broke.value.cause, ConnectionResetError)
    assert cut.closed.wait(2)


def test_a_reader_that_walks_away_closes_the_upstream_stream() -> None:
    stream = BlockingStream(list(range(1000)))

    async def take_one() -> object:
        events = threaded_stream(lambda: stream, thread_name="t")
        first = await events.__anext__()
        await events.aclose()
        return first

    assert asyncio.run(take_one()) == 0
    assert stream.closed.wait(2)


def test_an_injected_client_is_used_and_a_built_one_has_retries_off() -> None:
    injected = object()
    assert (
        RuntimeClient(
            "bedrock-runtime", injected, region="x", endpoint_url=None, timeout_seconds=5
        ).get()
        is injected
    )
    runtime = RuntimeClient(
        "sagemaker-runtime", region="eu-west-1", endpoint_url=None, timeout_seconds=30
    )
    client = runtime.get()
    assert runtime.get() is client
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client.meta.config.connect_timeout == 10
