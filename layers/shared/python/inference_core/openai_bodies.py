"""OpenAI-shaped response bodies, built from our provider-neutral results: the non-stream bodies
and the chunk objects of a stream (the route only frames them as server-sent events).

Shared by the OpenAI-compatible routes and the batch worker, so a line of a batch's output file
carries exactly the body the same request would have got from `/v1/...` directly.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

from inference_core.canonical import ChatChunk, ChatResult, EmbeddingResult, Usage


def usage_body(usage: Usage) -> dict[str, Any]:
    """OpenAI's usage object; the token details appear when the upstream reported them."""
    body: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }
    if usage.cached_input_tokens is not None:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_input_tokens}
    if usage.reasoning_tokens is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return body


def chat_completion_body(
    result: ChatResult, model: str, completion_id: str, created: int
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.content, "refusal": None}
    if result.tool_calls:
        message["tool_calls"] = result.tool_calls
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": result.finish_reason,
                "logprobs": result.logprobs,
            }
        ],
        "usage": usage_body(result.usage),
        "system_fingerprint": None,
    }


def completion_body(
    result: ChatResult, model: str, completion_id: str, created: int
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "text": result.content or "",
                "finish_reason": result.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": usage_body(result.usage),
    }


def embedding_body(
    result: EmbeddingResult,
    model: str,
    *,
    dimensions: int | None = None,
    encoding_format: str = "float",
) -> dict[str, Any]:
    data = []
    for index, vector in enumerate(result.vectors):
        if dimensions is not None:
            vector = vector[:dimensions]
        embedding: Any = vector
        if encoding_format == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = result.usage.input_tokens
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


async def chat_completion_chunks(
    chunks: AsyncIterator[ChatChunk],
    model: str,
    completion_id: str,
    created: int,
    *,
    include_usage: bool,
    settled_usage: Callable[[], Usage],
) -> AsyncIterator[dict[str, Any]]:
    """The `chat.completion.chunk` objects of a stream: a role chunk first, one per content or
    tool-call delta, and with `include_usage` a last chunk with no choices and the usage (the
    provider's, or `settled_usage()` once the stream is exhausted when it reported none)."""

    def chunk(
        delta: dict[str, Any], finish: str | None, logprobs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": logprobs}
            ],
        }

    yield chunk({"role": "assistant", "content": ""}, None)
    final_usage: Usage | None = None
    async for piece in chunks:
        delta: dict[str, Any] = {}
        if piece.content:
            delta["content"] = piece.content
        if piece.tool_calls:
            delta["tool_calls"] = piece.tool_calls
        if piece.usage is not None:
            final_usage = piece.usage
        if delta or piece.finish_reason:
            yield chunk(delta, piece.finish_reason, piece.logprobs)
    if include_usage:
        usage_chunk = chunk({}, None)
        usage_chunk["choices"] = []
        usage_chunk["usage"] = usage_body(final_usage or settled_usage())
        yield usage_chunk


async def completion_chunks(
    chunks: AsyncIterator[ChatChunk],
    model: str,
    completion_id: str,
    created: int,
    *,
    include_usage: bool,
    settled_usage: Callable[[], Usage],
) -> AsyncIterator[dict[str, Any]]:
    """The `text_completion` objects of a stream, and with `include_usage` a last usage one."""
    final_usage: Usage | None = None
    async for piece in chunks:
        if piece.usage is not None:
            final_usage = piece.usage
        if piece.content or piece.finish_reason:
            yield {
                "id": completion_id,
                "object": "text_completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "text": piece.content or "",
                        "finish_reason": piece.finish_reason,
                        "logprobs": None,
                    }
                ],
            }
    if include_usage:
        yield {
            "id": completion_id,
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage_body(final_usage or settled_usage()),
        }
