"""Caps on the shape of an inference request: how many messages, how many tools, how big a tool.

The size cap and the token estimate (`estimate`) bound what a prompt weighs; these bound how many
pieces it has, so a body of 25,000 empty messages is a fast 400 before any model time (and before
parsing each piece). The OpenAI schemas call them from their validators and the Anthropic
translation from its parser; the figures are settings (`IC_MAX_MESSAGES`, `IC_MAX_TOOLS`,
`IC_MAX_TOOL_CHARS`), read at first use.
"""

from __future__ import annotations

import json
from typing import Any

from inference_core.errors import InvalidRequestError


def _limits() -> Any:
    from inference_core.settings import get_settings

    return get_settings().inference


def check_message_count(count: int) -> None:
    limit = _limits().max_messages
    if count > limit:
        raise InvalidRequestError(
            f"messages: at most {limit} messages per request (got {count}).",
            code="too_many_messages",
            param="messages",
        )


def check_tools(tools: list[Any]) -> None:
    """The number of tools, and the size of each definition as JSON."""
    limits = _limits()
    if len(tools) > limits.max_tools:
        raise InvalidRequestError(
            f"tools: at most {limits.max_tools} tools per request (got {len(tools)}).",
            code="too_many_tools",
            param="tools",
        )
    for position, tool in enumerate(tools):
        size = len(json.dumps(tool, ensure_ascii=False, separators=(",", ":"), default=str))
        if size > limits.max_tool_chars:
            raise InvalidRequestError(
                f"tools[{position}]: a tool definition may hold at most "
                f"{limits.max_tool_chars} characters (got {size}).",
                code="tool_too_large",
                param="tools",
            )
