"""OpenAI's Responses API ↔ our canonical chat types, both ways, streaming included.

In: input items (messages with `input_text`/`input_image` parts, `function_call`,
`function_call_output`), `instructions`, function tools, `tool_choice`, `text.format` and
`reasoning.effort` become a `ChatRequest`. Out: a `ChatResult` becomes output items (a `message`
with `output_text`, one `function_call` per tool call) inside a `response` object, and a stream
of `ChatChunk`s becomes the documented event sequence (`response.created` … `response.completed`)
with `sequence_number`s, the shapes the openai SDK's `responses.stream()` accumulates. What the
gateway cannot do (hosted tools, file inputs, reasoning summaries) is refused with a 400 naming
the field, before anything reaches a provider. Imports only the canonical types and our errors.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, Usage
from inference_core.errors import InvalidRequestError

JsonDict = dict[str, Any]

MESSAGE_ROLES = ("user", "system", "developer", "assistant")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _refuse(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, code="invalid_request", param=param)


# ---- in: request → canonical ----


def normalize_input(raw: str | list[JsonDict]) -> list[JsonDict]:
    """The request's `input` as stored input items, each with an `id` (a string is one message)."""
    if isinstance(raw, str):
        raw = [{"role": "user", "content": raw}]
    items: list[JsonDict] = []
    for position, item in enumerate(raw):
        where = f"input[{position}]"
        if not isinstance(item, dict):
            raise _refuse(f"{where} must be an object.", where)
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            items.append(_input_message(item, where))
        elif kind == "function_call":
            for name in ("call_id", "name", "arguments"):
                if not isinstance(item.get(name), str):
                    raise _refuse(f"{where}.{name} must be a string.", f"{where}.{name}")
            items.append(
                {
                    "type": "function_call",
                    "id": item.get("id") or new_id("fc"),
                    "call_id": item["call_id"],
                    "name": item["name"],
                    "arguments": item["arguments"],
                    "status": item.get("status") or "completed",
                }
            )
        elif kind == "function_call_output":
            if not isinstance(item.get("call_id"), str):
                raise _refuse(f"{where}.call_id must be a string.", f"{where}.call_id")
            output = item.get("output")
            if not isinstance(output, (str, list)):
                raise _refuse(f"{where}.output must be a string or a list.", f"{where}.output")
            items.append(
                {
                    "type": "function_call_output",
                    "id": item.get("id") or new_id("fco"),
                    "call_id": item["call_id"],
                    "output": output,
                    "status": item.get("status") or "completed",
                }
            )
        elif kind == "reasoning":
            # Echoed back by clients that replay a previous output; this gateway never emits
            # reasoning items, and an empty summary carries nothing for the model.
            if item.get("summary") or item.get("content") or item.get("encrypted_content"):
                raise _refuse(f"{where}: reasoning items cannot be sent to this gateway.", where)
        else:
            raise _refuse(
                f"{where}.type {kind!r} is not supported; use 'message', 'function_call' or "
                "'function_call_output'.",
                f"{where}.type",
            )
    if not items:
        raise _refuse("input must not be empty.", "input")
    return items


def _input_message(item: JsonDict, where: str) -> JsonDict:
    role = item.get("role")
    if role not in MESSAGE_ROLES:
        raise _refuse(f"{where}.role must be one of {', '.join(MESSAGE_ROLES)}.", f"{where}.role")
    content = item.get("content")
    if isinstance(content, str):
        part_type = "output_text" if role == "assistant" else "input_text"
        parts: list[JsonDict] = [{"type": part_type, "text": content}]
        if role == "assistant":
            parts[0]["annotations"] = []
    elif isinstance(content, list) and content:
        parts = [_input_part(part, role, f"{where}.content[{i}]") for i, part in enumerate(content)]
    else:
        raise _refuse(f"{where}.content must be a string or a non-empty list.", f"{where}.content")
    message: JsonDict = {
        "type": "message",
        "id": item.get("id") or new_id("msg"),
        "role": role,
        "content": parts,
    }
    message["status"] = item.get("status") or "completed"
    return message


