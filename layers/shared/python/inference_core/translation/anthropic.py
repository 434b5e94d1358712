"""OpenAI ⇄ Anthropic Messages translation: requests, answers, and streams, in both directions.

Two users, one set of rules:
- the Anthropic provider sends our (OpenAI-shaped) `ChatRequest` to Anthropic and reads the
  answer back: `chat_request_to_anthropic`, `anthropic_message_to_chat_result`,
  `anthropic_stream_to_chunks`;
- the `/v1/messages` endpoint takes an Anthropic request and must answer in Anthropic's shapes,
  whichever provider served it: `anthropic_request_to_chat`, `chat_result_to_anthropic_message`,
  `chunks_to_anthropic_events`.

What maps onto what: OpenAI `system` messages ↔ Anthropic's top-level `system`; assistant
`tool_calls` ↔ `tool_use` blocks; `tool` messages ↔ `tool_result` blocks in a user turn; OpenAI's
finish reasons ↔ Anthropic's stop reasons; `stop` ↔ `stop_sequences`. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from inference_core import estimate
from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, Usage
from inference_core.errors import InvalidRequestError, ProviderError, UpstreamBadResponseError
from inference_core.upstream_errors import error_for_status

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
_DATA_URL = re.compile(r"^data:(?P<media>[\w/+.-]+);base64,(?P<data>.+)$", re.DOTALL)

JsonDict = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Provider direction: our ChatRequest → Anthropic, Anthropic's answer → our ChatResult / chunks
# ---------------------------------------------------------------------------------------------


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


def anthropic_message_to_chat_result(msg: Any) -> ChatResult:
    """Our ChatResult for an Anthropic Message (a dict or the SDK's object)."""
    message = _as_dict(msg)
    texts: list[str] = []
    tool_calls: list[JsonDict] = []
    for block in message.get("content") or []:
        block = _as_dict(block)
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
    usage = _as_dict(message.get("usage") or {})
    return ChatResult(
        content="".join(texts) if texts or not tool_calls else None,
        finish_reason=FINISH_REASON_FROM_ANTHROPIC.get(message.get("stop_reason") or "", "stop"),
        usage=Usage(_input_tokens(usage), int(usage.get("output_tokens") or 0)),
        tool_calls=tool_calls or None,
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
    input_tokens = output_tokens = 0
    stop_reason: str | None = None
    tool_index_of_block: dict[int, int] = {}
    tool_blocks_with_arguments: set[int] = set()
    finished = False
    async for raw in events:
        event = _as_dict(raw)
        kind = event.get("type")
        if kind == "message_start":
            usage = _as_dict(_as_dict(event.get("message") or {}).get("usage") or {})
            input_tokens = _input_tokens(usage)
            output_tokens = int(usage.get("output_tokens") or 0)
        elif kind == "content_block_start":
            block = _as_dict(event.get("content_block") or {})
            if block.get("type") == "tool_use":
                index = len(tool_index_of_block)
                tool_index_of_block[int(event.get("index") or 0)] = index
                yield ChatChunk(
                    tool_calls=[
                        {
                            "index": index,
                            "id": block.get("id") or f"toolu_{index}",
                            "type": "function",
                            "function": {"name": block.get("name") or "", "arguments": ""},
                        }
                    ]
                )
            elif block.get("type") == "text" and block.get("text"):
                yield ChatChunk(content=block["text"])
        elif kind == "content_block_delta":
            delta = _as_dict(event.get("delta") or {})
            block_index = int(event.get("index") or 0)
            if delta.get("type") == "text_delta" and delta.get("text"):
                yield ChatChunk(content=delta["text"])
            elif delta.get("type") == "input_json_delta" and delta.get("partial_json"):
                tool = tool_index_of_block.get(block_index)
                if tool is not None:
                    tool_blocks_with_arguments.add(block_index)
                    yield ChatChunk(
                        tool_calls=[
                            {"index": tool, "function": {"arguments": delta["partial_json"]}}
                        ]
                    )
        elif kind == "content_block_stop":
            block_index = int(event.get("index") or 0)
            tool = tool_index_of_block.get(block_index)
            if tool is not None and block_index not in tool_blocks_with_arguments:
                # A tool called without arguments still needs valid JSON for OpenAI clients.
                yield ChatChunk(tool_calls=[{"index": tool, "function": {"arguments": "{}"}}])
        elif kind == "message_delta":
            stop_reason = _as_dict(event.get("delta") or {}).get("stop_reason") or stop_reason
            usage = _as_dict(event.get("usage") or {})
            if usage.get("output_tokens") is not None:
                output_tokens = int(usage["output_tokens"])
            if usage.get("input_tokens") is not None:  # cumulative totals when present
                input_tokens = _input_tokens(usage)
        elif kind == "message_stop":
            finished = True
            yield ChatChunk(
                finish_reason=FINISH_REASON_FROM_ANTHROPIC.get(stop_reason or "", "stop"),
                usage=Usage(input_tokens, output_tokens),
            )
        elif kind == "error":
            raise anthropic_stream_error(event)
        # `ping` and event types added after this was written carry nothing we need.
    if not finished:
        # Retryable: the router retries a stream only before its first chunk reached anyone.
        raise UpstreamBadResponseError(
            "The upstream provider 'anthropic' ended the stream before the answer was complete.",
            retryable=True,
            provider="anthropic",
        )


def anthropic_stream_error(event: Any) -> ProviderError:
    """Our error for an Anthropic SSE `error` event (its message is not echoed: it is theirs)."""
    error = _as_dict(_as_dict(event).get("error") or {})
    status = STATUS_FROM_ANTHROPIC_ERROR.get(str(error.get("type")), 500)
    return error_for_status(status, provider="anthropic")


# ---------------------------------------------------------------------------------------------
# Endpoint direction: an Anthropic request → our ChatRequest; our answer → Anthropic's shapes
# ---------------------------------------------------------------------------------------------

REQUEST_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tools",
        "tool_choice",
        "metadata",
        "stream",
    }
)


