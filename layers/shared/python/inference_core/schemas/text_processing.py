"""Bodies of `/v1/text_processing/*`: one operation over one text, or a small batch of them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from inference_core.schemas.base import WireModel

OperationName = Literal["summarize", "sentiment", "key_points", "questions", "qa"]


class TextProcessRequest(WireModel):
    model_config = ConfigDict(extra="forbid")

    operation: OperationName
    text: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)
    model: str | None = None


class TextBatchItem(WireModel):
    model_config = ConfigDict(extra="forbid")

    operation: OperationName
    text: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)


class TextBatchRequest(WireModel):
    model_config = ConfigDict(extra="forbid")

    items: list[TextBatchItem] = Field(min_length=1)
    model: str | None = None


class TextUsage(WireModel):
    input_tokens: int
    output_tokens: int


class TextProcessResponse(WireModel):
    operation: str
    template_version: str
    model: str
    result: dict[str, Any]
    cached: bool
    repaired: bool  # the first reply did not fit the schema; a repair call's did
    usage: TextUsage


class TextItemError(WireModel):
    status: int
    code: str
    message: str


class TextBatchItemResult(WireModel):
    index: int
    status: Literal["ok", "error"]
    result: TextProcessResponse | None = None
    error: TextItemError | None = None


class TextBatchResponse(WireModel):
    results: list[TextBatchItemResult]


class TextOperationList(WireModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
