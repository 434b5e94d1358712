"""The TGI wire format: our canonical chat types to and from the Hugging Face TGI container.

The SageMaker adapter (`providers.sagemaker`) sends these bodies through `sagemaker-runtime` and
feeds the streamed PayloadPart bytes through `SseDecoder` and `ChatStreamState`; everything here is
pure (no I/O), so it is tested with the container's recorded shapes. Any shape the container sends
that we cannot read becomes an `UpstreamBadResponseError` (a clean, fall-back-able failure).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from inference_core import estimate
from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, EmbeddingResult, Usage
from inference_core.errors import UpstreamBadResponseError

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


# ---- small pieces ----


def _load_json(raw: bytes, endpoint: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} returned a body that is not JSON",
            provider="sagemaker",
        ) from exc


def load_event(data: str, endpoint: str) -> dict[str, Any]:
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