def anthropic_request_to_chat(body: JsonDict) -> tuple[ChatRequest, str, bool]:
    """Validate a `/v1/messages` body and turn it into our ChatRequest, the model, and `stream`.

    Every problem is an InvalidRequestError naming the field, as Anthropic's API would; `top_k`
    is accepted for compatibility but not forwarded (our canonical request has no such knob).
    """
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    unknown = sorted(set(body) - REQUEST_FIELDS)
    if unknown:
        raise InvalidRequestError(
            f"{unknown[0]}: Extra inputs are not permitted.", param=unknown[0]
        )
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequestError("model: Field required (a non-empty string).", param="model")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise InvalidRequestError(
            "max_tokens: Field required (an integer of at least 1).", param="max_tokens"
        )
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequestError("stream: Input should be a valid boolean.", param="stream")

    messages: list[JsonDict] = []
    system = _system_from_anthropic(body.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise InvalidRequestError(
            "messages: Input should be a non-empty list of messages.", param="messages"
        )
    for position, message in enumerate(raw_messages):
        messages.extend(_messages_from_anthropic(message, f"messages.{position}"))

    request = ChatRequest(
        messages=messages,
        max_tokens=max_tokens,
        temperature=_number_in(body, "temperature", 0.0, 1.0),
        top_p=_number_in(body, "top_p", 0.0, 1.0),
        stop=_stop_sequences(body.get("stop_sequences")),
        user=_metadata_user(body.get("metadata")),
    )
    top_k = body.get("top_k")
    if top_k is not None and (not _is_int(top_k) or int(top_k) < 0):
        raise InvalidRequestError("top_k: Input should be a non-negative integer.", param="top_k")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise InvalidRequestError("tools: Input should be a valid list.", param="tools")
        request.tools = [_tool_from_anthropic(tool, f"tools.{i}") for i, tool in enumerate(tools)]
    if body.get("tool_choice") is not None:
        request.tool_choice = _tool_choice_from_anthropic(body["tool_choice"])
    return request, model, stream


def chat_result_to_anthropic_message(result: ChatResult, model: str, message_id: str) -> JsonDict:
    """An Anthropic Message (the JSON `/v1/messages` answers with) for our ChatResult."""
    content: list[JsonDict] = []
    if result.content or not result.tool_calls:
        content.append({"type": "text", "text": result.content or ""})
    for i, call in enumerate(result.tool_calls or []):
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{i}",
                "name": function.get("name") or "",
                "input": _tool_input(function.get("arguments")),
            }
        )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": model,
        "stop_reason": STOP_REASON_FROM_OPENAI.get(result.finish_reason, "end_turn"),
        # OpenAI's "stop" does not say which stop sequence matched, so neither can we.
        "stop_sequence": None,
        "usage": {
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
        },
    }


