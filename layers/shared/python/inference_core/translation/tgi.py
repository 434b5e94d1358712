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
from inference_core.errors import InvalidRequestError, UpstreamBadResponseError

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
    """The Messages-API body TGI 3.x (`/v1/chat/completions` behind `/invocations`) accepts.

    TGI's own types decide the shape: `response_format` is its `GrammarType` (`{"type": "json",
    "value": <schema>}` or `{"type": "regex", ...}`; OpenAI's `json_schema` is refused), a grammar
    and tools are mutually exclusive, and every message needs a string-or-parts `content` (no
    `null`, no `tool_calls` field: an earlier tool call is replayed as the text the model wrote).
    """
    if request.tools and request.response_format is not None:
        fmt = request.response_format.get("type")
        if fmt not in (None, "text"):
            raise InvalidRequestError(
                "This model cannot combine `tools` with `response_format`; send one of them.",
                param="response_format",
            )
    body: dict[str, Any] = {"model": "tgi", "messages": tgi_messages(request.messages)}
    optional = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop,
        "seed": request.seed,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
        "tools": request.tools,
        "tool_choice": request.tool_choice if request.tools else None,
        "response_format": tgi_response_format(request.response_format),
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def tgi_response_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI's `response_format` as TGI's `GrammarType` (None: no grammar).

    `json_schema` → `{"type": "json", "value": <its schema>}`; `json_object` (any JSON object)
    → `{"type": "json", "value": {"type": "object"}}`; `text` is the default, so nothing.
    """
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return {"type": "json", "value": {"type": "object"}}
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise InvalidRequestError(
                "`response_format.json_schema.schema` must be a JSON schema object.",
                param="response_format",
            )
        return {"type": "json", "value": schema}
    raise InvalidRequestError(
        f"`response_format` of type {kind!r} is not supported by this model.",
        param="response_format",
    )


def tgi_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as TGI 3.x's `Message` (role, content as a string or text/image_url parts)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.get("role"), "content": _tgi_content(message)}
        if message.get("name"):
            item["name"] = message["name"]
        out.append(item)
    return out


def _tgi_content(message: dict[str, Any]) -> str | list[dict[str, Any]]:
    content = message.get("content")
    parts: list[dict[str, Any]] = []
    if isinstance(content, list):
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                parts.append({"type": "text", "text": str(part.get("text", ""))})
            elif kind == "image_url":
                parts.append({"type": "image_url", "image_url": part.get("image_url")})
            else:
                raise InvalidRequestError(
                    f"This model does not accept message content of type {kind!r}.",
                    param="messages",
                )
    text = content if isinstance(content, str) else ""
    calls = message.get("tool_calls") or []
    if calls:
        # TGI generates a call as `{"function": {"_name": ..., <arguments>}}`; replay it so.
        rendered = [_replayed_call(call) for call in calls]
        text = "\n".join([text, *rendered]) if text else "\n".join(rendered)
    if parts:
        if text:
            parts.append({"type": "text", "text": text})
        return parts
    return text


def _replayed_call(call: dict[str, Any]) -> str:
    function = call.get("function") or {}
    raw = function.get("arguments")
    try:
        arguments = json.loads(raw) if isinstance(raw, str) and raw else (raw or {})
    except ValueError:
        arguments = {"arguments": raw}
    if not isinstance(arguments, dict):
        arguments = {"arguments": arguments}
    return json.dumps({"function": {"_name": function.get("name", ""), **arguments}})


# ---- translation: the container's response → ours ----


def parse_chat_response(raw: bytes, request: ChatRequest, endpoint: str) -> ChatResult:
    """An OpenAI-style `chat.completion` body → `ChatResult` (TGI's field values normalized).

    TGI 3.x answers a tool call with `tool_calls: [{"id": "0", "function": {"name", "arguments":
    <an object>, "description": null}}]` and no `content`; finish reasons are TGI's own
    (`eos_token`, `stop_sequence`, `length`). A body of any other shape is a bad response.
    """
    body = _load_json(raw, endpoint)
    try:
        return _chat_result(body, request, endpoint)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _bad_shape(endpoint) from exc


def _chat_result(body: Any, request: ChatRequest, endpoint: str) -> ChatResult:
    if isinstance(body, dict) and body.get("error"):
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} returned an error body", provider="sagemaker"
        )
    choices = body.get("choices") if isinstance(body, dict) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
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
    """Turns `chat.completion.chunk` events into `ChatChunk`s and remembers how the stream ends.

    TGI 3.0 streams a tool call as *one object* (not a list) per token:
    `"tool_calls": {"index": 0, "id": "", "type": "function", "function": {"name": null,
    "arguments": "<token>"}}`, and the tokens, joined, are the grammar's whole output
    `{"function": {"_name": "<tool>", <arguments>...}}`. Those are gathered and turned into one
    OpenAI tool-call delta when the stream ends (the name is only known from the text). A delta
    that names its function is passed on as it is, whether it comes as an object or a list.
    """

    def __init__(self, request: ChatRequest, endpoint: str):
        self._request = request
        self._endpoint = endpoint
        self.done = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._generated_chunks = 0
        self._saw_tool_calls = False
        self._grammar_text: list[str] = []

    def on_event(self, event: dict[str, Any], yielded: bool) -> ChatChunk | None:
        try:
            return self._on_event(event, yielded)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise _bad_shape(self._endpoint, retryable=not yielded) from exc

    def _on_event(self, event: dict[str, Any], yielded: bool) -> ChatChunk | None:
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
        raw_calls = delta.get("tool_calls")
        if isinstance(raw_calls, dict) and not (raw_calls.get("function") or {}).get("name"):
            # TGI 3.0's grammar text, unless a named delta opened an OpenAI-style call before.
            if (
                not self._saw_tool_calls
                and raw_calls.get("index", 0) == 0
                and not raw_calls.get("id")
            ):
                self._generated_chunks += 1
                self._grammar_text.append(_arguments(raw_calls["function"].get("arguments")))
                return None
        tool_calls = normalize_tool_call_deltas(raw_calls)
        if not content and not tool_calls:
            return None
        self._generated_chunks += 1
        self._saw_tool_calls = self._saw_tool_calls or bool(tool_calls)
        return ChatChunk(content=content or None, tool_calls=tool_calls)

    def final_chunks(self, *, retryable: bool) -> list[ChatChunk]:
        """What is left when the stream ends: a gathered tool call, if any, then the finish."""
        if not self.done and self.finish_reason is None:
            raise UpstreamBadResponseError(
                f"the stream from SageMaker endpoint {self._endpoint!r} ended early",
                retryable=retryable,
                provider="sagemaker",
            )
        chunks: list[ChatChunk] = []
        if self._grammar_text:
            chunks.append(self._gathered_call(retryable=retryable))
        finish = self.finish_reason or "stop"
        if self._saw_tool_calls and finish == "stop":
            finish = "tool_calls"
        # Without the container's counts: TGI streams one token per chunk.
        usage = self.usage or Usage(estimate.prompt_tokens(self._request), self._generated_chunks)
        chunks.append(ChatChunk(finish_reason=finish, usage=usage))
        return chunks

    def _gathered_call(self, *, retryable: bool) -> ChatChunk:
        text = "".join(self._grammar_text)
        try:
            generated, _ = json.JSONDecoder().raw_decode(text.strip())
            function = dict(generated["function"])
            name = function.pop("_name")
            if not isinstance(name, str) or not name:
                raise ValueError("no tool name")
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponseError(
                f"SageMaker endpoint {self._endpoint!r} streamed a tool call it did not finish",
                retryable=retryable,
                provider="sagemaker",
            ) from exc
        if name == "no_tool":  # TGI's "answer in text" choice under tool_choice=auto
            return ChatChunk(content=str(function.get("content", "")))
        self._saw_tool_calls = True
        call = {
            "index": 0,
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(function)},
        }
        return ChatChunk(tool_calls=[call])


def parse_embeddings(raw: bytes, inputs: list[str], endpoint: str) -> EmbeddingResult:
    """TEI's `[[float, ...], ...]`; also `{"embeddings": ...}` (LMI) and OpenAI's `{"data": ...}`.
    Token-level output (`[[[float]]]`, the plain feature-extraction pipeline) is mean-pooled."""
    body = _load_json(raw, endpoint)
    usage = None
    try:
        if isinstance(body, dict):
            usage = usage_from(body.get("usage"))
            if "data" in body:
                items = sorted(body["data"], key=lambda d: d.get("index", 0))
                body = [item.get("embedding") for item in items]
            else:
                body = body.get("embeddings")
        vectors = [_pooled(vector) for vector in body]
    except (AttributeError, KeyError, TypeError, ValueError):
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
    if isinstance(raw, dict):
        raw = [raw]
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
    if isinstance(raw, dict):  # TGI 3.0 sends one object, not a list
        raw = [raw]
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
        cached = (raw.get("prompt_tokens_details") or {}).get("cached_tokens")
        reasoning = (raw.get("completion_tokens_details") or {}).get("reasoning_tokens")
        return Usage(
            input_tokens=int(raw.get("prompt_tokens") or 0),
            output_tokens=int(raw.get("completion_tokens") or 0),
            cached_input_tokens=int(cached) if cached is not None else None,
            reasoning_tokens=int(reasoning) if reasoning is not None else None,
        )
    except (TypeError, ValueError, AttributeError):
        return None


# ---- small pieces ----


def _bad_shape(endpoint: str, *, retryable: bool = False) -> UpstreamBadResponseError:
    return UpstreamBadResponseError(
        f"SageMaker endpoint {endpoint!r} sent a response of an unexpected shape",
        retryable=retryable,
        provider="sagemaker",
    )


def _load_json(raw: bytes, endpoint: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} returned a body that is not JSON",
            provider="sagemaker",
        ) from exc


def load_event(data: str, endpoint: str, *, retryable: bool = False) -> dict[str, Any]:
    """One streamed event; `retryable` while nothing has reached the client yet."""
    try:
        event = json.loads(data)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise UpstreamBadResponseError(
            f"SageMaker endpoint {endpoint!r} streamed an unexpected event",
            retryable=retryable,
            provider="sagemaker",
        )
    return event


def _sse_data(line: bytes) -> str | None:
    """The payload of one SSE line: `data: ...` (or a bare JSON line); None for anything else."""
    line = line.rstrip(b"\r")
    if line.startswith(b"data:"):
        return line[5:].strip().decode("utf-8", errors="replace")
    if line.startswith(b"{"):
        return line.decode("utf-8", errors="replace")
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
