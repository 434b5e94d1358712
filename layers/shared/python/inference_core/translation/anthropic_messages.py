"""Endpoint direction (`POST /v1/messages`): an incoming Anthropic request → our canonical
`ChatRequest`, and our `ChatResult` / `ChatChunk`s → Anthropic's Message and stream events,
whichever provider served the request.

What maps onto what: Anthropic's top-level `system` → a system message; `tool_use` blocks →
assistant `tool_calls`; `tool_result` blocks → `tool` messages; `stop_sequences` → `stop`; our
finish reasons → Anthropic's stop reasons. A malformed request is a 400 naming the field, as
Anthropic's API would. What is well formed but has no canonical counterpart (`thinking`,
`context_management`, server tools, `document` blocks, images inside tool results, …) is named in
`ChatRequest.untranslated`: the client's own body travels along (`ChatRequest.anthropic`) and an
Anthropic deployment gets it unchanged, while any other deployment refuses those fields or drops
them (`Deployment.drop_unsupported`). `cache_control` is a caching hint that changes no answer:
an Anthropic deployment gets it where the client put it, others ignore it. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from inference_core import estimate, input_limits
from inference_core.canonical import AnthropicPassthrough, ChatChunk, ChatRequest, ChatResult, Usage
from inference_core.errors import InvalidRequestError
from inference_core.translation.anthropic_wire import (
    IMAGE_MEDIA_TYPES,
    STOP_REASON_FROM_OPENAI,
    JsonDict,
    anthropic_usage,
)

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


def anthropic_request_to_chat(
    body: JsonDict, *, betas: list[str] | None = None, beta_query: bool = False
) -> tuple[ChatRequest, str, bool]:
    """Validate a `/v1/messages` body and turn it into our ChatRequest, the model, and `stream`.

    Malformed input is an InvalidRequestError naming the field, as Anthropic's API would. The
    request carries the body itself for Anthropic deployments (with the client's `anthropic-beta`
    values and `?beta=true`), and the paths of what the canonical fields could not carry in
    `untranslated` (top-level fields by name, blocks and tools as `messages.2.content.0:document`
    or `tools.5:web_search_20250305`). `top_k` reaches Anthropic deployments only.
    """
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    lost: list[str] = sorted(set(body) - REQUEST_FIELDS)
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
    system = _system_from_anthropic(body.get("system"), lost)
    if system:
        messages.append({"role": "system", "content": system})
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise InvalidRequestError(
            "messages: Input should be a non-empty list of messages.", param="messages"
        )
    input_limits.check_message_count(len(raw_messages))
    for position, message in enumerate(raw_messages):
        messages.extend(_messages_from_anthropic(message, f"messages.{position}", lost))

    request = ChatRequest(
        messages=messages,
        max_tokens=max_tokens,
        temperature=_number_in(body, "temperature", 0.0, 1.0),
        top_p=_number_in(body, "top_p", 0.0, 1.0),
        stop=_stop_sequences(body.get("stop_sequences")),
        user=_metadata_user(body.get("metadata")),
        anthropic=AnthropicPassthrough(
            body={k: v for k, v in body.items() if k != "stream"},
            betas=list(betas or []),
            beta_query=beta_query,
        ),
    )
    top_k = body.get("top_k")
    if top_k is not None and (not _is_int(top_k) or int(top_k) < 0):
        raise InvalidRequestError("top_k: Input should be a non-negative integer.", param="top_k")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise InvalidRequestError("tools: Input should be a valid list.", param="tools")
        input_limits.check_tools(tools)
        converted = [_tool_from_anthropic(tool, f"tools.{i}", lost) for i, tool in enumerate(tools)]
        request.tools = [tool for tool in converted if tool is not None] or None
    if body.get("tool_choice") is not None:
        request.tool_choice = _tool_choice_from_anthropic(body["tool_choice"])
    request.untranslated = lost or None
    return request, model, stream


def anthropic_count_request_to_chat(
    body: JsonDict, *, betas: list[str] | None = None, beta_query: bool = False
) -> tuple[ChatRequest, str]:
    """Validate a `/v1/messages/count_tokens` body (a Messages body without `max_tokens` and
    `stream`) and turn it into our ChatRequest and the model."""
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    for name in ("max_tokens", "stream"):
        if name in body:
            raise InvalidRequestError(f"{name}: Extra inputs are not permitted.", param=name)
    request, model, _ = anthropic_request_to_chat(
        {**body, "max_tokens": 1}, betas=betas, beta_query=beta_query
    )
    request.max_tokens = None
    if request.anthropic is not None:
        request.anthropic.body.pop("max_tokens", None)
    return request, model


def chat_result_to_anthropic_message(result: ChatResult, model: str, message_id: str) -> JsonDict:
    """An Anthropic Message (the JSON `/v1/messages` answers with) for our ChatResult; the
    upstream's own Message when an Anthropic deployment served a pass-through request."""
    if result.anthropic_message is not None:
        return result.anthropic_message
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
        "stop_reason": _stop_reason(result.finish_reason, result.stop_sequence),
        # Only upstreams that say which stop sequence matched (Anthropic, Bedrock) fill it.
        "stop_sequence": result.stop_sequence,
        "usage": anthropic_usage(result.usage),
    }


