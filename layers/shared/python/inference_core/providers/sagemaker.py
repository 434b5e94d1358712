"""The SageMaker adapter: a real-time endpoint running the Hugging Face TGI / LMI container.

Chat uses the container's OpenAI-style Messages API through `sagemaker-runtime` (`invoke_endpoint`,
and `invoke_endpoint_with_response_stream` whose PayloadParts carry SSE `data:` lines); legacy
completions are chat with one user message (the base class default), which every Messages-API
container serves the same way; embeddings use the TEI feature-extraction shape `{"inputs": [...]}`.
boto3 is synchronous, so every call runs off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from urllib3.exceptions import ReadTimeoutError as SocketReadTimeoutError

from inference_core import estimate
from inference_core.canonical import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    Deployment,
    EmbeddingResult,
    Usage,
)
from inference_core.errors import (
    ContextWindowExceededError,
    InferenceCoreError,
    ProviderError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from inference_core.providers.base import Provider
from inference_core.upstream_errors import error_for_status, retry_after_seconds

if TYPE_CHECKING:
    from inference_core.settings import Settings

JSON = "application/json"
# Used only when the container reports no usage; the container's own counts win.
CONNECT_TIMEOUT_SECONDS = 10.0

# Error codes SageMaker documents as transient ("try your call again").
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalDependencyException",
        "ModelNotReadyException",
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "IncompleteSignature",
    }
)
_CONTEXT_WINDOW_MESSAGE = re.compile(
    r"context (window|length)|maximum context|must be <= \d+", re.IGNORECASE
)
_FINISH_REASONS = {
    "stop": "stop",
    "eos_token": "stop",
    "stop_sequence": "stop",
    "end_turn": "stop",
    "length": "length",
    "max_tokens": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


class SageMakerProvider(Provider):
    """Translate to and from a TGI/LMI endpoint; the boto3 client is injected or built lazily."""

    name = "sagemaker"

    def __init__(
        self,
        client: Any | None = None,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        timeout_seconds: float = 60.0,
    ):
        self._client = client
        self._region = region
        self._endpoint_url = endpoint_url
        self._timeout_seconds = timeout_seconds
        self._client_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, client: Any | None = None) -> SageMakerProvider:
        return cls(
            client,
            region=settings.aws.region,
            endpoint_url=settings.inference.sagemaker_endpoint_url,
            timeout_seconds=settings.inference.upstream_timeout_seconds,
        )

    @property
    def client(self) -> Any:
        """The `sagemaker-runtime` client; built on first use, with SDK retries off."""
        with self._client_lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                self._client = boto3.session.Session().client(
                    "sagemaker-runtime",
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

    # ---- chat ----

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        raw = await asyncio.to_thread(
            self._invoke, deployment.model, chat_payload(request, stream=False)
        )
        return parse_chat_response(raw, request, deployment.model)

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncGenerator[ChatChunk, None]:
        payload = chat_payload(request, stream=True)
        decoder = SseDecoder()
        stream = ChatStreamState(request, deployment.model)
        yielded = False
        parts = self._payload_parts(deployment.model, payload)
        try:
            async for part in parts:
                for data in decoder.feed(part):
                    if data == "[DONE]":
                        stream.done = True
                        break
                    chunk = stream.on_event(_load_event(data, deployment.model), yielded)
                    if chunk is not None:
                        yielded = True
                        yield chunk
                if stream.done:
                    break
            else:
                for data in decoder.flush():
                    if data == "[DONE]":
                        stream.done = True
                    else:
                        chunk = stream.on_event(_load_event(data, deployment.model), yielded)
                        if chunk is not None:
                            yielded = True
                            yield chunk
        except StreamCutError as exc:
            raise _stream_cut_error(exc.cause, deployment.model, retryable=not yielded) from (
                exc.cause
            )
        finally:
            await parts.aclose()
        yield stream.final_chunk(retryable=not yielded)

    # ---- embeddings ----

    async def embed(self, inputs: list[str], deployment: Deployment) -> EmbeddingResult:
        raw = await asyncio.to_thread(self._invoke, deployment.model, {"inputs": inputs})
        return parse_embeddings(raw, inputs, deployment.model)

    def is_configured(self) -> bool:
        # The endpoint name lives in the registry and credentials resolve lazily: nothing to check
        # without a network call.
        return True

    # ---- the one executor ----

    def _invoke(self, endpoint: str, payload: dict[str, Any]) -> bytes:
        """`invoke_endpoint` and read its body (blocking: called through `asyncio.to_thread`)."""
        try:
            response = self.client.invoke_endpoint(
                EndpointName=endpoint,
                Body=json.dumps(payload).encode(),
                ContentType=JSON,
                Accept=JSON,
            )
            return bytes(response["Body"].read())
        except (BotoCoreError, ClientError) as exc:
            raise map_sagemaker_error(exc, endpoint) from exc

    async def _payload_parts(
        self, endpoint: str, payload: dict[str, Any]
    ) -> AsyncGenerator[bytes, None]:
        """The PayloadPart bytes of a response stream, read by a thread that feeds a queue.

        A dedicated thread per stream (not the shared executor): a long stream must not starve
        `asyncio.to_thread` callers. Closing this iterator closes the HTTP stream.
        """
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
                response = self.client.invoke_endpoint_with_response_stream(
                    EndpointName=endpoint,
                    Body=json.dumps(payload).encode(),
                    ContentType=JSON,
                    Accept="text/event-stream",
                )
            except Exception as exc:
                put(("failed", exc))
                return
            body = response["Body"]
            opened["body"] = body
            if stopping.is_set():  # the reader went away while the call was being made
                _close_quietly(body)
                return
            try:
                for event in body:
                    if stopping.is_set():
                        break
                    part = event.get("PayloadPart")
                    if part is not None:
                        put(("part", bytes(part.get("Bytes", b""))))
            except Exception as exc:
                if not stopping.is_set():
                    put(("cut", exc))
                return
            finally:
                _close_quietly(body)
            put(("end", None))

        threading.Thread(target=pump, name=f"sagemaker-stream-{endpoint}", daemon=True).start()
        try:
            while True:
                kind, value = await queue.get()
                if kind == "part":
                    yield value
                elif kind == "end":
                    return
                elif kind == "failed":
                    if isinstance(value, (BotoCoreError, ClientError)):
                        raise map_sagemaker_error(value, endpoint) from value
                    raise UpstreamBadResponseError(
                        f"SageMaker endpoint {endpoint!r} could not be invoked",
                        provider="sagemaker",
                    ) from value
                else:
                    raise StreamCutError(value)
        finally:
            stopping.set()
            body = opened.get("body")
            if body is not None:
                _close_quietly(body)


class StreamCutError(Exception):
    """Internal: the event stream broke after it had started (carries the foreign cause)."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


