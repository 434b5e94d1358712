"""`/v1/chat` conversation histories: `chat#<id>` items of the sessions table, owned by one user.

Bounded: a history keeps at most `max_turns` user/assistant turns and `max_bytes` of JSON, the
oldest turns trimmed first, so it never outgrows a DynamoDB item (400 KB). Concurrent turns of
one session both land: `append` adds a turn by optimistic concurrency (read the item, write it back
on the condition that its `version` is unchanged, retry on a lost race) instead of overwriting
the whole history with the one this request loaded. A failure to store a turn after the model
answered is the caller's to report (`HistorySave.saved` false), never an error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import PynamoDBException

from inference_core.db.availability import StoreGuard, error_code, is_condition_failure
from inference_core.db.models import SessionModel
from inference_core.errors import NotFoundError, ServiceUnavailableError
from inference_core.observability import get_logger

KIND = "chat"
_SESSIONS = StoreGuard("The session store is unavailable.")
# Lost races in a row before a turn is given up (each one means another turn of the same session
# landed meanwhile).
MAX_APPEND_ATTEMPTS = 8
DEFAULT_MAX_TURNS = 100
DEFAULT_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class HistorySave:
    saved: bool
    length: int  # messages stored after this turn (what would have been, when not saved)
    trimmed: bool = False  # older turns were dropped to stay within the caps


def _size(messages: list[dict[str, Any]]) -> int:
    return len(json.dumps(messages, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def bound_history(
    messages: list[dict[str, Any]], *, max_turns: int, max_bytes: int
) -> list[dict[str, Any]]:
    """The newest messages within the caps, dropping the oldest first (a turn is two messages)."""
    kept = messages[-2 * max_turns :] if max_turns > 0 else []
    while kept and _size(kept) > max_bytes:
        kept = kept[2:] if len(kept) > 1 else []
    return kept


class ChatHistoryRepository:
    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        max_turns: int = DEFAULT_MAX_TURNS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        self._now = now
        self.max_turns = max_turns
        self.max_bytes = max_bytes

    def _item(self, session_id: str, user_id: str) -> SessionModel | None:
        """The live session item of `user_id`, None if there is none; 404 if someone else's."""
        try:
            with _SESSIONS:
                item = SessionModel.get(f"{KIND}#{session_id}", consistent_read=True)
        except SessionModel.DoesNotExist:
            return None
        if item.kind != KIND or item.user_id != user_id:
            raise NotFoundError(f"No chat session '{session_id}'.", code="session_not_found")
        if item.expires_at <= self._now():
            return None
        return item

    def load(self, session_id: str, user_id: str) -> list[dict[str, Any]]:
        """The history of a live session of `user_id`; someone else's (or an expired) one is 404."""
        item = self._item(session_id, user_id)
        if item is None:
            raise NotFoundError(f"No chat session '{session_id}'.", code="session_not_found")
        messages: list[dict[str, Any]] = item.messages or []
        return messages

    def append(
        self,
        session_id: str,
        user_id: str,
        model: str,
        turn: list[dict[str, Any]],
        ttl_seconds: int,
    ) -> HistorySave:
        """Add `turn` (the user message and the reply) to the stored history, trimmed to the caps.
        Never raises for a store failure: the answer was already produced."""
        key = f"{KIND}#{session_id}"
        length = len(turn)
        for _ in range(MAX_APPEND_ATTEMPTS):
            try:
                item = self._item(session_id, user_id)
            except NotFoundError:
                return HistorySave(saved=False, length=length)
            except ServiceUnavailableError:
                break
            stored: list[dict[str, Any]] = (item.messages or []) if item else []
            combined = [*stored, *turn]
            kept = bound_history(combined, max_turns=self.max_turns, max_bytes=self.max_bytes)
            length = len(kept)
            now = int(self._now())
            version = int(item.version or 0) if item is not None else 0
            fresh = SessionModel(
                key,
                kind=KIND,
                user_id=user_id,
                created_at=int(item.created_at) if item is not None else now,
                expires_at=now + ttl_seconds,
                model=model,
                messages=kept,
                version=version + 1,
            )
            condition = (
                SessionModel.pk.does_not_exist() | (SessionModel.expires_at <= now)
                if item is None
                else (SessionModel.version == version)
                if item.version is not None
                else SessionModel.version.does_not_exist()
            )
            try:
                fresh.save(condition=condition)
            except PynamoDBException as exc:
                if is_condition_failure(exc):
                    continue  # another turn of this session landed first: add ours after it
                get_logger().warning(
                    "chat history not saved (%s)", error_code(exc) or type(exc).__name__
                )
                return HistorySave(saved=False, length=len(combined))
            return HistorySave(saved=True, length=length, trimmed=len(kept) < len(combined))
        get_logger().warning(
            "chat history not saved (store unavailable or too many concurrent turns)"
        )
        return HistorySave(saved=False, length=length)
