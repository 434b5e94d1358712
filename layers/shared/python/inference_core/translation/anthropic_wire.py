"""Anthropic Messages API vocabulary both translation directions share: stop reasons, error
types, image media types, and reading SDK objects and usage alike. Pure, no I/O.

`anthropic_upstream` (our canonical request → Anthropic, for the provider) and
`anthropic_messages` (the `/v1/messages` endpoint: an Anthropic request → canonical, our answers →
Anthropic's shapes) both speak in these terms.
"""

from __future__ import annotations

import json
from typing import Any

from inference_core.canonical import Usage

# Anthropic stop_reason → OpenAI finish_reason.
FINISH_REASON_FROM_ANTHROPIC = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# OpenAI finish_reason → Anthropic stop_reason.
STOP_REASON_FROM_OPENAI = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
# Anthropic names a mid-stream failure inside an SSE `error` event (the HTTP status was 200).
STATUS_FROM_ANTHROPIC_ERROR = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")

JsonDict = dict[str, Any]


def as_dict(value: Any) -> JsonDict:
    """A plain dict for a dict or an SDK (pydantic) object, so both shapes translate alike."""
    if isinstance(value, dict):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dict(dump())
    return dict(vars(value)) if hasattr(value, "__dict__") else {}


def billed_input_tokens(usage: JsonDict) -> int:
    """Input tokens including the cached ones, which Anthropic counts apart but still bills."""
    return sum(
        int(usage.get(name) or 0)
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def usage_from_anthropic(usage: JsonDict) -> Usage:
    """Our Usage for an Anthropic `usage` object: every prompt token in `input_tokens`, and of
    those, the ones read from (`cached_input_tokens`) and written to the prompt cache."""
    read, written = usage.get("cache_read_input_tokens"), usage.get("cache_creation_input_tokens")
    return Usage(
        input_tokens=billed_input_tokens(usage),
        output_tokens=int(usage.get("output_tokens") or 0),
        cached_input_tokens=int(read) if read is not None else None,
        cache_creation_input_tokens=int(written) if written is not None else None,
    )


def anthropic_usage(usage: Usage) -> JsonDict:
    """Anthropic's `usage` object for ours (its `input_tokens` leaves the cached tokens out)."""
    read = usage.cached_input_tokens or 0
    written = usage.cache_creation_input_tokens or 0
    return {
        "input_tokens": max(0, usage.input_tokens - read - written),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
    }


def message_from_events(events: list[JsonDict]) -> JsonDict | None:
    """The Message a complete Anthropic event stream adds up to (None if it never started), so a
    streamed pass-through answer can be cached and replayed like a plain one."""
    message: JsonDict | None = None
    partial_json: dict[int, str] = {}
    for event in events:
        kind = event.get("type")
        if kind == "message_start":
            message = json.loads(json.dumps(event.get("message") or {}))
            message["content"] = []
        elif message is None:
            continue
        elif kind == "content_block_start":
            block = dict(event.get("content_block") or {})
            message["content"].append(block)
        elif kind == "content_block_delta":
            index = int(event.get("index") or 0)
            if not 0 <= index < len(message["content"]):
                continue
            block, delta = message["content"][index], event.get("delta") or {}
            kind = delta.get("type")
            if kind == "text_delta":
                block["text"] = block.get("text", "") + str(delta.get("text") or "")
            elif kind == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + str(delta.get("thinking") or "")
            elif kind == "signature_delta":
                block["signature"] = str(delta.get("signature") or "")
            elif kind == "citations_delta":
                block.setdefault("citations", []).append(delta.get("citation"))
            elif kind == "input_json_delta":
                partial_json[index] = partial_json.get(index, "") + str(
                    delta.get("partial_json") or ""
                )
        elif kind == "content_block_stop":
            index = int(event.get("index") or 0)
            if index in partial_json and 0 <= index < len(message["content"]):
                try:
                    message["content"][index]["input"] = json.loads(partial_json[index] or "{}")
                except ValueError:
                    message["content"][index]["input"] = {"_raw_arguments": partial_json[index]}
        elif kind == "message_delta":
            message.update(event.get("delta") or {})
            message["usage"] = {**(message.get("usage") or {}), **(event.get("usage") or {})}
    return message


def events_from_message(message: JsonDict) -> list[JsonDict]:
    """Anthropic's stream events for a whole Message (replaying a cached pass-through answer)."""
    usage = dict(message.get("usage") or {})
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**usage, "output_tokens": min(1, int(usage.get("output_tokens") or 0))}
    events: list[JsonDict] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(message.get("content") or []):
        kind = block.get("type")
        empty: JsonDict
        delta: JsonDict | None = None
        if kind == "text":
            empty = {**block, "text": ""}
            delta = {"type": "text_delta", "text": block.get("text", "")}
        elif kind == "thinking":
            empty = {**block, "thinking": "", "signature": ""}
            delta = {"type": "thinking_delta", "thinking": block.get("thinking", "")}
        elif kind in ("tool_use", "server_tool_use"):
            empty = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block.get("input"))}
        else:
            empty = block  # redacted thinking, tool results: whole in their start event
        events.append({"type": "content_block_start", "index": index, "content_block": empty})
        if delta is not None:
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
        if kind == "thinking" and block.get("signature"):
            events.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": block["signature"]},
                }
            )
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": message.get("stop_reason"),
                "stop_sequence": message.get("stop_sequence"),
            },
            "usage": usage,
        }
    )
    events.append({"type": "message_stop"})
    return events