async def chunks_to_anthropic_events(
    chunks: AsyncIterator[ChatChunk], model: str, message_id: str, input_tokens: int
) -> AsyncGenerator[tuple[str, JsonDict], None]:
    """Anthropic's stream events, as (event name, data) pairs, for a stream of our chunks.

    The order is Anthropic's: message_start, ping, then for each content block its
    content_block_start / content_block_delta… / content_block_stop, then message_delta (stop
    reason, usage) and message_stop. Blocks never interleave: a block is closed before the next
    one opens. `input_tokens` is the caller's estimate for message_start; the real count, when a
    provider reports it, arrives in message_delta. A failing `chunks` raises through to the caller
    (which ends the response with an `error` event).
    """
    yield _event(
        "message_start",
        message={
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": model,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 0},
        },
    )
    yield _event("ping")

    blocks = _BlockSequence()
    finish_reason: str | None = None
    usage: Usage | None = None
    output_chars = 0
    async for chunk in chunks:
        if chunk.content:
            output_chars += len(chunk.content)
            for event in blocks.text(chunk.content):
                yield event
        for delta in chunk.tool_calls or []:
            function = delta.get("function") or {}
            output_chars += len(function.get("arguments") or "")
            for event in blocks.tool_call(delta):
                yield event
        if chunk.finish_reason:
            finish_reason = chunk.finish_reason
        if chunk.usage is not None:
            usage = chunk.usage
    if not blocks.opened_any:
        # Anthropic always answers with at least one block; clients index content[0].
        for event in blocks.text(""):
            yield event
    for event in blocks.close():
        yield event

    delta_usage: JsonDict = {
        # Without a provider's count, a rough one (about four characters a token) beats zero.
        "output_tokens": usage.output_tokens if usage else max(1, estimate.chars_tokens(output_chars)),
    }
    if usage is not None and usage.input_tokens:
        delta_usage["input_tokens"] = usage.input_tokens
    yield _event(
        "message_delta",
        delta={
            "stop_reason": STOP_REASON_FROM_OPENAI.get(finish_reason or "stop", "end_turn"),
            "stop_sequence": None,
        },
        usage=delta_usage,
    )
    yield _event("message_stop")


class _BlockSequence:
    """Opens, feeds and closes Anthropic content blocks as our chunks arrive, one at a time."""

    def __init__(self) -> None:
        self.count = 0  # content blocks opened so far; the next one's index
        self.open_index: int | None = None
        self.open_kind: str | None = None  # "text" or "tool_use"
        self.block_of_tool: dict[int, int] = {}

    @property
    def opened_any(self) -> bool:
        return self.count > 0

    def text(self, text: str) -> list[tuple[str, JsonDict]]:
        events: list[tuple[str, JsonDict]] = []
        if self.open_kind != "text":
            events += self.close()
            events.append(self._start({"type": "text", "text": ""}, "text"))
        if text:
            events.append(
                _event(
                    "content_block_delta",
                    index=self.open_index,
                    delta={"type": "text_delta", "text": text},
                )
            )
        return events

    def tool_call(self, delta: JsonDict) -> list[tuple[str, JsonDict]]:
        events: list[tuple[str, JsonDict]] = []
        tool = int(delta.get("index", 0))
        function = delta.get("function") or {}
        if tool not in self.block_of_tool:
            events += self.close()
            events.append(
                self._start(
                    {
                        "type": "tool_use",
                        "id": delta.get("id") or f"toolu_{tool}",
                        "name": function.get("name") or "",
                        "input": {},
                    },
                    "tool_use",
                )
            )
            self.block_of_tool[tool] = self.count - 1
        arguments = function.get("arguments")
        if arguments:
            events.append(
                _event(
                    "content_block_delta",
                    # A late delta for an already-closed call still names its own block; SDKs
                    # accumulate by index.
                    index=self.block_of_tool[tool],
                    delta={"type": "input_json_delta", "partial_json": arguments},
                )
            )
        return events

    def close(self) -> list[tuple[str, JsonDict]]:
        if self.open_index is None:
            return []
        index, self.open_index, self.open_kind = self.open_index, None, None
        return [_event("content_block_stop", index=index)]

    def _start(self, block: JsonDict, kind: str) -> tuple[str, JsonDict]:
        self.open_index, self.open_kind = self.count, kind
        self.count += 1
        return _event("content_block_start", index=self.open_index, content_block=block)


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


