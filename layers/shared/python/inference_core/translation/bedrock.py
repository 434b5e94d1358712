"""Amazon Bedrock's Converse wire format: our canonical (OpenAI-shaped) chat to and from
`Converse` / `ConverseStream` (boto3 `bedrock-runtime`).

Pure functions, no I/O, used by `providers.bedrock`. What Converse cannot express (a remote image
URL, a JSON `response_format`) is a 400 naming the field before anything is sent; a Bedrock answer
of an unexpected shape is an `UpstreamBadResponseError` (the router may fall back).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, Usage
from inference_core.errors import InvalidRequestError, UpstreamBadResponseError

PROVIDER = "bedrock"
# Converse's stop reasons → OpenAI's finish reasons.
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w/+.-]+);base64,(?P<data>.*)$", re.S)


# ---- our request → Converse ----


def converse_request(request: ChatRequest, model_id: str) -> dict[str, Any]:
    """The keyword arguments of `converse` / `converse_stream` (`modelId` is a model id, an
    inference profile id or an ARN, straight from the registry)."""
    if request.response_format is not None and request.response_format.get("type") not in (
        None,
        "text",
    ):
        raise InvalidRequestError(
            "Bedrock deployments do not support `response_format`; ask for JSON in the prompt.",
            param="response_format",
        )
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.get("role")
        if role in ("system", "developer"):
            text = _text(message.get("content"))
            if text:
                system.append({"text": text})
            continue
        if role == "tool":
            blocks = [_tool_result(message)]
            role = "user"
        elif role == "assistant":
            blocks = _assistant_blocks(message)
        else:
            blocks = _user_blocks(message.get("content"))
        if not blocks:
            continue
        if messages and messages[-1]["role"] == role:  # Converse wants the roles to alternate
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})
    kwargs: dict[str, Any] = {"modelId": model_id, "messages": messages}
    if system:
        kwargs["system"] = system
    inference = {
        "maxTokens": request.max_tokens,
        "temperature": request.temperature,
        "topP": request.top_p,
        "stopSequences": request.stop,
    }
    inference = {key: value for key, value in inference.items() if value is not None}
    if inference:
        kwargs["inferenceConfig"] = inference
    tool_config = _tool_config(request, messages)
    if tool_config is not None:
        kwargs["toolConfig"] = tool_config
    return kwargs


def _tool_config(request: ChatRequest, messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not request.tools:
        return None
    has_tool_blocks = any(
        "toolUse" in block or "toolResult" in block for m in messages for block in m["content"]
    )
    choice = request.tool_choice
    if choice == "none" and not has_tool_blocks:
        return None  # Converse has no "none": leaving the tools out means the same
    tools = []
    for tool in request.tools:
        function = tool.get("function") or {}
        spec: dict[str, Any] = {
            "name": function.get("name"),
            "inputSchema": {"json": function.get("parameters") or {"type": "object"}},
        }
        if function.get("description"):
            spec["description"] = function["description"]
        tools.append({"toolSpec": spec})
    config: dict[str, Any] = {"tools": tools}
    if choice == "required":
        config["toolChoice"] = {"any": {}}
    elif choice == "auto":
        config["toolChoice"] = {"auto": {}}
    elif isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        config["toolChoice"] = {"tool": {"name": choice["function"]["name"]}}
    return config


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content or []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append({"text": str(part["text"])})
        elif kind == "image_url":
            blocks.append(_image_block(part.get("image_url")))
        else:
            raise InvalidRequestError(
                f"Bedrock deployments do not accept message content of type {kind!r}.",
                param="messages",
            )
    return blocks


def _image_block(image_url: Any) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    match = _DATA_URL.match(url or "") if isinstance(url, str) else None
    fmt = IMAGE_FORMATS.get(match.group("mime")) if match else None
    if match is None or fmt is None:
        raise InvalidRequestError(
            "Bedrock deployments take images as base64 data URLs (png, jpeg, gif or webp).",
            param="messages",
        )
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError(
            "An image data URL is not valid base64.", param="messages"
        ) from exc
    return {"image": {"format": fmt, "source": {"bytes": data}}}


def _assistant_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    text = _text(message.get("content"))
    blocks: list[dict[str, Any]] = [{"text": text}] if text else []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except ValueError as exc:
            raise InvalidRequestError(
                "A tool call's `arguments` must be a JSON object.", param="messages"
            ) from exc
        if not isinstance(arguments, dict):
            raise InvalidRequestError(
                "A tool call's `arguments` must be a JSON object.", param="messages"
            )
        blocks.append(
            {
                "toolUse": {
                    "toolUseId": call.get("id"),
                    "name": function.get("name"),
                    "input": arguments,
                }
            }
        )
    return blocks


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "toolResult": {
            "toolUseId": message.get("tool_call_id"),
            "content": [{"text": _text(message.get("content"))}],
        }
    }


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


# ---- Converse → ours ----


def chat_result(response: dict[str, Any], model_id: str) -> ChatResult:
    """A `converse` response → `ChatResult` (text blocks joined, `toolUse` blocks as tool calls)."""
    try:
        blocks = response["output"]["message"]["content"]
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        for block in blocks:
            if "text" in block:
                texts.append(str(block["text"]))
            elif "toolUse" in block:
                use = block["toolUse"]
                calls.append(
                    {
                        "id": str(use["toolUseId"]),
                        "type": "function",
                        "function": {
                            "name": str(use["name"]),
                            "arguments": json.dumps(use.get("input") or {}),
                        },
                    }
                )
        finish = STOP_REASONS.get(str(response.get("stopReason")), "stop")
        usage = usage_from(response.get("usage"))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise bad_response(model_id) from exc
    return ChatResult(
        content="".join(texts) if texts else None,
        finish_reason=finish,
        usage=usage,
        tool_calls=calls or None,
    )


def usage_from(raw: Any) -> Usage:
    """Converse's usage; `inputTokens` leaves out the cached and cache-written tokens, which our
    `input_tokens` includes (OpenAI's convention), with the cache reads also in
    `cached_input_tokens`."""
    if not isinstance(raw, dict):
        return Usage()
    cache_read = int(raw.get("cacheReadInputTokens") or 0)
    cache_write = int(raw.get("cacheWriteInputTokens") or 0)
    return Usage(
        input_tokens=int(raw.get("inputTokens") or 0) + cache_read + cache_write,
        output_tokens=int(raw.get("outputTokens") or 0),
        cached_input_tokens=cache_read if "cacheReadInputTokens" in raw else None,
    )


class ConverseStreamState:
    """Turns ConverseStream events into `ChatChunk`s (OpenAI's tool-call delta shape, one tool
    index per `toolUse` block) and keeps the stop reason and usage for the last chunk."""

    def __init__(self, model_id: str):
        self._model_id = model_id
        self.stop_reason: str | None = None
        self.usage: Usage | None = None
        self._tool_index: dict[int, int] = {}

    def on_event(self, event: dict[str, Any], *, retryable: bool) -> ChatChunk | None:
        try:
            return self._on_event(event)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise bad_response(self._model_id, retryable=retryable) from exc

    def _on_event(self, event: dict[str, Any]) -> ChatChunk | None:
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            use = (start.get("start") or {}).get("toolUse")
            if use is None:
                return None
            index = self._tool_index.setdefault(
                int(start.get("contentBlockIndex", 0)), len(self._tool_index)
            )
            return ChatChunk(
                tool_calls=[
                    {
                        "index": index,
                        "id": str(use["toolUseId"]),
                        "type": "function",
                        "function": {"name": str(use["name"]), "arguments": ""},
                    }
                ]
            )
        if "contentBlockDelta" in event:
            block = event["contentBlockDelta"]
            delta = block["delta"]
            if "text" in delta:
                return ChatChunk(content=str(delta["text"])) if delta["text"] else None
            if "toolUse" in delta:
                index = self._tool_index[int(block.get("contentBlockIndex", 0))]
                fragment = str(delta["toolUse"].get("input") or "")
                return ChatChunk(tool_calls=[{"index": index, "function": {"arguments": fragment}}])
            return None  # reasoning content and citations are not passed on
        if "messageStop" in event:
            self.stop_reason = str(event["messageStop"].get("stopReason"))
        elif "metadata" in event:
            self.usage = usage_from(event["metadata"].get("usage"))
        return None

    def final_chunk(self, *, retryable: bool) -> ChatChunk:
        if self.stop_reason is None:
            raise UpstreamBadResponseError(
                f"The Bedrock stream for {self._model_id!r} ended before the answer was complete.",
                retryable=retryable,
                provider=PROVIDER,
            )
        finish = STOP_REASONS.get(self.stop_reason, "stop")
        return ChatChunk(finish_reason=finish, usage=self.usage or Usage())


def bad_response(model_id: str, *, retryable: bool = False) -> UpstreamBadResponseError:
    return UpstreamBadResponseError(
        f"Bedrock sent a response of an unexpected shape for {model_id!r}.",
        retryable=retryable,
        provider=PROVIDER,
    )