def _input_part(part: Any, role: str, where: str) -> JsonDict:
    if not isinstance(part, dict):
        raise _refuse(f"{where} must be an object.", where)
    kind = part.get("type")
    if kind in ("input_text", "output_text", "refusal"):
        key = "refusal" if kind == "refusal" else "text"
        if not isinstance(part.get(key), str):
            raise _refuse(f"{where}.{key} must be a string.", f"{where}.{key}")
        if kind == "input_text" and role == "assistant":
            raise _refuse(f"{where}: an assistant message holds 'output_text' parts.", where)
        if kind != "input_text" and role != "assistant":
            raise _refuse(f"{where}: a {role} message holds 'input_text' parts.", where)
        return dict(part)
    if kind == "input_image":
        if role == "assistant":
            raise _refuse(f"{where}: an assistant message cannot hold an image.", where)
        if part.get("file_id"):
            raise _refuse(
                f"{where}: images by file_id are not supported; send image_url (a URL or a "
                "data URL).",
                f"{where}.file_id",
            )
        if not isinstance(part.get("image_url"), str):
            raise _refuse(f"{where}.image_url must be a string.", f"{where}.image_url")
        return {
            "type": "input_image",
            "image_url": part["image_url"],
            "detail": part.get("detail") or "auto",
        }
    raise _refuse(
        f"{where}.type {kind!r} is not supported; use 'input_text' or 'input_image'.",
        f"{where}.type",
    )


HOSTED_TOOLS_HINT = "only function tools are available through this gateway"


def tools_to_chat(tools: list[JsonDict] | None) -> list[JsonDict] | None:
    if not tools:
        return None
    converted = []
    for position, tool in enumerate(tools):
        where = f"tools[{position}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind != "function":
            raise _refuse(
                f"{where}: the tool type {kind!r} is not supported ({HOSTED_TOOLS_HINT}: hosted "
                "tools such as web_search, file_search, code_interpreter or computer use run "
                "inside OpenAI, not here).",
                f"{where}.type",
            )
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            raise _refuse(f"{where}.name must be a non-empty string.", f"{where}.name")
        unknown = set(tool) - {"type", "name", "description", "parameters", "strict"}
        if unknown:
            raise _refuse(f"{where}: unknown field {sorted(unknown)[0]!r}.", where)
        function: JsonDict = {"name": tool["name"]}
        for key in ("description", "parameters", "strict"):
            if tool.get(key) is not None:
                function[key] = tool[key]
        converted.append({"type": "function", "function": function})
    return converted


def tool_choice_to_chat(choice: Any) -> Any:
    if choice is None or choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        if not isinstance(choice.get("name"), str):
            raise _refuse("tool_choice.name must be a string.", "tool_choice.name")
        return {"type": "function", "function": {"name": choice["name"]}}
    kind = choice.get("type") if isinstance(choice, dict) else choice
    raise _refuse(
        f"tool_choice {kind!r} is not supported; use 'auto', 'none', 'required' or "
        "{'type': 'function', 'name': ...}.",
        "tool_choice",
    )


def text_format_to_chat(text: JsonDict | None) -> JsonDict | None:
    """`text.format` → chat `response_format`."""
    fmt = (text or {}).get("format")
    if fmt is None or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if fmt.get("type") == "json_schema":
        if not isinstance(fmt.get("name"), str) or not isinstance(fmt.get("schema"), dict):
            raise _refuse(
                "text.format of type 'json_schema' needs 'name' and 'schema'.", "text.format"
            )
        schema: JsonDict = {"name": fmt["name"], "schema": fmt["schema"]}
        for key in ("strict", "description"):
            if fmt.get(key) is not None:
                schema[key] = fmt[key]
        return {"type": "json_schema", "json_schema": schema}
    raise _refuse(
        "text.format.type must be 'text', 'json_object' or 'json_schema'.", "text.format.type"
    )


def items_to_messages(items: list[JsonDict]) -> list[JsonDict]:
    """Conversation items (input and earlier output) → chat messages, in order. Consecutive
    function calls (and the assistant text before them) make one assistant message."""
    messages: list[JsonDict] = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            role = item["role"]
            content = _chat_content(item["content"], assistant=role == "assistant")
            if (
                role == "assistant"
                and messages
                and messages[-1]["role"] == "assistant"
                and not messages[-1].get("tool_calls")
            ):
                previous = messages[-1].get("content") or ""
                messages[-1]["content"] = previous + (content if isinstance(content, str) else "")
                continue
            messages.append({"role": role, "content": content})
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            if messages and messages[-1]["role"] == "assistant":
                messages[-1].setdefault("tool_calls", []).append(call)
                if messages[-1].get("content") == "":
                    messages[-1]["content"] = None
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item["output"]
            if isinstance(output, list):
                output = "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": output})
    return messages


