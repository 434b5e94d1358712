"""What the local model server copies of the pinned TGI 3.0.1 container, so the local stack and
the tests see the wire format production sees (TGI's `router/src/lib.rs` and `server.rs`, v3.0.1).

- `response_format` is TGI's `GrammarType`: `{"type": "json" | "json_object", "value": <schema>}`
  or `{"type": "regex", "value": ...}`; anything else (OpenAI's `json_schema`) is a 422, and so is
  a grammar together with tools.
- Tools are a JSON grammar over `{"function": {"_name": <tool>, <arguments>...}}` (plus a
  `no_tool` choice under `tool_choice: auto`). A whole answer carries `tool_calls: [{"id": "0",
  "function": {"name", "arguments": <object>, "description": null}}]`; a stream carries, per token,
  `tool_calls` as ONE object with `name: null` and the token text as `arguments`.
- Every message needs `content` (a string or text/image_url parts).

Pure functions: the server feeds llama.cpp's output through them.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

SYSTEM_FINGERPRINT = "3.0.1-native"
# TGI's `default_tool_prompt()`, appended to the last message with the tools (its "default tool
# template", used when the model's chat template does not render `tools` itself, as SmolLM2's).
DEFAULT_TOOL_PROMPT = (
    "\nGiven the functions available, please respond with a JSON for a function call with its "
    "proper arguments that best answers the given prompt. Respond in the format {name: function "
    "name, parameters: dictionary of argument name and its value}.Do not use variables.\n"
)
_FUNCTION_NAME = re.compile(r'\{"function":\{"_name":"([^"]+)"')
_NO_TOOL = {
    "type": "object",
    "properties": {"content": {"type": "string", "description": "The response content"}},
    "required": ["content"],
}


class TgiRequestError(Exception):
    """A body the container refuses with a 422 (TGI's status for validation and tool errors)."""


def check_messages(messages: list[Any]) -> None:
    for position, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, (str, list)):
            raise TgiRequestError(
                f"Failed to deserialize the JSON body into the target type: messages[{position}]:"
                " data did not match any variant of untagged enum MessageContent"
            )


