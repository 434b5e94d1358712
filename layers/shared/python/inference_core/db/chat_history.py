"""`/v1/chat` conversation histories: `chat#<id>` items of the sessions table, owned by one user."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from inference_core.db.availability import StoreGuard
from inference_core.db.models import SessionModel
from inference_core.errors import NotFoundError

KIND = "chat"
_SESSIONS = StoreGuard("The session store is unavailable.")


class ChatHistoryRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def load(self, session_id: str, user_id: str) -> list[dict[str, Any]]:
        """The history of a live session of `user_id`; someone else's (or an expired) one is 404."""
        try:
            with _SESSIONS:
                item = SessionModel.get(f"{KIND}#{session_id}")
        except SessionModel.DoesNotExist:
            raise NotFoundError(
                f"No chat session '{session_id}'.", code="session_not_found"
            ) from None
        if item.kind != KIND or item.user_id != user_id or item.expires_at <= self._now():
            raise NotFoundError(f"No chat session '{session_id}'.", code="session_not_found")
        messages: list[dict[str, Any]] = item.messages or []
        return messages

    def save(
        self,
        session_id: str,
        user_id: str,
        model: str,
        messages: list[dict[str, Any]],
        ttl_seconds: int,
    ) -> None:
        now = int(self._now())
        with _SESSIONS:
            SessionModel(
                f"{KIND}#{session_id}",
                kind=KIND,
                user_id=user_id,
                created_at=now,
                expires_at=now + ttl_seconds,
                model=model,
                messages=messages,
            ).save()