def _stop_reason(finish_reason: str | None, stop_sequence: str | None) -> str:
    if stop_sequence:
        return "stop_sequence"
    return STOP_REASON_FROM_OPENAI.get(finish_reason or "stop", "end_turn")


async def chunks_to_anthropic_events(
    chunks: AsyncIterator[ChatChunk], model: str, message_id: str, input_tokens: int
) -> AsyncGenerator[tuple[str, JsonDict], None]:
    """Anthropic's stream events, as (event name, data) pairs, for a stream of our chunks.

    The order is Anthropic's: message_start, ping, then for each content block its
    content_block_start / content_block_delta… / content_block_stop, then message_delta (stop
    reason, usage) and message_stop. Blocks never interleave: a block is closed before the next
    one opens. `input_tokens` is the caller's estimate for message_start; the real count, when a
    provider reports it, arrives in message_delta. A failing `chunks` raises through to the caller
    (which ends the response with an `error` event). Chunks that carry an Anthropic deployment's
    own events (a pass-through request) are relayed as those events, unchanged.
    """
    first = await anext(chunks, None)
    if first is not None and first.anthropic_event is not None:
        async for event in _relayed_events(first, chunks):
            yield event
        return
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
    stop_sequence: str | None = None
    usage: Usage | None = None
    output_chars = 0
    async for chunk in _prepend(first, chunks):
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
        stop_sequence = chunk.stop_sequence or stop_sequence
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
        "output_tokens": usage.output_tokens
        if usage
        else max(1, estimate.chars_tokens(output_chars)),
    }
    if usage is not None and usage.input_tokens:
        delta_usage.update(anthropic_usage(usage))
        delta_usage["output_tokens"] = usage.output_tokens
    yield _event(
        "message_delta",
        delta={
            "stop_reason": _stop_reason(finish_reason, stop_sequence),
            "stop_sequence": stop_sequence,
        },
        usage=delta_usage,
    )
    yield _event("message_stop")


async def _prepend(
    first: ChatChunk | None, rest: AsyncIterator[ChatChunk]
) -> AsyncGenerator[ChatChunk, None]:
    if first is not None:
        yield first
    async for chunk in rest:
        yield chunk


async def _relayed_events(
    first: ChatChunk, rest: AsyncIterator[ChatChunk]
) -> AsyncGenerator[tuple[str, JsonDict], None]:
    """An Anthropic deployment's own events, with our `ping` after `message_start` as
    Anthropic sends it."""
    async for chunk in _prepend(first, rest):
        event = chunk.anthropic_event
        if event is None:
            continue
        name = str(event.get("type") or "message_delta")
        yield name, event
        if name == "message_start":
            yield _event("ping")


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
# Helpers: Anthropic side
# ---------------------------------------------------------------------------------------------


def _system_from_anthropic(system: Any, lost: list[str]) -> str:
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
            _note_extras(block, f"system.{i}", {"type", "text"}, lost)
            texts.append(block["text"])
        return "\n\n".join(texts)
    raise InvalidRequestError(
        "system: Input should be a string or a list of text blocks.", param="system"
    )


