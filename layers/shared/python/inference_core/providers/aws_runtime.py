"""The executor the Bedrock and SageMaker adapters share: a boto3 runtime client and its streams.

boto3 is synchronous. Its client is built on first use with the SDK's retries off (the router owns
the one retry loop), and a response stream is read by a thread of its own that feeds the event
loop through a queue: a long stream must not starve the shared executor that `asyncio.to_thread`
callers use. Each adapter keeps its own error table; this module only tells it whether a stream
failed to open (`StreamOpenError`) or broke after it had started (`StreamCutError`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any, Literal

CONNECT_TIMEOUT_SECONDS = 10.0
RuntimeService = Literal["bedrock-runtime", "sagemaker-runtime"]


class RuntimeClient:
    """A boto3 client for one runtime service (`bedrock-runtime`, `sagemaker-runtime`), injected
    or built once on first use."""

    def __init__(
        self,
        service: RuntimeService,
        client: Any | None = None,
        *,
        region: str,
        endpoint_url: str | None,
        timeout_seconds: float,
    ):
        self._service = service
        self._client = client
        self._region = region
        self._endpoint_url = endpoint_url
        self._timeout_seconds = timeout_seconds
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                self._client = boto3.session.Session().client(
                    self._service,
                    region_name=self._region,
                    endpoint_url=self._endpoint_url,
                    config=Config(
                        # One attempt in all: botocore's `max_attempts` counts *retries*.
                        retries={"total_max_attempts": 1, "mode": "standard"},
                        read_timeout=self._timeout_seconds,
                        connect_timeout=min(CONNECT_TIMEOUT_SECONDS, self._timeout_seconds),
                        max_pool_connections=50,
                    ),
                )
            return self._client


class StreamOpenError(Exception):
    """The call that opens the stream failed (carries the foreign cause); nothing was read."""

    def __init__(self, cause: Exception):
        super().__init__(type(cause).__name__)
        self.cause = cause


class StreamCutError(Exception):
    """The stream broke after it had started (carries the foreign cause)."""

    def __init__(self, cause: Exception):
        super().__init__(type(cause).__name__)
        self.cause = cause


async def threaded_stream(
    open_stream: Callable[[], Iterable[Any]], *, thread_name: str
) -> AsyncGenerator[Any, None]:
    """The events of the blocking stream `open_stream()` returns (an iterable with `close()`),
    read by a daemon thread. Closing this iterator stops the thread and closes the stream."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stopping = threading.Event()
    opened: dict[str, Any] = {}

    def put(item: tuple[str, Any]) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is gone: nobody is listening any more
            pass

    def pump() -> None:
        try:
            stream = open_stream()
        except Exception as exc:
            put(("failed", exc))
            return
        opened["stream"] = stream
        if stopping.is_set():  # the reader went away while the call was being made
            _close_quietly(stream)
            return
        try:
            for event in stream:
                if stopping.is_set():
                    break
                put(("event", event))
        except Exception as exc:
            if not stopping.is_set():
                put(("cut", exc))
            return
        finally:
            _close_quietly(stream)
        put(("end", None))

    threading.Thread(target=pump, name=thread_name, daemon=True).start()
    try:
        while True:
            kind, value = await queue.get()
            if kind == "event":
                yield value
            elif kind == "end":
                return
            elif kind == "failed":
                raise StreamOpenError(value)
            else:
                raise StreamCutError(value)
    finally:
        stopping.set()
        if "stream" in opened:
            _close_quietly(opened["stream"])


def _close_quietly(stream: Any) -> None:
    try:
        stream.close()
    except Exception:  # noqa: S110 - closing a broken stream may itself fail; nothing to do
        pass
