"""One turn of a server-kept conversation (`POST /v1/chat`): load the history → trim it to the
model's context window → one inference call → save the history with the reply.

The whole history stays stored; only the most recent turns that fit the window go to the model.
The history belongs to its user: another user's session id loads as "not found".
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from inference_core import estimate
from inference_core.canonical import ChatRequest

if TYPE_CHECKING:
    from inference_core.db.chat_history import ChatHistoryRepository
    from inference_core.inference.service import InferenceService


class SessionCaller(Protocol):
    """A caller with a user (a conversation is kept per user)."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def key_id(self) -> str | None: ...
    @property
    def user_id(self) -> str: ...
    def can_use(self, model_alias: str) -> bool: ...


@dataclass
class ChatTurn:
    session_id: str
    reply: str
    model: str
    tokens_generated: int
    cached: bool
    history_length: int  # messages stored after this turn (user and assistant)


class ChatSessionService:
    def __init__(
        self, *, inference: InferenceService, history: ChatHistoryRepository, ttl_seconds: int
    ):
        self.inference = inference
        self.history = history
        self.ttl_seconds = ttl_seconds

    async def turn(
        self,
        caller: SessionCaller,
        message: str,
        *,
        session_id: str | None,
        model: str | None,
        system: str | None,
        max_tokens: int,
        temperature: float | None,
        request_id: str,
        use_cache: bool = True,
    ) -> ChatTurn:
        history: list[dict[str, Any]] = []
        if session_id:
            history = await asyncio.to_thread(self.history.load, session_id, caller.user_id)
        session_id = session_id or uuid.uuid4().hex
        messages = [*history, {"role": "user", "content": message}]
        window = self.inference.registry.resolve(model).context_window
        prompt_system = [{"role": "system", "content": system}] if system else []
        kept = fit_history(messages, prompt_system, window, max_tokens)
        outcome = await self.inference.chat(
            caller,
            ChatRequest(
                messages=[*prompt_system, *kept], max_tokens=max_tokens, temperature=temperature
            ),
            model=model,
            endpoint="chat",
            request_id=request_id,
            use_cache=use_cache,
        )
        reply = outcome.result.content or ""
        messages.append({"role": "assistant", "content": reply})
        await asyncio.to_thread(
            self.history.save,
            session_id,
            caller.user_id,
            outcome.model,
            messages,
            self.ttl_seconds,
        )
        return ChatTurn(
            session_id=session_id,
            reply=reply,
            model=outcome.model,
            tokens_generated=outcome.result.usage.output_tokens,
            cached=outcome.cached,
            history_length=len(messages),
        )


def fit_history(
    messages: list[dict[str, Any]],
    system: list[dict[str, Any]],
    context_window: int,
    max_tokens: int,
) -> list[dict[str, Any]]:
    """The most recent turns that fit the model's context window (by the one estimator). The
    newest user message is always kept: if it alone cannot fit, the inference service refuses
    the request (400)."""
    budget = context_window - max_tokens - estimate.messages_tokens(system)
    kept: list[dict[str, Any]] = []
    used = 0
    for message in reversed(messages):
        used += estimate.messages_tokens([message])
        if kept and used > budget:
            break
        kept.append(message)
    return kept[::-1]