def _messages_from_anthropic(message: Any, where: str, lost: list[str]) -> list[JsonDict]:
    """One Anthropic message as OpenAI messages: tool results become `tool` messages first."""
    if not isinstance(message, dict):
        raise InvalidRequestError(f"{where}: Input should be an object.", param="messages")
    extra = sorted(set(message) - {"role", "content"})
    if extra:
        raise InvalidRequestError(
            f"{where}.{extra[0]}: Extra inputs are not permitted.", param="messages"
        )
    role = message.get("role")
    # `system` mid-conversation: Claude Code's `mid-conversation-system-2026-04-07` beta; the
    # canonical form has system messages anywhere too.
    if role not in ("user", "assistant", "system"):
        raise InvalidRequestError(
            f"{where}.role: Input should be 'user', 'assistant' or 'system'.", param="messages"
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
            _note_extras(block, here, {"type", "text"}, lost)
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            if role != "user":
                raise InvalidRequestError(f"{here}: images belong in user turns.", param="messages")
            image = _image_part_from_anthropic(block.get("source"), here, lost)
            if image is not None:
                parts.append(image)
        elif kind == "tool_use":
            if role != "assistant":
                raise InvalidRequestError(
                    f"{here}: tool_use blocks belong in assistant turns.", param="messages"
                )
            _note_extras(block, here, {"type", "id", "name", "input"}, lost)
            tool_calls.append(_tool_call_from_anthropic(block, here))
        elif kind == "tool_result":
            if role != "user":
                raise InvalidRequestError(
                    f"{here}: tool_result blocks belong in user turns.", param="messages"
                )
            tool_messages.append(_tool_message_from_anthropic(block, here, lost))
        elif isinstance(kind, str) and kind:
            # thinking, redacted_thinking, document, server tool calls and results, search
            # results, …: well formed for Anthropic, nothing in the canonical form to hold them.
            lost.append(f"{here}:{kind}")
        else:
            raise InvalidRequestError(
                f"{here}.type: Field required (a content block type).", param="messages"
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
            messages.append({"role": role, "content": "\n\n".join(p["text"] for p in parts)})
        else:
            messages.append({"role": role, "content": parts})
    if not messages:
        # Only empty text blocks: keep the turn, since turn-taking still counts it.
        messages.append({"role": role, "content": ""})
    return messages


def _image_part_from_anthropic(source: Any, where: str, lost: list[str]) -> JsonDict | None:
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
    if isinstance(source, dict) and isinstance(source.get("type"), str):
        lost.append(f"{where}.source:{source['type']}")  # e.g. a Files API `file` source
        return None
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


def _tool_message_from_anthropic(block: JsonDict, where: str, lost: list[str]) -> JsonDict:
    tool_use_id = block.get("tool_use_id")
    if not isinstance(tool_use_id, str) or not tool_use_id:
        raise InvalidRequestError(f"{where}.tool_use_id: Field required.", param="messages")
    content = block.get("content", "")
    if isinstance(content, list):
        texts = []
        for i, inner in enumerate(content):
            kind = inner.get("type") if isinstance(inner, dict) else None
            if not isinstance(kind, str) or not kind:
                raise InvalidRequestError(
                    f"{where}.content.{i}.type: Field required (a content block type).",
                    param="messages",
                )
            if kind != "text":
                # An image or a document a tool returned: a canonical tool message holds text.
                lost.append(f"{where}.content.{i}:{kind}")
                continue
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


def _tool_from_anthropic(tool: Any, where: str, lost: list[str]) -> JsonDict | None:
    if not isinstance(tool, dict):
        raise InvalidRequestError(f"{where}: Input should be an object.", param="tools")
    kind = tool.get("type")
    if kind not in (None, "custom"):
        if not isinstance(kind, str):
            raise InvalidRequestError(f"{where}.type: Input should be a string.", param="tools")
        lost.append(f"{where}:{kind}")  # a server tool (web search, code execution, …)
        return None
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


def _note_extras(block: JsonDict, where: str, known: set[str], lost: list[str]) -> None:
    """Name the keys of `block` the canonical form drops; `cache_control` is only a hint."""
    lost.extend(f"{where}.{key}" for key in sorted(set(block) - known - {"cache_control"}))


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