def _chat_content(parts: list[JsonDict], *, assistant: bool) -> str | list[JsonDict]:
    if assistant or all(p.get("type") != "input_image" for p in parts):
        # Plain text reads the same to every provider (and every chat template).
        return "".join(str(p.get("text") or p.get("refusal") or "") for p in parts)
    converted: list[JsonDict] = []
    for part in parts:
        if part["type"] == "input_image":
            converted.append(
                {
                    "type": "image_url",
                    "image_url": {"url": part["image_url"], "detail": part.get("detail", "auto")},
                }
            )
        else:
            converted.append({"type": "text", "text": part.get("text", "")})
    return converted


@dataclass
class ResponsesParams:
    """The request fields that become the canonical request (the rest are echoed or stored)."""

    instructions: str | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    tools: list[JsonDict] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    text: JsonDict | None = None
    reasoning_effort: str | None = None
    user: str | None = None
    prompt_cache_key: str | None = None


def to_chat_request(conversation: list[JsonDict], params: ResponsesParams) -> ChatRequest:
    messages = items_to_messages(conversation)
    if params.instructions:
        messages.insert(0, {"role": "system", "content": params.instructions})
    tools = tools_to_chat(params.tools)
    return ChatRequest(
        messages=messages,
        max_tokens=params.max_output_tokens,
        temperature=params.temperature,
        top_p=params.top_p,
        tools=tools,
        tool_choice=tool_choice_to_chat(params.tool_choice) if tools else None,
        response_format=text_format_to_chat(params.text),
        user=params.user,
        reasoning_effort=params.reasoning_effort,
        parallel_tool_calls=params.parallel_tool_calls,
        prompt_cache_key=params.prompt_cache_key,
    )


# ---- out: canonical → response ----


def usage_body(usage: Usage) -> JsonDict:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cached_input_tokens or 0,
            "cache_write_tokens": 0,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def message_item(item_id: str, text: str, status: str = "completed") -> JsonDict:
    return {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": [output_text_part(text)],
    }


def output_text_part(text: str) -> JsonDict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def function_call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> JsonDict:
    return {
        "id": item_id,
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def output_items(result: ChatResult) -> list[JsonDict]:
    items: list[JsonDict] = []
    if result.content:
        items.append(message_item(new_id("msg"), result.content, _item_status(result)))
    for call in result.tool_calls or []:
        function = call.get("function") or {}
        items.append(
            function_call_item(
                new_id("fc"),
                call.get("id") or new_id("call"),
                function.get("name", ""),
                function.get("arguments", ""),
            )
        )
    return items


def _item_status(result: ChatResult) -> str:
    return "incomplete" if result.finish_reason == "length" else "completed"


@dataclass
class ResponseFrame:
    """Everything of a response object except its output, status and usage."""

    id: str
    model: str
    created_at: int
    echo: JsonDict = field(default_factory=dict)

    def body(
        self,
        *,
        status: str,
        output: list[JsonDict],
        usage: Usage | None,
        finish_reason: str | None = None,
        error: JsonDict | None = None,
    ) -> JsonDict:
        incomplete = None
        if finish_reason == "length":
            incomplete = {"reason": "max_output_tokens"}
        elif finish_reason == "content_filter":
            incomplete = {"reason": "content_filter"}
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "error": error,
            "incomplete_details": incomplete,
            "model": self.model,
            "output": output,
            "usage": usage_body(usage) if usage is not None else None,
            **self.echo,
        }


def status_for(finish_reason: str | None) -> str:
    return "incomplete" if finish_reason in ("length", "content_filter") else "completed"


def response_body(frame: ResponseFrame, result: ChatResult) -> JsonDict:
    return frame.body(
        status=status_for(result.finish_reason),
        output=output_items(result),
        usage=result.usage,
        finish_reason=result.finish_reason,
    )


def output_text(response: JsonDict) -> str:
    """What the SDK's `Response.output_text` computes: every `output_text` part, joined."""
    return "".join(
        part.get("text", "")
        for item in response.get("output") or []
        if item.get("type") == "message"
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    )


# ---- out: a stream of chunks → events ----


@dataclass
class _OpenItem:
    output_index: int
    item: JsonDict
    text: list[str] = field(default_factory=list)


