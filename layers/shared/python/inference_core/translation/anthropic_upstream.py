"""Provider direction: our canonical `ChatRequest` → an Anthropic Messages API body, and
Anthropic's answer (a Message, or a stream of events) → our `ChatResult` / `ChatChunk`s.

Used by `providers.anthropic`. What maps onto what: OpenAI `system` messages → Anthropic's
top-level `system`; assistant `tool_calls` → `tool_use` blocks; `tool` messages → `tool_result`
blocks in a user turn; `stop` → `stop_sequences`; Anthropic's stop reasons → OpenAI's finish
reasons. What Anthropic cannot express is a 400 before any call. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from inference_core.canonical import (
    AnthropicPassthrough,
    ChatChunk,
    ChatRequest,
    ChatResult,
    Usage,
)
from inference_core.errors import InvalidRequestError, ProviderError, UpstreamBadResponseError
from inference_core.translation.anthropic_wire import (
    FINISH_REASON_FROM_ANTHROPIC,
    IMAGE_MEDIA_TYPES,
    STATUS_FROM_ANTHROPIC_ERROR,
    JsonDict,
    as_dict,
    usage_from_anthropic,
)
from inference_core.upstream_errors import error_for_status

_DATA_URL = re.compile(r"^data:(?P<media>[\w/+.-]+);base64,(?P<data>.+)$", re.DOTALL)


def chat_request_to_anthropic(req: ChatRequest, model: str, default_max_tokens: int) -> JsonDict:
    """The Messages API body for `req` (without `stream`); raises InvalidRequestError (400) for
    what Anthropic cannot express, so such a request never reaches it."""
    system_parts: list[str] = []
    turns: list[JsonDict] = []
    for position, message in enumerate(req.messages):
        where = f"messages[{position}]"
        role = message.get("role")
        if role in ("system", "developer"):
            # Anthropic has one system prompt; system messages anywhere in the list join it.
            text = _openai_text(message.get("content"), where)
            if text:
                system_parts.append(text)
            continue
        if role == "user":
            blocks = _user_blocks_from_openai(message.get("content"), where)
        elif role == "assistant":
            blocks = _assistant_blocks_from_openai(message, where)
        elif role == "tool":
            blocks = [_tool_result_from_openai(message, where)]
            role = "user"  # tool results travel in a user turn
        else:
            raise InvalidRequestError(
                f"{where}.role {role!r} cannot be sent to an Anthropic model.", param="messages"
            )
        if not blocks:
            continue
        # Anthropic wants user and assistant turns to alternate: merge neighbours of one role
        # (e.g. several tool results, or tool results followed by the user's next words).
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise InvalidRequestError(
            "An Anthropic model needs at least one user or assistant message.", param="messages"
        )
    for turn in turns:
        blocks = turn["content"]
        if len(blocks) == 1 and blocks[0]["type"] == "text":
            turn["content"] = blocks[0]["text"]

    body: JsonDict = {
        "model": model,
        "max_tokens": req.max_tokens or default_max_tokens,
        "messages": turns,
    }
    if system_parts:
        body["system"] = "\n\n".join(system_parts)
    if req.stop:
        body["stop_sequences"] = list(req.stop)
    if req.temperature is not None:
        # OpenAI's scale goes to 2, Anthropic's to 1: the top of one is the top of the other.
        body["temperature"] = min(float(req.temperature), 1.0)
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.tools:
        body["tools"] = [_tool_to_anthropic(tool, i) for i, tool in enumerate(req.tools)]
        choice = _tool_choice_to_anthropic(req.tool_choice)
        if req.parallel_tool_calls is False:
            # Anthropic says it the other way round, inside tool_choice ("none" calls no tool).
            choice = choice or {"type": "auto"}
            if choice["type"] != "none":
                choice["disable_parallel_tool_use"] = True
        if choice is not None:
            body["tool_choice"] = choice
    if req.response_format and req.response_format.get("type") not in (None, "text"):
        raise InvalidRequestError(
            f"response_format {req.response_format.get('type')!r} is not supported by Anthropic "
            "models; ask for JSON in the prompt instead.",
            param="response_format",
        )
    if req.user:
        body["metadata"] = {"user_id": req.user}
    return body


def passthrough_body(passthrough: AnthropicPassthrough, model: str) -> JsonDict:
    """The client's own Messages body (without `stream`), sent to the deployment's model."""
    return {**passthrough.body, "model": model}


def anthropic_message_to_chat_result(msg: Any) -> ChatResult:
    """Our ChatResult for an Anthropic Message (a dict or the SDK's object)."""
    message = as_dict(msg)
    texts: list[str] = []
    tool_calls: list[JsonDict] = []
    for block in message.get("content") or []:
        block = as_dict(block)
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            tool_calls.append(
                {
                    "id": block.get("id") or f"toolu_{len(tool_calls)}",
                    "type": "function",
                    "function": {
                        "name": block.get("name") or "",
                        "arguments": json.dumps(block.get("input") or {}, ensure_ascii=False),
                    },
                }
            )
        # thinking and server-tool blocks have no OpenAI counterpart and are left out
    return ChatResult(
        content="".join(texts) if texts or not tool_calls else None,
        finish_reason=FINISH_REASON_FROM_ANTHROPIC.get(message.get("stop_reason") or "", "stop"),
        usage=usage_from_anthropic(as_dict(message.get("usage") or {})),
        tool_calls=tool_calls or None,
        stop_sequence=message.get("stop_sequence") or None,
    )


async def anthropic_stream_to_chunks(
    events: AsyncIterator[Any],
) -> AsyncGenerator[ChatChunk, None]:
    """Our chunks for a stream of Anthropic events (dicts or the SDK's objects).

    Text deltas become content; a `tool_use` block becomes an OpenAI tool-call delta with its own
    `index` (counted over tool calls, not content blocks) and then argument deltas; the last chunk
    carries the finish reason and the usage. A stream that ends without `message_stop` was cut
    short and raises UpstreamBadResponseError, so nobody mistakes half an answer for a whole one.
    """
    reader = _StreamReader()
    async for raw in events:
        for chunk in reader.feed(as_dict(raw)):
            yield chunk
    reader.check_finished()


async def anthropic_stream_to_passthrough_chunks(
    events: AsyncIterator[Any],
) -> AsyncGenerator[ChatChunk, None]:
    """For a pass-through request: one chunk per Anthropic event, carrying the event unchanged
    (`anthropic_event`) next to its canonical reading (text, tool calls, finish, usage), so the
    client gets Anthropic's own stream (thinking, server tools, citations, cache usage) while the
    gateway still meters and caches what it reads."""
    reader = _StreamReader()
    async for raw in events:
        event = as_dict(raw)
        if event.get("type") == "ping":
            continue  # the endpoint sends its own
        chunks = reader.feed(event)
        if not chunks:
            yield ChatChunk(anthropic_event=event)
            continue
        chunks[0].anthropic_event = event
        for chunk in chunks:
            yield chunk
    reader.check_finished()


class _StreamReader:
    """Reads Anthropic stream events into our chunks, one event at a time."""

    def __init__(self) -> None:
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self.tool_index_of_block: dict[int, int] = {}
        self.tool_blocks_with_arguments: set[int] = set()
        self.finished = False

    def feed(self, event: JsonDict) -> list[ChatChunk]:
        kind = event.get("type")
        if kind == "message_start":
            self.usage = usage_from_anthropic(
                as_dict(as_dict(event.get("message") or {}).get("usage") or {})
            )
        elif kind == "content_block_start":
            block = as_dict(event.get("content_block") or {})
            if block.get("type") == "tool_use":
                index = len(self.tool_index_of_block)
                self.tool_index_of_block[int(event.get("index") or 0)] = index
                return [
                    ChatChunk(
                        tool_calls=[
                            {
                                "index": index,
                                "id": block.get("id") or f"toolu_{index}",
                                "type": "function",
                                "function": {"name": block.get("name") or "", "arguments": ""},
                            }
                        ]
                    )
                ]
            if block.get("type") == "text" and block.get("text"):
                return [ChatChunk(content=block["text"])]
        elif kind == "content_block_delta":
            delta = as_dict(event.get("delta") or {})
            block_index = int(event.get("index") or 0)
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [ChatChunk(content=delta["text"])]
            if delta.get("type") == "input_json_delta" and delta.get("partial_json"):
                tool = self.tool_index_of_block.get(block_index)
                if tool is not None:
                    self.tool_blocks_with_arguments.add(block_index)
                    return [
                        ChatChunk(
                            tool_calls=[
                                {"index": tool, "function": {"arguments": delta["partial_json"]}}
                            ]
                        )
                    ]
        elif kind == "content_block_stop":
            block_index = int(event.get("index") or 0)
            tool = self.tool_index_of_block.get(block_index)
            if tool is not None and block_index not in self.tool_blocks_with_arguments:
                # A tool called without arguments still needs valid JSON for OpenAI clients.
                return [ChatChunk(tool_calls=[{"index": tool, "function": {"arguments": "{}"}}])]
        elif kind == "message_delta":
            delta = as_dict(event.get("delta") or {})
            self.stop_reason = delta.get("stop_reason") or self.stop_reason
            self.stop_sequence = delta.get("stop_sequence") or self.stop_sequence
            usage = as_dict(event.get("usage") or {})
            if usage.get("output_tokens") is not None:
                self.usage.output_tokens = int(usage["output_tokens"])
            if usage.get("input_tokens") is not None:  # cumulative totals when present
                output_tokens = self.usage.output_tokens
                self.usage = usage_from_anthropic(usage)
                self.usage.output_tokens = output_tokens
        elif kind == "message_stop":
            self.finished = True
            return [
                ChatChunk(
                    finish_reason=FINISH_REASON_FROM_ANTHROPIC.get(self.stop_reason or "", "stop"),
                    usage=self.usage,
                    stop_sequence=self.stop_sequence,
                )
            ]
        elif kind == "error":
            raise anthropic_stream_error(event)
        # `ping`, thinking and server-tool blocks, and event types added after this was written
        # carry nothing the canonical chunks hold.
        return []

    def check_finished(self) -> None:
        if not self.finished:
            # Retryable: the router retries a stream only before its first chunk reached anyone.
            raise UpstreamBadResponseError(
                "The upstream provider 'anthropic' ended the stream before the answer was "
                "complete.",
                retryable=True,
                provider="anthropic",
            )


def anthropic_stream_error(event: Any) -> ProviderError:
    """Our error for an Anthropic SSE `error` event (its message is not echoed: it is theirs)."""
    error = as_dict(as_dict(event).get("error") or {})
    status = STATUS_FROM_ANTHROPIC_ERROR.get(str(error.get("type")), 500)
    return error_for_status(status, provider="anthropic")


# ---------------------------------------------------------------------------------------------
# Helpers: OpenAI side
# ---------------------------------------------------------------------------------------------


def _openai_text(content: Any, where: str) -> str:
    """The text of an OpenAI content field (a string or a list of text parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") not in ("text", "refusal"):
                raise InvalidRequestError(
                    f"{where}.content may only hold text parts here.", param="messages"
                )
            texts.append(str(part.get("text") or part.get("refusal") or ""))
        return "".join(texts)
    raise InvalidRequestError(f"{where}.content must be a string or a list.", param="messages")


def _user_blocks_from_openai(content: Any, where: str) -> list[JsonDict]:
    if content is None or isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise InvalidRequestError(f"{where}.content must be a string or a list.", param="messages")
    blocks: list[JsonDict] = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": str(part["text"])})
        elif kind == "image_url":
            blocks.append(_image_block_from_openai(part.get("image_url"), f"{where}.content[{i}]"))
        else:
            raise InvalidRequestError(
                f"{where}.content[{i}]: part type {kind!r} cannot be sent to an Anthropic model.",
                param="messages",
            )
    return blocks


def _image_block_from_openai(image_url: Any, where: str) -> JsonDict:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str):
        raise InvalidRequestError(f"{where}.image_url.url must be a string.", param="messages")
    match = _DATA_URL.match(url)
    if match:
        if match["media"] not in IMAGE_MEDIA_TYPES:
            raise InvalidRequestError(
                f"{where}: image type {match['media']!r} is not one of "
                f"{', '.join(IMAGE_MEDIA_TYPES)}.",
                param="messages",
            )
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": match["media"], "data": match["data"]},
        }
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequestError(
        f"{where}: an image must be a base64 data URL or an http(s) URL.", param="messages"
    )


def _assistant_blocks_from_openai(message: JsonDict, where: str) -> list[JsonDict]:
    blocks: list[JsonDict] = []
    text = _openai_text(message.get("content"), where)
    if text:
        blocks.append({"type": "text", "text": text})
    for i, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not function.get("name") or not call.get("id"):
            raise InvalidRequestError(
                f"{where}.tool_calls[{i}] needs an id and a function with a name.",
                param="messages",
            )
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except (TypeError, ValueError):
            arguments = None
        if not isinstance(arguments, dict):
            raise InvalidRequestError(
                f"{where}.tool_calls[{i}].function.arguments must be a JSON object.",
                param="messages",
            )
        blocks.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": function["name"],
                "input": arguments,
            }
        )
    return blocks


def _tool_result_from_openai(message: JsonDict, where: str) -> JsonDict:
    tool_call_id = message.get("tool_call_id")
    if not isinstance(tool_call_id, str) or not tool_call_id:
        raise InvalidRequestError(f"{where}.tool_call_id is required.", param="messages")
    return {
        "type": "tool_result",
        "tool_use_id": tool_call_id,
        "content": _openai_text(message.get("content"), where),
    }


def _tool_to_anthropic(tool: Any, i: int) -> JsonDict:
    function = tool.get("function") if isinstance(tool, dict) else None
    if (
        not isinstance(tool, dict)
        or tool.get("type", "function") != "function"
        or not isinstance(function, dict)
        or not function.get("name")
    ):
        raise InvalidRequestError(
            f"tools[{i}]: only function tools with a name can be sent to an Anthropic model.",
            param="tools",
        )
    converted: JsonDict = {
        "name": function["name"],
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        converted["description"] = function["description"]
    return converted


def _tool_choice_to_anthropic(choice: Any) -> JsonDict | None:
    if choice is None:
        return None
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
        if name:
            return {"type": "tool", "name": name}
    raise InvalidRequestError(
        "tool_choice must be 'auto', 'none', 'required' or a named function.", param="tool_choice"
    )