# ---------------------------------------------------------------------------------------------
# Helpers: Anthropic side
# ---------------------------------------------------------------------------------------------


def _system_from_anthropic(system: Any) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        texts = []
        for i, block in enumerate(system):
            if (
                not isinstance(block, dict)
                or block.get("type") != "text"
                or not isinstance(block.get("text"), str)
            ):
                raise InvalidRequestError(
                    f"system.{i}: Input should be a text block.", param="system"
                )
            texts.append(block["text"])
        return "\n\n".join(texts)
    raise InvalidRequestError(
        "system: Input should be a string or a list of text blocks.", param="system"
    )


def _messages_from_anthropic(message: Any, where: str) -> list[JsonDict]:
    """One Anthropic message as OpenAI messages: tool results become `tool` messages first."""
    if not isinstance(message, dict):
        raise InvalidRequestError(f"{where}: Input should be an object.", param="messages")
    extra = sorted(set(message) - {"role", "content"})
    if extra:
        raise InvalidRequestError(
            f"{where}.{extra[0]}: Extra inputs are not permitted.", param="messages"
        )
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise InvalidRequestError(
            f"{where}.role: Input should be 'user' or 'assistant'.", param="messages"
        )
    content = message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list) or not content:
        raise InvalidRequestError(
            f"{where}.content: Input should be a string or a non-empty list of content blocks.",
            param="messages",
        )

    tool_messages: list[JsonDict] = []
    parts: list[JsonDict] = []
    tool_calls: list[JsonDict] = []
    for i, block in enumerate(content):
        here = f"{where}.content.{i}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            if not isinstance(block.get("text"), str):
                raise InvalidRequestError(
                    f"{here}.text: Input should be a string.", param="messages"
                )
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            if role != "user":
                raise InvalidRequestError(f"{here}: images belong in user turns.", param="messages")
            parts.append(_image_part_from_anthropic(block.get("source"), here))
        elif kind == "tool_use":
            if role != "assistant":
                raise InvalidRequestError(
                    f"{here}: tool_use blocks belong in assistant turns.", param="messages"
                )
            tool_calls.append(_tool_call_from_anthropic(block, here))
        elif kind == "tool_result":
            if role != "user":
                raise InvalidRequestError(
                    f"{here}: tool_result blocks belong in user turns.", param="messages"
                )
            tool_messages.append(_tool_message_from_anthropic(block, here))
        else:
            raise InvalidRequestError(
                f"{here}.type: Input should be 'text', 'image', 'tool_use' or 'tool_result'.",
                param="messages",
            )

    messages = list(tool_messages)
    if role == "assistant":
        text = "".join(p["text"] for p in parts)
        if text or tool_calls:
            assistant: JsonDict = {"role": "assistant", "content": text or None}
            if tool_calls:
                assistant["tool_calls"] = tool_calls
            messages.append(assistant)
    elif parts:
        if all(p["type"] == "text" for p in parts):
            messages.append({"role": "user", "content": "\n\n".join(p["text"] for p in parts)})
        else:
            messages.append({"role": "user", "content": parts})
    if not messages:
        # Only empty text blocks: keep the turn, since turn-taking still counts it.
        messages.append({"role": role, "content": ""})
    return messages


def _image_part_from_anthropic(source: Any, where: str) -> JsonDict:
    if isinstance(source, dict) and source.get("type") == "base64":
        media, data = source.get("media_type"), source.get("data")
        if media not in IMAGE_MEDIA_TYPES or not isinstance(data, str) or not data:
            raise InvalidRequestError(
                f"{where}.source: a base64 image needs a media_type of "
                f"{', '.join(IMAGE_MEDIA_TYPES)} and data.",
                param="messages",
            )
        return {"type": "image_url", "image_url": {"url": f"data:{media};base64,{data}"}}
    if (
        isinstance(source, dict)
        and source.get("type") == "url"
        and isinstance(source.get("url"), str)
    ):
        return {"type": "image_url", "image_url": {"url": source["url"]}}
    raise InvalidRequestError(
        f"{where}.source: Input should be a base64 or url image source.", param="messages"
    )