# ---- translation: our request → the container's ----


def chat_payload(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The Messages-API body TGI (`/v1/chat/completions` behind `/invocations`) and LMI accept."""
    body: dict[str, Any] = {"model": "tgi", "messages": request.messages}
    optional = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop,
        "seed": request.seed,
        "tools": request.tools,
        "tool_choice": request.tool_choice,
        "response_format": request.response_format,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


# ---- translation: the container's response → ours ----


def parse_chat_response(raw: bytes, request: ChatRequest, endpoint: str) -> ChatResult:
    """An OpenAI `chat.completion` body → `ChatResult` (TGI's older field values normalized)."""
    body = _load_json(raw, endpoint)
    if isinstance(body, dict) and body.get("error"):
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} returned an error body", provider="sagemaker"
        )
    choices = body.get("choices") if isinstance(body, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} returned no choices", provider="sagemaker"
        )
    message = choices[0].get("message") or {}
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        content = _text_of(content)
    tool_calls = normalize_tool_calls(message.get("tool_calls"))
    finish_reason = normalize_finish_reason(choices[0].get("finish_reason"))
    if tool_calls and finish_reason == "stop":
        finish_reason = "tool_calls"
    usage = usage_from(body.get("usage"))
    if usage is None:
        generated = (content or "") + "".join(
            c["function"]["name"] + c["function"]["arguments"] for c in tool_calls or []
        )
        usage = Usage(estimate.prompt_tokens(request), estimate.text_tokens(generated))
    return ChatResult(
        content=content, finish_reason=finish_reason, usage=usage, tool_calls=tool_calls
    )


