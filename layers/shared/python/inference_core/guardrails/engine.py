"""The guardrail engine: scan text with the rules, and apply a policy to a request (before the
provider sees it), to an answer and to a stream (before the client sees it).

`RequestGuard` is built per request from the caller's policy (`policy_for`). It raises
`GuardrailBlockedError` for a `block` check (naming the checks, never the text), replaces spans
with typed placeholders for `redact`, and records `detect` hits; every hit is logged and counted
by check name only. Loaded lazily by the inference service: importing the API does not import it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, overload

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, CompletionRequest
from inference_core.errors import GuardrailBlockedError
from inference_core.guardrails import note_fired
from inference_core.guardrails.rules import (
    INJECTION_RULES,
    MARKUP_RULES,
    PII_RULES,
    SECRET_RULES,
    Rule,
)

# The stream filter never holds back more than this many characters (about 32 tokens with the
# estimator's four characters a token); a span longer than this is caught in a stream only if
# it arrives within one window (docs/guardrails.md).
MAX_STREAM_WINDOW = 128

_INPUT_RULES: dict[str, tuple[Rule, ...]] = {
    "injection": INJECTION_RULES,
    "secrets": SECRET_RULES,
    "pii": PII_RULES,
}
_OUTPUT_RULES: dict[str, tuple[Rule, ...]] = {
    "output_secrets": SECRET_RULES,
    "output_pii": PII_RULES,
    "output_markup": MARKUP_RULES,
}
_INJECTION_ROLES = ("user", "tool", "function")


@dataclass(frozen=True)
class Finding:
    rule: Rule
    start: int
    end: int
    name: str  # the policy key that matched: "pii.email" or "output_pii.email"
    mode: str


def scan(text: str, rules: Iterable[Rule]) -> list[tuple[Rule, int, int]]:
    """Non-overlapping matches in `text`, the earlier rule winning an overlap, sorted by start."""
    taken: list[tuple[Rule, int, int]] = []
    for rule in rules:
        for match in rule.pattern.finditer(text):
            start, end = match.span()
            if start == end or (rule.validate is not None and not rule.validate(match.group())):
                continue
            if any(start < e and s < end for _, s, e in taken):
                continue
            taken.append((rule, start, end))
    return sorted(taken, key=lambda t: t[1])


def redact(text: str, findings: Iterable[Finding]) -> str:
    out: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.mode != "redact":
            continue
        out.append(text[position : finding.start])
        out.append(finding.rule.placeholder)
        position = finding.end
    out.append(text[position:])
    return "".join(out)


class Policy:
    """Modes per check, with per-rule overrides (`pii.email`); unknown checks are off."""

    def __init__(self, modes: Mapping[str, str]):
        self.modes = dict(modes)

    def mode(self, check: str, rule: str | None = None) -> str:
        if rule is not None and f"{check}.{rule}" in self.modes:
            return self.modes[f"{check}.{rule}"]
        return self.modes.get(check, "off")

    def active(self, groups: Mapping[str, tuple[Rule, ...]]) -> list[tuple[str, Rule, str]]:
        """(check, rule, mode) for every rule of `groups` that is not off."""
        found = []
        for check, rules in groups.items():
            for rule in rules:
                mode = self.mode(check, rule.name)
                if mode != "off":
                    found.append((check, rule, mode))
        return found

    @property
    def is_off(self) -> bool:
        return all(mode == "off" for mode in self.modes.values())


def policy_for(settings: Any, caller: Any) -> Policy:
    """The deployment's policy, then the caller's team's, then its key's (settings first, then a
    `guardrails` map the team or key item carries, as the admin API sets it)."""
    guard = settings.guardrails
    modes: dict[str, str] = dict(guard.policy)
    team_id = getattr(caller, "team_id", None)
    key_id = getattr(caller, "key_id", None)
    layers: list[Mapping[str, str] | None] = [
        guard.team_policies.get(team_id) if team_id else None,
        getattr(caller, "team_guardrails", None),
        guard.key_policies.get(key_id) if key_id else None,
        getattr(caller, "guardrails", None),
    ]
    for layer in layers:
        for name, mode in (layer or {}).items():
            # A check set at this level overrides the rule-level entries of the levels below.
            for key in [k for k in modes if k.startswith(name + ".")]:
                del modes[key]
            modes[name] = mode
    return Policy(modes)


class RequestGuard:
    """One request's guardrails: input, answer and stream, and what fired."""

    def __init__(self, policy: Policy, *, max_message_chars: int, content_types: frozenset[str]):
        self.policy = policy
        self.max_message_chars = max_message_chars
        self.content_types = content_types
        self.fired: list[str] = []
        self._reported = 0
        self._input = [
            (check, rule, mode)
            for check, rule, mode in policy.active(_INPUT_RULES)
            if check != "injection"
        ]
        self._injection = [t for t in policy.active(_INPUT_RULES) if t[0] == "injection"]
        self._output = policy.active(_OUTPUT_RULES)
        # Whether an input check can rewrite text (then a pass-through body is rewritten too).
        self._input_redacts = policy.mode("size") == "redact" or any(
            mode == "redact" for _, _, mode in self._input + self._injection
        )

    # ---- in ----

    @overload
    def check_input(self, request: ChatRequest) -> ChatRequest: ...
    @overload
    def check_input(self, request: CompletionRequest) -> CompletionRequest: ...
    @overload
    def check_input(
        self, request: ChatRequest | CompletionRequest
    ) -> ChatRequest | CompletionRequest: ...

    def check_input(
        self, request: ChatRequest | CompletionRequest
    ) -> ChatRequest | CompletionRequest:
        """The request as the provider may see it (redacted), or GuardrailBlockedError."""
        blocked: list[str] = []
        if isinstance(request, CompletionRequest):
            prompt = self._text(request.prompt, "user", blocked, param="prompt")
            result: ChatRequest | CompletionRequest = dataclasses.replace(request, prompt=prompt)
        else:
            messages = [self._message(m, blocked) for m in request.messages]
            result = dataclasses.replace(request, messages=messages)
            if request.anthropic is not None and self._input_redacts and not blocked:
                # An Anthropic deployment is sent the client's own body, not `messages`.
                body = self._anthropic_body(request.anthropic.body, blocked)
                result.anthropic = dataclasses.replace(request.anthropic, body=body)
        self._report("input")
        if blocked:
            raise self._refused(blocked)
        return result

    def check_embedding_inputs(self, inputs: list[str]) -> list[str]:
        """The `/v1/embeddings` inputs as the provider may see them (each checked as user text:
        injection, secrets, PII, size), or GuardrailBlockedError."""
        blocked: list[str] = []
        checked = [self._text(text, "user", blocked) for text in inputs]
        self._report("input")
        if blocked:
            raise self._refused(blocked)
        return checked

    def _refused(self, blocked: list[str]) -> GuardrailBlockedError:
        names = sorted(set(blocked))
        return GuardrailBlockedError(
            f"The request was blocked by the guardrail check(s): {', '.join(names)}.",
            checks=names,
        )

    def _message(self, message: dict[str, Any], blocked: list[str]) -> dict[str, Any]:
        role = str(message.get("role", "user"))
        message = self._tool_calls(message, blocked)
        content = message.get("content")
        if isinstance(content, str):
            return {**message, "content": self._text(content, role, blocked)}
        if not isinstance(content, list):
            return message
        parts: list[Any] = []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if isinstance(part, dict) and kind not in self.content_types:
                mode = self.policy.mode("content_type")
                if mode != "off":
                    self._hit("content_type", mode, blocked)
                    if mode == "redact":
                        continue  # the part is dropped
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                part = {**part, "text": self._text(part["text"], role, blocked)}
            parts.append(part)
        return {**message, "content": parts}

    # A pass-through Messages body (`ChatRequest.anthropic`): its checks already ran on the
    # canonical `messages` translated from it; here the same rules rewrite its own text so the
    # Anthropic deployment sees what any other would (roles as in the translation: `system`,
    # `user`/`assistant`, a `tool_result` as `tool`, a `tool_use` input as the assistant's).

    def _anthropic_body(self, body: dict[str, Any], blocked: list[str]) -> dict[str, Any]:
        checked = dict(body)
        system = body.get("system")
        if isinstance(system, str):
            checked["system"] = self._text(system, "system", blocked)
        elif isinstance(system, list):
            checked["system"] = [self._anthropic_block(b, "system", blocked) for b in system]
        messages = body.get("messages")
        if isinstance(messages, list):
            checked["messages"] = [self._anthropic_message(m, blocked) for m in messages]
        return checked

    def _anthropic_message(self, message: Any, blocked: list[str]) -> Any:
        if not isinstance(message, dict):
            return message
        role = str(message.get("role", "user"))
        content = message.get("content")
        if isinstance(content, str):
            return {**message, "content": self._text(content, role, blocked)}
        if isinstance(content, list):
            return {
                **message,
                "content": [self._anthropic_block(b, role, blocked) for b in content],
            }
        return message

    def _anthropic_block(self, block: Any, role: str, blocked: list[str]) -> Any:
        if not isinstance(block, dict):
            return block
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            return {**block, "text": self._text(block["text"], role, blocked)}
        if kind == "tool_result":
            content = block.get("content")
            if isinstance(content, str):
                return {**block, "content": self._text(content, "tool", blocked)}
            if isinstance(content, list):
                return {
                    **block,
                    "content": [self._anthropic_block(b, "tool", blocked) for b in content],
                }
        if kind == "tool_use" and "input" in block:
            return {**block, "input": self._json_strings(block["input"], "assistant", blocked)}
        return block

    def _tool_calls(self, message: dict[str, Any], blocked: list[str]) -> dict[str, Any]:
        """An assistant message's tool calls (and the legacy `function_call`) with their
        arguments checked: the client sends them back with the conversation, so they reach the
        provider like any other text. Checked as the assistant's text (no injection check, as for
        the assistant's content); the tool's answer is a `tool` message, checked as such."""
        calls = message.get("tool_calls")
        legacy = message.get("function_call")
        if not isinstance(calls, list) and not isinstance(legacy, dict):
            return message
        checked = dict(message)
        if isinstance(calls, list):
            checked["tool_calls"] = [self._tool_call(call, blocked) for call in calls]
        if isinstance(legacy, dict):
            checked["function_call"] = self._function(legacy, blocked)
        return checked

    def _tool_call(self, call: Any, blocked: list[str]) -> Any:
        if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
            return call
        return {**call, "function": self._function(call["function"], blocked)}

    def _function(self, function: dict[str, Any], blocked: list[str]) -> dict[str, Any]:
        arguments = function.get("arguments")
        if not isinstance(arguments, str) or not arguments:
            return function
        return {**function, "arguments": self._arguments(arguments, "assistant", blocked)}

    def _arguments(self, arguments: str, role: str, blocked: list[str]) -> str:
        """Tool-call arguments, a JSON text: each string value is checked on its own and the JSON
        is rewritten only when a value was redacted (a placeholder never breaks it); arguments
        that are not JSON are checked as plain text."""
        try:
            parsed = json.loads(arguments)
        except ValueError:
            return self._text(arguments, role, blocked)
        checked = self._json_strings(parsed, role, blocked)
        return arguments if checked == parsed else json.dumps(checked, ensure_ascii=False)

    def _json_strings(self, value: Any, role: str, blocked: list[str]) -> Any:
        if isinstance(value, str):
            return self._text(value, role, blocked)
        if isinstance(value, list):
            return [self._json_strings(item, role, blocked) for item in value]
        if isinstance(value, dict):
            return {key: self._json_strings(item, role, blocked) for key, item in value.items()}
        return value

    def _text(self, text: str, role: str, blocked: list[str], *, param: str | None = None) -> str:
        if len(text) > self.max_message_chars:
            mode = self.policy.mode("size")
            if mode != "off":
                self._hit("size", mode, blocked)
                if mode == "redact":
                    text = text[: self.max_message_chars]
        active = self._input + (self._injection if role in _INJECTION_ROLES else [])
        findings = self._findings(text, active)
        for finding in findings:
            self._hit(finding.name, finding.mode, blocked)
        return redact(text, findings) if findings else text

    # ---- out ----

    def check_result(self, result: ChatResult) -> ChatResult:
        if not self._output or not result.content:
            return result
        blocked: list[str] = []
        findings = self._findings(result.content, self._output)
        for finding in findings:
            self._hit(finding.name, finding.mode, blocked)
        self._report("output")
        if blocked:
            raise self._withheld(blocked)
        checked = dataclasses.replace(result, content=redact(result.content, findings))
        if result.anthropic_message is not None and findings:
            # A pass-through answer reaches the client as Anthropic's own message: its text
            # blocks are what must be redacted (each scanned on its own).
            checked.anthropic_message = self._anthropic_answer(result.anthropic_message)
        return checked

    def _anthropic_answer(self, message: dict[str, Any]) -> dict[str, Any]:
        content = []
        for block in message.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "text" and block.get("text"):
                text = block["text"]
                block = {**block, "text": redact(text, self._findings(text, self._output))}
            content.append(block)
        return {**message, "content": content}

    @property
    def stream_window(self) -> int:
        """How many characters the stream filter holds back: the longest span the active output
        rules can match, at most MAX_STREAM_WINDOW."""
        if not self._output:
            return 0
        return min(MAX_STREAM_WINDOW, max(rule.max_span for _, rule, _ in self._output))

    async def stream(self, chunks: AsyncIterator[ChatChunk]) -> AsyncIterator[ChatChunk]:
        """Relay a stream with the output checks applied: text is held back by `stream_window`
        characters so that a span split across chunks is still caught whole."""
        if not self._output:
            async for chunk in chunks:
                yield chunk
            return
        pending = ""
        held: dict[int, str] = {}  # a pass-through stream's held-back text, per content block
        try:
            async for chunk in chunks:
                if chunk.anthropic_event is not None:
                    for checked in self._native_event(chunk, held):
                        yield checked
                    continue
                if chunk.content:
                    pending += chunk.content
                    final = bool(chunk.finish_reason or chunk.usage)
                    released, pending = self._release(pending, final=final)
                    rest = dataclasses.replace(chunk, content=released or None)
                    if rest.content or rest.tool_calls or rest.finish_reason or rest.usage:
                        yield rest
                    continue
                if pending and (chunk.finish_reason or chunk.usage):
                    tail, pending = self._release(pending, final=True)
                    if tail:
                        yield ChatChunk(content=tail)
                yield chunk
            if pending:
                tail, pending = self._release(pending, final=True)
                if tail:
                    yield ChatChunk(content=tail)
            for checked in self._flush_native(held, list(held)):
                yield checked
        finally:
            self._report("output")
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()

    def _native_event(self, chunk: ChatChunk, held: dict[int, str]) -> list[ChatChunk]:
        """A pass-through stream (Anthropic's own events, relayed to the client as they are):
        the filter works on the events' `text_delta`s, per content block, and a block's held-back
        text goes out as one more `text_delta` just before the block closes. A cached answer
        replayed as events is filtered the same way."""
        event = chunk.anthropic_event or {}
        kind = event.get("type")
        index = event.get("index", 0)
        delta = event.get("delta")
        if (
            kind == "content_block_delta"
            and isinstance(delta, dict)
            and delta.get("type") == "text_delta"
            and isinstance(delta.get("text"), str)
            and isinstance(index, int)
        ):
            released, held[index] = self._release(held.get(index, "") + delta["text"], final=False)
            if not released:
                return []
            text_event = {**event, "delta": {**delta, "text": released}}
            return [dataclasses.replace(chunk, content=released, anthropic_event=text_event)]
        if kind == "content_block_stop" and isinstance(index, int):
            return [*self._flush_native(held, [index]), chunk]
        if kind in ("message_delta", "message_stop"):
            return [*self._flush_native(held, list(held)), chunk]
        return [chunk]

    def _flush_native(self, held: dict[int, str], indexes: list[int]) -> list[ChatChunk]:
        out = []
        for index in indexes:
            pending = held.pop(index, "")
            if not pending:
                continue
            tail, _ = self._release(pending, final=True)
            if tail:
                event = {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": tail},
                }
                out.append(ChatChunk(content=tail, anthropic_event=event))
        return out

    def _release(self, pending: str, *, final: bool) -> tuple[str, str]:
        """(the text that may go to the client now, the text still held back)."""
        findings = self._findings(pending, self._output)
        blocked: list[str] = []
        boundary = len(pending) if final else max(0, len(pending) - self.stream_window)
        if not final:
            # Cut at whitespace so that the next scan does not start inside a word.
            space = max(pending.rfind(" ", 0, boundary), pending.rfind("\n", 0, boundary))
            boundary = space + 1 if space >= 0 else 0
            for finding in findings:
                if finding.start < boundary < finding.end:
                    boundary = finding.end
        released = [f for f in findings if f.end <= boundary]
        for finding in released:
            self._hit(finding.name, finding.mode, blocked)
        if blocked:
            self._report("output")
            raise self._withheld(blocked)
        return redact(pending[:boundary], released), pending[boundary:]

    # ---- shared ----

    def _findings(self, text: str, active: list[tuple[str, Rule, str]]) -> list[Finding]:
        if not active or not text:
            return []
        by_rule = {id(rule): (check, mode) for check, rule, mode in active}
        found = []
        for rule, start, end in scan(text, [rule for _, rule, _ in active]):
            check, mode = by_rule[id(rule)]
            found.append(Finding(rule, start, end, f"{check}.{rule.name}", mode))
        return found

    def _hit(self, name: str, mode: str, blocked: list[str]) -> None:
        if name not in self.fired:
            self.fired.append(name)
        if mode == "block":
            blocked.append(name)

    def _withheld(self, blocked: list[str]) -> GuardrailBlockedError:
        names = sorted(set(blocked))
        return GuardrailBlockedError(
            f"The model's answer was withheld by the guardrail check(s): {', '.join(names)}.",
            checks=names,
        )

    def _report(self, direction: str) -> None:
        """Log and count what fired since the last report: names only, never the text."""
        new = self.fired[self._reported :]
        if not new:
            return
        self._reported = len(self.fired)
        note_fired(new)
        from inference_core.observability import emit_guardrail_metrics, get_logger

        modes = {name: self.policy.mode(*name.split(".", 1)) for name in new}
        get_logger().info(
            "guardrails fired",
            extra={"guardrail_direction": direction, "guardrail_checks": modes},
        )
        emit_guardrail_metrics(new, direction)


def request_guard(settings: Any, caller: Any) -> RequestGuard | None:
    """The caller's guard, or None when every check is off for them."""
    policy = policy_for(settings, caller)
    if policy.is_off:
        return None
    return RequestGuard(
        policy,
        max_message_chars=settings.guardrails.max_message_chars,
        content_types=settings.guardrails.content_types,
    )