def grammar_schema(body: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The JSON schema the generation is constrained to, and whether it is the tool grammar."""
    schema, tools = _grammar(body)
    return schema, tools is not None


def tool_prompt(body: dict[str, Any]) -> str | None:
    """What TGI appends to the last message when tools are in use (None: no tools)."""
    _, tools = _grammar(body)
    if tools is None:
        return None
    prompt = body.get("tool_prompt") or DEFAULT_TOOL_PROMPT
    return f"\n---\n{json.dumps(tools)}\n{prompt}"


def _grammar(body: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    response_format = body.get("response_format")
    tools = body.get("tools")
    if response_format is not None and tools:
        raise TgiRequestError("Tool error: Grammar and tools are mutually exclusive")
    if response_format is not None:
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind not in ("json", "json_object", "regex") or "value" not in response_format:
            raise TgiRequestError(
                "Failed to deserialize the JSON body into the target type: response_format: "
                f"unknown variant `{kind}`, expected `json` or `regex`"
            )
        if kind == "regex":
            raise TgiRequestError("Input validation error: regex grammars are not served locally")
        value = response_format["value"]
        schema = json.loads(value) if isinstance(value, str) else value
        return schema, None
    if tools:
        return tool_grammar(tools, body.get("tool_choice"))
    return None, None


def tool_grammar(
    tools: list[dict[str, Any]], tool_choice: Any
) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    """TGI's `ToolGrammar::apply`: one self-contained JSON schema, and the tools it offers."""
    functions = {t["function"]["name"]: t["function"] for t in tools}
    if tool_choice == "none":
        return None, None
    if isinstance(tool_choice, dict) or (
        isinstance(tool_choice, str) and tool_choice not in ("auto", "required")
    ):
        name = tool_choice["function"]["name"] if isinstance(tool_choice, dict) else tool_choice
        if name not in functions:
            raise TgiRequestError(f"Tool error: Tool with name {name} not found")
        chosen = [functions[name]]
    else:
        chosen = list(functions.values())
        if tool_choice in (None, "auto"):
            chosen.append(
                {
                    "name": "no_tool",
                    "description": "Open ended response with no specific tool selected",
                    "parameters": _NO_TOOL,
                }
            )
    variants = []
    for function in chosen:
        parameters = function.get("parameters") or function.get("arguments") or {}
        variants.append(
            {
                "type": "object",
                "properties": {
                    "_name": {"type": "string", "const": function["name"]},
                    **(parameters.get("properties") or {}),
                },
                "required": ["_name", *(parameters.get("required") or [])],
                "additionalProperties": False,
            }
        )
    schema = {
        "type": "object",
        "properties": {"function": variants[0] if len(variants) == 1 else {"anyOf": variants}},
        "required": ["function"],
        "additionalProperties": False,
    }
    offered = [
        {
            "type": "function",
            "function": {
                "name": f["name"],
                "description": f.get("description"),
                "arguments": f.get("parameters") or f.get("arguments") or {},
            },
        }
        for f in chosen
    ]
    return schema, offered


def completion(
    *, model: str, text: str, as_tools: bool, finish_reason: str, usage: dict[str, int]
) -> dict[str, Any]:
    """A whole `chat.completion` as TGI 3.0.1 writes it."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if as_tools:
        function = _generated_function(text)
        name = function.pop("_name")
        if name == "no_tool":
            message = {"role": "assistant", "content": str(function.get("content", ""))}
        else:
            message = {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "0",
                        "type": "function",
                        "function": {"description": None, "name": name, "arguments": function},
                    }
                ],
            }
    return {
        "object": "chat.completion",
        "id": "",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        ],
        "usage": usage,
    }


def chunk(
    *,
    model: str,
    text: str,
    as_tool: bool,
    finish_reason: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One `chat.completion.chunk` as TGI 3.0.1's `ChatCompletionChunk::new` builds it."""
    if as_tool:
        delta: dict[str, Any] = {
            "role": "assistant",
            "tool_calls": {
                "index": 0,
                "id": "",
                "type": "function",
                "function": {"name": None, "arguments": text},
            },
        }
    else:
        delta = {"role": "assistant", "content": text}
    return {
        "object": "chat.completion.chunk",
        "id": "",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage,
    }


class ToolStream:
    """TGI's streaming state machine under the tool grammar: buffer tokens until the function
    name is known; a real tool streams every token as a tool delta, `no_tool` streams only the
    text inside `"content":"..."` as content and stops at its closing quote."""

    def __init__(self) -> None:
        self._state = "buffering"
        self._buffer: list[str] = []
        self._squashed = ""
        self.as_tool = True
        self.finished = False

    def feed(self, token: str) -> list[tuple[str, bool]]:
        """The (text, as_tool) pieces to send for this token."""
        if self.finished:
            return []
        if self._state == "buffering":
            self._buffer.append(token)
            self._squashed += token.replace(" ", "")
            match = _FUNCTION_NAME.search(self._squashed)
            if match is None:
                return []
            if match.group(1) != "no_tool":
                self._state = "content"
                out = [(t, True) for t in self._buffer]
                self._buffer = []
                return out
            self._state, self.as_tool = "trailing", False
            self._buffer, self._squashed = [], ""
            return []
        if self._state == "trailing":
            self._squashed += token.replace(" ", "")
            infix = '"content":"'
            at = self._squashed.find(infix)
            if at < 0:
                return []
            rest = self._squashed[at + len(infix) :]
            self._state = "skip_close_quote"
            if '"' in rest:
                self.finished = True
                rest = rest.split('"', 1)[0]
            return [(rest, False)] if rest else []
        if self._state == "skip_close_quote":
            if '"' in token:
                self.finished = True
                head = token.split('"', 1)[0]
                return [(head, False)] if head else []
            return [(token, False)]
        return [(token, True)]


def _generated_function(text: str) -> dict[str, Any]:
    try:
        generated = json.loads(text)
        function = dict(generated["function"])
        function["_name"]
    except (KeyError, TypeError, ValueError) as exc:
        raise TgiRequestError("Tool error: No function found in generated text") from exc
    return function
