"""The Batches API's request models: the inline form (`POST /v1/batch/jobs`) and the metadata
rule every job follows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from inference_core.errors import InvalidRequestError

MAX_METADATA_PAIRS = 16


def check_metadata(metadata: dict[str, str] | None) -> None:
    if metadata is None:
        return
    if len(metadata) > MAX_METADATA_PAIRS or any(
        not isinstance(v, str) or len(k) > 64 or len(v) > 512 for k, v in metadata.items()
    ):
        raise InvalidRequestError(
            "metadata takes up to 16 string pairs (keys up to 64, values up to 512 characters).",
            param="metadata",
        )


class InlineItem(BaseModel):
    """One request of the inline form: `custom_id`, `model`, and `messages`, `prompt` or
    `input` (chat, completion, embedding), plus that endpoint's parameters."""

    model_config = ConfigDict(extra="allow")

    custom_id: str = Field(min_length=1, max_length=512)
    model: str = Field(min_length=1, max_length=256)
    messages: list[Any] | None = None
    prompt: str | list[str] | None = None
    input: str | list[str] | None = None

    def to_line(self) -> dict[str, Any]:
        given = [n for n in ("messages", "prompt", "input") if getattr(self, n) is not None]
        if len(given) != 1:
            raise InvalidRequestError(
                f"Item '{self.custom_id[:64]}' needs exactly one of 'messages', 'prompt' or 'input'.",
                param="items",
            )
        url = {
            "messages": "/v1/chat/completions",
            "prompt": "/v1/completions",
            "input": "/v1/embeddings",
        }[given[0]]
        body = self.model_dump(exclude_none=True, exclude={"custom_id"})
        return {"custom_id": self.custom_id, "method": "POST", "url": url, "body": body}


class InlineJobRequest(BaseModel):
    """`POST /v1/batch/jobs`: a batch without a file."""

    model_config = ConfigDict(extra="forbid")

    items: list[InlineItem] = Field(min_length=1)
    webhook_url: str | None = Field(default=None, max_length=2048)
    metadata: dict[str, str] | None = None
    completion_window: Literal["24h"] = "24h"
    notify_email: bool | None = None

    @field_validator("items")
    @classmethod
    def _unique(cls, items: list[InlineItem]) -> list[InlineItem]:
        ids = [i.custom_id for i in items]
        if len(set(ids)) != len(ids):
            raise ValueError("custom_id must be unique")
        return items
