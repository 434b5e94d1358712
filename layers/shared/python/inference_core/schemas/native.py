"""The gateway's own simple endpoints: `/v1/generate` and `/v1/chat` (with server-kept history)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    max_tokens: int = Field(default=128, ge=1)
    temperature: float = Field(default=0.7, ge=0, le=2)
    model: str | None = None
    # Server-sent events: `{"text": piece}` per piece, then the whole answer with `"done": true`.
    stream: bool = False


class GenerateResponse(BaseModel):
    generated_text: str
    model: str
    tokens_generated: int
    cached: bool


class ChatTurnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1)
    session_id: str | None = Field(default=None, min_length=1, max_length=128)
    model: str | None = None
    system: str | None = None
    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.7, ge=0, le=2)
    stream: bool = False


class ChatTurnResponse(BaseModel):
    session_id: str
    reply: str
    model: str
    tokens_generated: int
    cached: bool
    history_length: int