class SseDecoder:
    """Reassembles SSE `data:` payloads from PayloadParts, which may split a line (or a UTF-8
    character) anywhere; lines are cut at the byte level before anything is decoded."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        return [payload for line in lines if (payload := _sse_data(line)) is not None]

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer, b""
        payload = _sse_data(rest)
        return [] if payload is None else [payload]


class ChatStreamState:
    """Turns `chat.completion.chunk` events into `ChatChunk`s and remembers how the stream ends."""

    def __init__(self, request: ChatRequest, endpoint: str):
        self._request = request
        self._endpoint = endpoint
        self.done = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._generated_chunks = 0
        self._saw_tool_calls = False

    def on_event(self, event: dict[str, Any], yielded: bool) -> ChatChunk | None:
        if event.get("error"):
            raise UpstreamBadResponseError(
                f"SageMaker endpoint {self._endpoint!r} reported an error mid-stream",
                retryable=not yielded,
                provider="sagemaker",
            )
        usage = usage_from(event.get("usage"))
        if usage is not None:
            self.usage = usage
        choices = event.get("choices") or []
        choice = next((c for c in choices if c.get("index", 0) == 0), None)
        if choice is None:
            return None
        if choice.get("finish_reason"):
            self.finish_reason = normalize_finish_reason(choice["finish_reason"])
        delta = choice.get("delta") or {}
        content = delta.get("content")
        if content is not None and not isinstance(content, str):
            content = _text_of(content)
        tool_calls = normalize_tool_call_deltas(delta.get("tool_calls"))
        if not content and not tool_calls:
            return None
        self._generated_chunks += 1
        self._saw_tool_calls = self._saw_tool_calls or bool(tool_calls)
        return ChatChunk(content=content or None, tool_calls=tool_calls)

    def final_chunk(self, *, retryable: bool) -> ChatChunk:
        if not self.done and self.finish_reason is None:
            raise UpstreamBadResponseError(
                f"the stream from SageMaker endpoint {self._endpoint!r} ended early",
                retryable=retryable,
                provider="sagemaker",
            )
        finish = self.finish_reason or "stop"
        if self._saw_tool_calls and finish == "stop":
            finish = "tool_calls"
        # Without the container's counts: TGI streams one token per chunk.
        usage = self.usage or Usage(estimate.prompt_tokens(self._request), self._generated_chunks)
        return ChatChunk(finish_reason=finish, usage=usage)


def parse_embeddings(raw: bytes, inputs: list[str], endpoint: str) -> EmbeddingResult:
    """TEI's `[[float, ...], ...]`; also `{"embeddings": ...}` (LMI) and OpenAI's `{"data": ...}`.
    Token-level output (`[[[float]]]`, the plain feature-extraction pipeline) is mean-pooled."""
    body = _load_json(raw, endpoint)
    usage = None
    if isinstance(body, dict):
        usage = usage_from(body.get("usage"))
        if "data" in body:
            items = sorted(body["data"], key=lambda d: d.get("index", 0))
            body = [item.get("embedding") for item in items]
        else:
            body = body.get("embeddings")
    try:
        vectors = [_pooled(vector) for vector in body]
    except (TypeError, ValueError):
        vectors = []
    if len(vectors) != len(inputs) or any(not v for v in vectors):
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} returned no usable embeddings",
            provider="sagemaker",
        )
    if usage is None:
        usage = Usage(input_tokens=sum(estimate.text_tokens(text) for text in inputs))
    return EmbeddingResult(vectors=vectors, usage=usage)


def normalize_finish_reason(value: Any) -> str:
    return _FINISH_REASONS.get(str(value), "stop") if value else "stop"


def normalize_tool_calls(raw: Any) -> list[dict[str, Any]] | None:
    """OpenAI's tool-call shape; TGI gives `arguments` as an object and ids like "0"."""
    if not raw:
        return None
    calls = []
    for call in raw:
        function = call.get("function") or {}
        calls.append(
            {
                "id": str(call.get("id") or f"call_{uuid.uuid4().hex[:24]}"),
                "type": "function",
                "function": {
                    "name": str(function.get("name") or ""),
                    "arguments": _arguments(function.get("arguments")),
                },
            }
        )
    return calls


def normalize_tool_call_deltas(raw: Any) -> list[dict[str, Any]] | None:
    if not raw:
        return None
    deltas = []
    for position, call in enumerate(raw):
        delta: dict[str, Any] = {"index": int(call.get("index", position))}
        if call.get("id") is not None:
            delta["id"] = str(call["id"])
            delta["type"] = "function"
        function = call.get("function") or {}
        fn: dict[str, Any] = {}
        if function.get("name"):
            fn["name"] = str(function["name"])
        if function.get("arguments") is not None:
            fn["arguments"] = _arguments(function["arguments"])
        if fn:
            delta["function"] = fn
        deltas.append(delta)
    return deltas


def usage_from(raw: Any) -> Usage | None:
    if not isinstance(raw, dict) or raw.get("prompt_tokens") is None:
        return None
    try:
        return Usage(
            input_tokens=int(raw.get("prompt_tokens") or 0),
            output_tokens=int(raw.get("completion_tokens") or 0),
        )
    except (TypeError, ValueError):
        return None


# ---- errors: botocore's → ours ----


