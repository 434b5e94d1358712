"""One turn of a server-kept conversation (`POST /v1/chat`): load the history → trim it to the
model's context window → one inference call → save the history with the reply.

The whole history stays stored; only the most recent turns that fit the window go to the model.
The history belongs to its user: another user's session id loads as "not found".
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from inference_core import estimate
from inference_core.canonical import ChatRequest

if TYPE_CHECKING:
    from inference_core.db.chat_history import ChatHistoryRepository, HistorySave
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
class ChatTurnStream:
    """A streamed turn: `events` yields the reply's text pieces, then the saved `ChatTurn`."""

    session_id: str
    model: str
    cached: bool
    events: AsyncIterator[str | ChatTurn]


@dataclass
class ChatTurn:
    session_id: str
    reply: str
    model: str
    tokens_generated: int
    cached: bool
    history_length: int  # messages stored after this turn (user and assistant)
    # "trimmed" (older turns dropped to the caps) or "not-saved" (the store failed after the
    # model answered: the answer stands, this turn is not remembered); None when all is well.
    history_warning: str | None = None


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
        session_id, messages, request = await self._prepare(
            caller, message, session_id, model, system, max_tokens, temperature
        )
        outcome = await self.inference.chat(
            caller,
            request,
            model=model,
            endpoint="chat",
            request_id=request_id,
            use_cache=use_cache,
        )
        reply = outcome.result.content or ""
        saved = await self._save(caller, session_id, outcome.model, messages, reply)
        return ChatTurn(
            session_id=session_id,
            reply=reply,
            model=outcome.model,
            tokens_generated=outcome.result.usage.output_tokens,
            cached=outcome.cached,
            history_length=saved.length,
            history_warning=_warning(saved),
        )

    async def turn_stream(
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
    ) -> ChatTurnStream:
        """The turn as a stream of text pieces ending with the saved `ChatTurn`: the reply joins
        the history only once it is whole (a stream cut short saves nothing)."""
        session_id, messages, request = await self._prepare(
            caller, message, session_id, model, system, max_tokens, temperature
        )
        outcome = await self.inference.chat_stream(
            caller,
            request,
            model=model,
            endpoint="chat",
            request_id=request_id,
            use_cache=use_cache,
        )

        async def events() -> AsyncIterator[str | ChatTurn]:
            pieces: list[str] = []
            output_tokens: int | None = None
            try:
                async for chunk in outcome.chunks:
                    if chunk.content:
                        pieces.append(chunk.content)
                        yield chunk.content
                    if chunk.usage is not None:
                        output_tokens = chunk.usage.output_tokens
            finally:
                # A client that hangs up closes this: close the upstream stream now.
                close = getattr(outcome.chunks, "aclose", None)
                if close is not None:
                    await close()
            reply = "".join(pieces)
            saved = await self._save(caller, session_id, outcome.model, messages, reply)
            yield ChatTurn(
                session_id=session_id,
                reply=reply,
                model=outcome.model,
                tokens_generated=output_tokens
                if output_tokens is not None
                else outcome.usage.output_tokens,
                cached=outcome.cached,
                history_length=saved.length,
                history_warning=_warning(saved),
            )

        return ChatTurnStream(session_id, outcome.model, outcome.cached, events())

    async def _prepare(
        self,
        caller: SessionCaller,
        message: str,
        session_id: str | None,
        model: str | None,
        system: str | None,
        max_tokens: int,
        temperature: float | None,
    ) -> tuple[str, list[dict[str, Any]], ChatRequest]:
        """(the session id, the whole history with the new message, the request to send)."""
        history: list[dict[str, Any]] = []
        if session_id:
            history = await asyncio.to_thread(self.history.load, session_id, caller.user_id)
        session_id = session_id or uuid.uuid4().hex
        messages = [*history, {"role": "user", "content": message}]
        window = self.inference.registry.resolve(model).context_window
        prompt_system = [{"role": "system", "content": system}] if system else []
        kept = fit_history(messages, prompt_system, window, max_tokens)
        request = ChatRequest(
            messages=[*prompt_system, *kept], max_tokens=max_tokens, temperature=temperature
        )
        return session_id, messages, request

    async def _save(
        self,
        caller: SessionCaller,
        session_id: str,
        model: str,
        messages: list[dict[str, Any]],
        reply: str,
    ) -> HistorySave:
        # Only this turn is sent: the repository appends it to whatever is stored by now (a
        # concurrent turn of the same session included), trimmed to its caps.
        saved: HistorySave = await asyncio.to_thread(
            self.history.append,
            session_id,
            caller.user_id,
            model,
            [messages[-1], {"role": "assistant", "content": reply}],
            self.ttl_seconds,
        )
        return saved


def _warning(saved: HistorySave) -> str | None:
    if not saved.saved:
        return "not-saved"
    return "trimmed" if saved.trimmed else None


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
