"""Batch input files (JSONL, one OpenAI batch request per line): parsing and validation.

A line is `{"custom_id": "...", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`:
`custom_id` unique within the file, `url` one of `ENDPOINTS`, and `body` a valid request for that
endpoint (validated with the same schemas as the API, `stream` refused). Errors name the line
number (1-based, as an editor shows it) and never quote the line's content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inference_core.errors import InvalidRequestError
from inference_core.schemas.openai import (
    ChatCompletionRequest,
    CompletionCreateRequest,
    EmbeddingCreateRequest,
)

ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")
Endpoint = Literal["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]
MAX_CUSTOM_ID_CHARS = 512
# How many line errors an upload's error message lists.
MAX_REPORTED_ERRORS = 5

_SCHEMAS: dict[str, type[BaseModel]] = {
    "/v1/chat/completions": ChatCompletionRequest,
    "/v1/completions": CompletionCreateRequest,
    "/v1/embeddings": EmbeddingCreateRequest,
}


class BatchRequestLine(BaseModel):
    """One line of a batch input file (OpenAI's batch request shape)."""

    model_config = ConfigDict(extra="forbid")

    custom_id: str = Field(min_length=1, max_length=MAX_CUSTOM_ID_CHARS)
    method: Literal["POST"]
    url: Endpoint
    body: dict[str, Any]


@dataclass(frozen=True)
class InputLine:
    index: int  # 0-based among the file's requests
    custom_id: str
    url: str
    body: dict[str, Any]
    offset: int  # byte offset of the line in the file
    length: int  # bytes, without the newline


@dataclass(frozen=True)
class ParsedInput:
    lines: list[InputLine]

    @property
    def endpoints(self) -> set[str]:
        return {line.url for line in self.lines}

    @property
    def endpoint(self) -> str | None:
        """The one endpoint every line uses (None when they mix)."""
        endpoints = self.endpoints
        return next(iter(endpoints)) if len(endpoints) == 1 else None

    @property
    def first_model(self) -> str | None:
        for line in self.lines:
            model = line.body.get("model")
            if isinstance(model, str):
                return model
        return None


def describe_validation_error(exc: ValidationError) -> str:
    """`'messages.0.role': Input should be ...` for the first error, without the input value."""
    errors = exc.errors(include_input=False, include_url=False)
    if not errors:
        return "invalid value"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", "invalid value"))
    return f"'{where}': {message}" if where else message


def validate_body(url: str, body: dict[str, Any]) -> BaseModel:
    """The body as the API's request model for `url`; InvalidRequestError if it is not one."""
    schema = _SCHEMAS.get(url)
    if schema is None:
        raise InvalidRequestError(f"Unsupported url '{url[:64]}'.", code="invalid_url", param="url")
    try:
        request = schema.model_validate(body)
    except ValidationError as exc:
        raise InvalidRequestError(
            f"Invalid request body: {describe_validation_error(exc)}.",
            code="invalid_body",
            param="body",
        ) from None
    if getattr(request, "stream", False):
        raise InvalidRequestError(
            "Streaming is not available in a batch.", code="invalid_body", param="body.stream"
        )
    return request


def parse_line(raw: bytes | str) -> BatchRequestLine:
    """One line, checked for shape (not for its body); InvalidRequestError if malformed."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestError("The line is not valid JSON.", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise InvalidRequestError("The line is not a JSON object.", code="invalid_json")
    try:
        return BatchRequestLine.model_validate(payload)
    except ValidationError as exc:
        raise InvalidRequestError(
            f"Invalid batch request: {describe_validation_error(exc)}.", code="invalid_line"
        ) from None


def parse_input(data: bytes, *, max_lines: int, validate_bodies: bool = True) -> ParsedInput:
    """Every request of a JSONL file, validated; InvalidRequestError listing the first errors.

    Blank lines are skipped (they still count for line numbers).
    """
    lines: list[InputLine] = []
    errors: list[str] = []
    error_count = 0
    seen: dict[str, int] = {}
    offset = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        length = len(raw)
        start = offset
        offset += length + 1
        stripped = raw.strip()
        if not stripped:
            continue
        if len(lines) >= max_lines:
            raise InvalidRequestError(
                f"The file has more than {max_lines} requests, the most a batch may have.",
                code="too_many_requests",
                param="file",
            )
        try:
            line = parse_line(stripped)
            if line.custom_id in seen:
                raise InvalidRequestError(
                    f"custom_id is not unique (line {seen[line.custom_id]} has it too).",
                    code="duplicate_custom_id",
                )
            if validate_bodies:
                validate_body(line.url, line.body)
        except InvalidRequestError as exc:
            error_count += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(f"line {number}: {exc.message.rstrip('.')}")
            continue
        seen[line.custom_id] = number
        lines.append(
            InputLine(
                index=len(lines),
                custom_id=line.custom_id,
                url=line.url,
                body=line.body,
                offset=start,
                length=length,
            )
        )
    if errors:
        more = f" (and {error_count - len(errors)} more)" if error_count > len(errors) else ""
        raise InvalidRequestError(
            "The file is not a valid batch input: " + "; ".join(errors) + more + ".",
            code="invalid_file",
            param="file",
        )
    if not lines:
        raise InvalidRequestError("The file has no requests.", code="empty_file", param="file")
    return ParsedInput(lines)


def to_jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        for line in lines
    )
