"""Anthropic Messages API vocabulary both translation directions share: stop reasons, error
types, image media types, and reading SDK objects and usage alike. Pure, no I/O.

`anthropic_upstream` (our canonical request → Anthropic, for the provider) and
`anthropic_messages` (the `/v1/messages` endpoint: an Anthropic request → canonical, our answers →
Anthropic's shapes) both speak in these terms.
"""

from __future__ import annotations

from typing import Any

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
