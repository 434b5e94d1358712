"""The gateway's one token and size estimator, over everything a provider will see and bill.

Used before a provider call (refusing prompts that cannot fit, sizing the admission reservation)
and after it when an upstream reports no usage. It counts every message's content parts (text; an
image as a fixed `IMAGE_TOKENS`, and by its data length for the size cap), tool definitions, tool
calls and results, `name`, system prompts, and a per-message overhead. The provider's own
tokenizer is the final word; this figure errs high (about four characters a token, rounded up).
Imports nothing of ours but the canonical types.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from inference_core.canonical import ChatRequest, CompletionRequest

CHARS_PER_TOKEN = 4
# Role markers and separators the chat template adds around each message.
TOKENS_PER_MESSAGE = 4
# An image part, whatever its resolution (OpenAI bills a high-detail 1024² image at 765).
IMAGE_TOKENS = 1_000
# Framing of the tool list in the prompt.
TOKENS_PER_TOOL = 8


def chars_tokens(chars: int) -> int:
    """Tokens in `chars` characters of text: about four characters a token, rounded up."""
    return math.ceil(chars / CHARS_PER_TOKEN) if chars > 0 else 0


def text_tokens(text: str | None) -> int:
    """Tokens in a piece of text."""
    return chars_tokens(len(text)) if text else 0


def _json_chars(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value)
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def _part_size(part: Any) -> tuple[int, int]:
    """(chars, images) of one content part, in any of the shapes we pass around."""
    if isinstance(part, str):
        return len(part), 0
    if not isinstance(part, dict):
        return _json_chars(part), 0
    kind = part.get("type")
    if kind in ("text", "input_text", "output_text"):
        return len(str(part.get("text") or "")), 0
    if kind in ("image_url", "input_image", "image", "document", "input_file", "file"):
        # The size rule counts an image or document by its data (a data URL or base64 source).
        return _json_chars({k: v for k, v in part.items() if k != "type"}), 1
    return _json_chars(part), 0


def _content_size(content: Any) -> tuple[int, int]:
    if content is None:
        return 0, 0
    if isinstance(content, str):
        return len(content), 0
    if isinstance(content, list):
        chars = images = 0
        for part in content:
            c, i = _part_size(part)
            chars += c
            images += i
        return chars, images
    return _json_chars(content), 0


def _message_size(message: dict[str, Any]) -> tuple[int, int]:
    chars, images = _content_size(message.get("content"))
    chars += len(str(message.get("name") or ""))
    for call in message.get("tool_calls") or []:
        chars += _json_chars(call.get("function") if isinstance(call, dict) else call)
    if message.get("tool_call_id"):
        chars += len(str(message["tool_call_id"]))
    return chars, images


def _tools_chars(tools: Iterable[Any] | None) -> int:
    return sum(_json_chars(tool) for tool in tools or [])


def chat_prompt_chars(request: ChatRequest) -> int:
    """Characters of everything the provider receives as the prompt (the size cap's measure)."""
    return sum(_message_size(m)[0] for m in request.messages) + _tools_chars(request.tools)


def chat_prompt_tokens(request: ChatRequest) -> int:
    """Estimated prompt tokens of a chat request, as the provider will bill them."""
    total = 0
    for message in request.messages:
        chars, images = _message_size(message)
        total += TOKENS_PER_MESSAGE + chars_tokens(chars) + images * IMAGE_TOKENS
    if request.tools:
        total += sum(TOKENS_PER_TOOL + chars_tokens(_json_chars(t)) for t in request.tools)
    return total


def anthropic_body_tokens(body: dict[str, Any]) -> int:
    """Estimated prompt tokens of an Anthropic Messages body as sent (system, messages, tools and
    the rest): its JSON text, with each image or document counted as `IMAGE_TOKENS` instead of
    by its base64 data."""
    images = 0

    def shrink(value: Any) -> Any:
        nonlocal images
        if isinstance(value, dict):
            if value.get("type") in ("image", "document") and "source" in value:
                images += 1
                return {k: shrink(v) for k, v in value.items() if k != "source"}
            return {k: shrink(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shrink(v) for v in value]
        return value

    prompt = {k: v for k, v in body.items() if k in ("system", "messages", "tools")}
    messages = body.get("messages")
    overhead = TOKENS_PER_MESSAGE * (len(messages) if isinstance(messages, list) else 0)
    return chars_tokens(_json_chars(shrink(prompt))) + images * IMAGE_TOKENS + overhead


def prompt_chars(request: ChatRequest | CompletionRequest) -> int:
    if isinstance(request, CompletionRequest):
        return len(request.prompt)
    return chat_prompt_chars(request)


def prompt_tokens(request: ChatRequest | CompletionRequest) -> int:
    """Estimated prompt tokens of any canonical request."""
    if isinstance(request, CompletionRequest):
        return max(1, text_tokens(request.prompt))
    if request.anthropic is not None:
        # The client's own body holds what the canonical messages could not (documents,
        # thinking, server tools): whichever counts more is closer to what gets billed.
        return max(1, chat_prompt_tokens(request), anthropic_body_tokens(request.anthropic.body))
    return max(1, chat_prompt_tokens(request))


def messages_tokens(messages: Iterable[dict[str, Any]]) -> int:
    """Estimated tokens of a list of chat messages (history trimming)."""
    return sum(TOKENS_PER_MESSAGE + chars_tokens(_message_size(m)[0]) for m in messages)