def map_sagemaker_error(exc: Exception, endpoint: str) -> InferenceCoreError:
    """Classify a botocore failure for the router. Upstream messages are not passed on: they can
    name the AWS account or echo the request.

    A `ModelError` is the container's own HTTP answer, wrapped by SageMaker: its original status
    goes through the same table as every other provider's (so a 4xx verdict on the request is
    `REQUEST_REJECTED` and raised at once, a 429/503 is retried), except that a prompt too long
    for the model becomes the client's 400. SageMaker's own errors are about the deployment:
    throttling and faults are retried, anything else moves on to the next deployment.
    """
    where = f"SageMaker endpoint {endpoint!r}"
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        metadata = exc.response.get("ResponseMetadata", {})
        status = int(metadata.get("HTTPStatusCode") or 0)
        retry_after = retry_after_seconds(metadata.get("HTTPHeaders"))
        if code == "ModelError":
            original = int(str(exc.response.get("OriginalStatusCode") or 0))
            original_message = str(exc.response.get("OriginalMessage") or "")
            if original in (400, 413, 422) and _CONTEXT_WINDOW_MESSAGE.search(original_message):
                return ContextWindowExceededError(
                    "The request does not fit the model's context window; "
                    "shorten the messages or lower max_tokens.",
                    param="messages",
                )
            if original >= 400:
                return error_for_status(original, provider="sagemaker", retry_after=retry_after)
            return UpstreamBadResponseError(
                f"The model behind {where} failed the request.", provider="sagemaker"
            )
        if code == "ThrottlingException":
            return UpstreamUnavailableError(
                f"{where} is throttling requests.",
                retryable=True,
                retry_after=retry_after,
                provider="sagemaker",
                code="upstream_rate_limited",
            )
        if code in _TRANSIENT_CODES or status >= 500 or status == 429:
            return UpstreamUnavailableError(
                f"{where} is unavailable ({code or status}).",
                retryable=True,
                retry_after=retry_after,
                provider="sagemaker",
            )
        if code in _CREDENTIAL_CODES or status in (401, 403):
            return UpstreamBadResponseError(
                f"AWS rejected the gateway's credentials for {where} ({code or status}).",
                provider="sagemaker",
                code="upstream_credentials_rejected",
            )
        return UpstreamBadResponseError(
            f"{where} refused the call ({code or status}).", provider="sagemaker"
        )
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)):
        return UpstreamTimeoutError(f"{where} timed out.", retryable=True, provider="sagemaker")
    if isinstance(exc, (EndpointConnectionError, HTTPClientError)):
        return UpstreamUnavailableError(
            f"{where} could not be reached.", retryable=True, provider="sagemaker"
        )
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ProviderError(
            "No AWS credentials are configured for SageMaker.",
            provider="sagemaker",
            code="provider_not_configured",
        )
    return UpstreamBadResponseError(f"{where} could not be invoked.", provider="sagemaker")


def _stream_cut_error(cause: BaseException, endpoint: str, *, retryable: bool) -> ProviderError:
    where = f"the stream from SageMaker endpoint {endpoint!r}"
    if isinstance(cause, (ReadTimeoutError, SocketReadTimeoutError)):
        # botocore's, or urllib3's: the event-stream reader reads the raw HTTP response.
        return UpstreamTimeoutError(f"{where} stalled", retryable=retryable, provider="sagemaker")
    if isinstance(cause, ClientError):  # EventStreamError: ModelStreamError, InternalStreamFailure
        code = cause.response.get("Error", {}).get("Code") or "error"
        return UpstreamBadResponseError(
            f"{where} failed ({code})", retryable=retryable, provider="sagemaker"
        )
    return UpstreamBadResponseError(f"{where} was cut", retryable=retryable, provider="sagemaker")


# ---- small pieces ----


def _load_json(raw: bytes, endpoint: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} returned a body that is not JSON",
            provider="sagemaker",
        ) from exc


def _load_event(data: str, endpoint: str) -> dict[str, Any]:
    event = _load_json(data.encode(), endpoint)
    if not isinstance(event, dict):
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} streamed an unexpected event", provider="sagemaker"
        )
    return event


def _sse_data(line: bytes) -> str | None:
    """The payload of one SSE line: `data: ...` (or a bare JSON line); None for anything else."""
    line = line.rstrip(b"\r")
    if line.startswith(b"data:"):
        return line[5:].strip().decode("utf-8")
    if line.startswith(b"{"):
        return line.decode("utf-8")
    return None


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps({} if value is None else value)


def _pooled(vector: Any) -> list[float]:
    if vector and isinstance(vector[0], list):  # one vector per token: mean-pool them
        width = len(vector[0])
        return [sum(token[i] for token in vector) / len(vector) for i in range(width)]
    return [float(x) for x in vector]


def _close_quietly(body: Any) -> None:
    try:
        body.close()
    except Exception:  # noqa: S110 - closing a broken stream may itself fail; nothing to do
        pass
