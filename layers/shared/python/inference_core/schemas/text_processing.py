"""Bodies of `/v1/text_processing/*`: one operation over one text, or a small batch of them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

OperationName = Literal["summarize", "sentiment", "key_points", "questions", "qa"]


class TextProcessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: OperationName
    text: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)
    model: str | None = None


class TextBatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: OperationName
    text: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)


class TextBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[TextBatchItem] = Field(min_length=1)
    model: str | None = None


class TextUsage(BaseModel):
    input_tokens: int
    output_tokens: int


class TextProcessResponse(BaseModel):
    operation: str
    template_version: str
    model: str
    result: dict[str, Any]
    cached: bool
    repaired: bool  # the first reply did not fit the schema; a repair call's did
    usage: TextUsage


class TextItemError(BaseModel):
    status: int
    code: str
    message: str


class TextBatchItemResult(BaseModel):
    index: int
    status: Literal["ok", "error"]
    result: TextProcessResponse | None = None
    error: TextItemError | None = None


class TextBatchResponse(BaseModel):
    results: list[TextBatchItemResult]


class TextOperationList(BaseModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