def _tool_call_from_anthropic(block: JsonDict, where: str) -> JsonDict:
    if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
        raise InvalidRequestError(f"{where}: tool_use needs an id and a name.", param="messages")
    tool_input = block.get("input", {})
    if not isinstance(tool_input, dict):
        raise InvalidRequestError(f"{where}.input: Input should be an object.", param="messages")
    return {
        "id": block["id"],
        "type": "function",
        "function": {
            "name": block["name"],
            "arguments": json.dumps(tool_input, ensure_ascii=False),
        },
    }


def _tool_message_from_anthropic(block: JsonDict, where: str) -> JsonDict:
    tool_use_id = block.get("tool_use_id")
    if not isinstance(tool_use_id, str) or not tool_use_id:
        raise InvalidRequestError(f"{where}.tool_use_id: Field required.", param="messages")
    content = block.get("content", "")
    if isinstance(content, list):
        texts = []
        for i, inner in enumerate(content):
            if not isinstance(inner, dict) or inner.get("type") != "text":
                raise InvalidRequestError(
                    f"{where}.content.{i}: only text is supported inside a tool_result.",
                    param="messages",
                )
            texts.append(str(inner.get("text") or ""))
        content = "\n\n".join(texts)
    elif not isinstance(content, str):
        raise InvalidRequestError(
            f"{where}.content: Input should be a string or a list of text blocks.",
            param="messages",
        )
    if block.get("is_error") is True:
        # OpenAI's tool message has no error flag; say it in the text the model reads.
        content = f"Error: {content}"
    return {"role": "tool", "tool_call_id": tool_use_id, "content": content}


def _tool_from_anthropic(tool: Any, where: str) -> JsonDict:
    if not isinstance(tool, dict):
        raise InvalidRequestError(f"{where}: Input should be an object.", param="tools")
    if tool.get("type") not in (None, "custom"):
        raise InvalidRequestError(
            f"{where}.type: server tools ({tool.get('type')!r}) are not supported.", param="tools"
        )
    name, schema = tool.get("name"), tool.get("input_schema")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError(f"{where}.name: Field required.", param="tools")
    if not isinstance(schema, dict):
        raise InvalidRequestError(
            f"{where}.input_schema: Field required (a JSON schema object).", param="tools"
        )
    function: JsonDict = {"name": name, "parameters": schema}
    description = tool.get("description")
    if description is not None:
        if not isinstance(description, str):
            raise InvalidRequestError(
                f"{where}.description: Input should be a string.", param="tools"
            )
        function["description"] = description
    return {"type": "function", "function": function}


def _tool_choice_from_anthropic(choice: Any) -> Any:
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind in ("auto", "none"):
        return kind
    if kind == "any":
        return "required"
    if kind == "tool" and isinstance(choice.get("name"), str) and choice["name"]:
        return {"type": "function", "function": {"name": choice["name"]}}
    raise InvalidRequestError(
        "tool_choice: Input should be {type: auto|any|none} or {type: tool, name}.",
        param="tool_choice",
    )


def _stop_sequences(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise InvalidRequestError(
            "stop_sequences: Input should be a list of strings.", param="stop_sequences"
        )
    return list(value) or None


def _metadata_user(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequestError("metadata: Input should be an object.", param="metadata")
    user_id = value.get("user_id")
    if user_id is not None and not isinstance(user_id, str):
        raise InvalidRequestError("metadata.user_id: Input should be a string.", param="metadata")
    return user_id


def _number_in(body: JsonDict, name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequestError(
            f"{name}: Input should be a number between {low:g} and {high:g}.", param=name
        )
    return float(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# Helpers: both
# ---------------------------------------------------------------------------------------------


def _as_dict(value: Any) -> JsonDict:
    """A plain dict for a dict or an SDK (pydantic) object, so both shapes translate alike."""
    if isinstance(value, dict):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dict(dump())
    return dict(vars(value)) if hasattr(value, "__dict__") else {}


def _input_tokens(usage: JsonDict) -> int:
    """Input tokens including the cached ones, which Anthropic counts apart but still bills."""
    return sum(
        int(usage.get(name) or 0)
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def _tool_input(arguments: Any) -> JsonDict:
    """A tool call's arguments as Anthropic's `input` object. Models (small local ones above all)
    sometimes emit arguments that are not a JSON object; those are kept as text, not dropped."""
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)
    except (TypeError, ValueError):
        return {"_raw_arguments": str(arguments)}
    return value if isinstance(value, dict) else {"_raw_arguments": str(arguments)}


def _event(name: str, **data: Any) -> tuple[str, JsonDict]:
    return name, {"type": name, **data}