class ResponseEvents:
    """Turns our chunks into Responses stream events (dicts with `type` and `sequence_number`).

    `start()` opens the stream, `feed(chunk)` relays one chunk, and `finish()` (or `fail()`)
    closes every open item and ends it; `response` is then the final response object.
    """

    def __init__(self, frame: ResponseFrame):
        self._frame = frame
        self._sequence = 0
        self._items: list[_OpenItem] = []
        self._message: _OpenItem | None = None
        self._calls: dict[int, _OpenItem] = {}
        self._finish: str | None = None
        self._usage: Usage | None = None
        self.response: JsonDict | None = None

    def _event(self, kind: str, **fields: Any) -> JsonDict:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event

    def start(self) -> Iterator[JsonDict]:
        opening = self._frame.body(status="in_progress", output=[], usage=None)
        yield self._event("response.created", response=opening)
        yield self._event("response.in_progress", response=opening)

    def feed(self, chunk: ChatChunk) -> Iterator[JsonDict]:
        if chunk.content:
            yield from self._text(chunk.content)
        for delta in chunk.tool_calls or []:
            yield from self._call(delta)
        if chunk.finish_reason:
            self._finish = chunk.finish_reason
        if chunk.usage is not None:
            self._usage = chunk.usage

    def _text(self, text: str) -> Iterator[JsonDict]:
        if self._message is None:
            item = message_item(new_id("msg"), "", "in_progress")
            item["content"] = []
            self._message = _OpenItem(len(self._items), item)
            self._items.append(self._message)
            yield self._event(
                "response.output_item.added", output_index=self._message.output_index, item=item
            )
            yield self._event(
                "response.content_part.added",
                item_id=item["id"],
                output_index=self._message.output_index,
                content_index=0,
                part=output_text_part(""),
            )
        self._message.text.append(text)
        yield self._event(
            "response.output_text.delta",
            item_id=self._message.item["id"],
            output_index=self._message.output_index,
            content_index=0,
            delta=text,
            logprobs=[],
        )

    def _call(self, delta: JsonDict) -> Iterator[JsonDict]:
        index = int(delta.get("index", 0))
        function = delta.get("function") or {}
        open_call = self._calls.get(index)
        if open_call is None:
            item = function_call_item(
                new_id("fc"),
                delta.get("id") or new_id("call"),
                function.get("name") or "",
                "",
                "in_progress",
            )
            open_call = _OpenItem(len(self._items), item)
            self._calls[index] = open_call
            self._items.append(open_call)
            yield self._event(
                "response.output_item.added", output_index=open_call.output_index, item=dict(item)
            )
        elif function.get("name"):
            open_call.item["name"] += function["name"]
        arguments = function.get("arguments") or ""
        if arguments:
            open_call.text.append(arguments)
            yield self._event(
                "response.function_call_arguments.delta",
                item_id=open_call.item["id"],
                output_index=open_call.output_index,
                delta=arguments,
            )

    def _close_items(self, status: str) -> Iterator[JsonDict]:
        for open_item in self._items:
            item = open_item.item
            text = "".join(open_item.text)
            if item["type"] == "message":
                yield self._event(
                    "response.output_text.done",
                    item_id=item["id"],
                    output_index=open_item.output_index,
                    content_index=0,
                    text=text,
                    logprobs=[],
                )
                yield self._event(
                    "response.content_part.done",
                    item_id=item["id"],
                    output_index=open_item.output_index,
                    content_index=0,
                    part=output_text_part(text),
                )
                item["content"] = [output_text_part(text)]
            else:
                yield self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=open_item.output_index,
                    arguments=text,
                )
                item["arguments"] = text
            item["status"] = status
            yield self._event(
                "response.output_item.done", output_index=open_item.output_index, item=item
            )

    def output(self) -> list[JsonDict]:
        return [open_item.item for open_item in self._items]

    def finish(self, fallback_usage: Usage) -> Iterator[JsonDict]:
        status = status_for(self._finish)
        yield from self._close_items("incomplete" if status == "incomplete" else "completed")
        self.response = self._frame.body(
            status=status,
            output=self.output(),
            usage=self._usage or fallback_usage,
            finish_reason=self._finish,
        )
        kind = "response.completed" if status == "completed" else "response.incomplete"
        yield self._event(kind, response=self.response)

    def fail(self, code: str, message: str) -> Iterator[JsonDict]:
        yield from self._close_items("incomplete")
        self.response = self._frame.body(
            status="failed",
            output=self.output(),
            usage=self._usage,
            error={"code": code, "message": message},
        )
        yield self._event("response.failed", response=self.response)


def now() -> int:
    return int(time.time())
