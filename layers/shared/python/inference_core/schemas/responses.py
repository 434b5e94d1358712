"""The Responses API request body (`POST /v1/responses`) and the input-items listing query.

Unknown fields are refused (400), as on every other route. The shapes inside `input`, `tools`
and `tool_choice` are checked by `translation.responses`, which names the offending field.
Fields OpenAI defines that the gateway cannot honour are refused with a reason, not dropped:
`background: true`, `truncation: "auto"`, reasoning summaries, `text.verbosity`, logprobs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from inference_core.schemas.openai import ReasoningEffort
from inference_core.translation.responses import ResponsesParams

# `include` values that ask for something this gateway never produces (so honouring them is a
# no-op); anything else (logprobs) is refused.
HARMLESS_INCLUDES = frozenset(
    {
        "reasoning.encrypted_content",
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "code_interpreter_call.outputs",
        "computer_call_output.output.image_url",
        "message.input_image.image_url",
    }
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text", "json_object", "json_schema"]
    name: str | None = Field(default=None, max_length=64)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None


class TextConfig(_Strict):
    format: TextFormat | None = None
    verbosity: None = Field(default=None, description="not supported: omit it (refused when set)")

    def as_dict(self) -> dict[str, Any]:
        if self.format is None:
            return {"format": {"type": "text"}}
        return {"format": self.format.model_dump(by_alias=True, exclude_none=True)}


class ReasoningConfig(_Strict):
    effort: ReasoningEffort | None = None
    summary: None = Field(default=None, description="reasoning summaries are not produced")
    generate_summary: None = None


class StreamOptions(_Strict):
    include_obfuscation: bool | None = None


class ResponseCreateRequest(_Strict):
    model: str = Field(min_length=1, max_length=256)
    input: str | list[dict[str, Any]] = Field(min_length=1)
    instructions: str | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    metadata: dict[str, str] | None = None
    store: bool = True
    previous_response_id: str | None = Field(default=None, min_length=1, max_length=200)
    user: str | None = Field(default=None, max_length=256)
    stream: bool = False
    stream_options: StreamOptions | None = None
    background: bool | None = None
    include: list[str] | None = None
    truncation: Literal["disabled"] | None = None
    prompt_cache_key: str | None = Field(default=None, max_length=1024)
    # Accepted for compatibility; they do not change where or how the request is sent.
    safety_identifier: str | None = Field(default=None, max_length=256)
    service_tier: str | None = None

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and (
            len(value) > 16 or any(len(k) > 64 or len(v) > 512 for k, v in value.items())
        ):
            raise ValueError("at most 16 metadata keys of 64 characters, values of 512")
        return value

    @field_validator("background")
    @classmethod
    def _background(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError(
                "background responses are not supported by this gateway; omit 'background' "
                "(or use stream: true for long answers)"
            )
        return value

    @field_validator("include")
    @classmethod
    def _include(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if name not in HARMLESS_INCLUDES:
                raise ValueError(f"include value {name!r} is not supported")
        return value

    @field_validator("tool_choice")
    @classmethod
    def _tool_choice(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if isinstance(value, str) and value not in ("auto", "none", "required"):
            raise ValueError("tool_choice must be 'auto', 'none', 'required' or an object")
        return value

    def params(self) -> ResponsesParams:
        return ResponsesParams(
            instructions=self.instructions,
            max_output_tokens=self.max_output_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            tools=self.tools,
            tool_choice=self.tool_choice,
            parallel_tool_calls=self.parallel_tool_calls,
            text=self.text.as_dict() if self.text else None,
            reasoning_effort=self.reasoning.effort if self.reasoning else None,
            user=self.user,
            prompt_cache_key=self.prompt_cache_key,
        )

    def echo(self) -> dict[str, Any]:
        """The request fields a response object repeats back."""
        return {
            "instructions": self.instructions,
            "max_output_tokens": self.max_output_tokens,
            "metadata": self.metadata or {},
            "parallel_tool_calls": True
            if self.parallel_tool_calls is None
            else self.parallel_tool_calls,
            "previous_response_id": self.previous_response_id,
            "reasoning": {
                "effort": self.reasoning.effort if self.reasoning else None,
                "summary": None,
            },
            "store": self.store,
            "temperature": self.temperature,
            "text": self.text.as_dict() if self.text else {"format": {"type": "text"}},
            "tool_choice": self.tool_choice if self.tool_choice is not None else "auto",
            "tools": self.tools or [],
            "top_p": self.top_p,
            "truncation": "disabled",
            "user": self.user,
            "background": False,
            "prompt_cache_key": self.prompt_cache_key,
            "safety_identifier": self.safety_identifier,
        }


class InputItemsQuery(_Strict):
    after: str | None = None
    before: str | None = None
    limit: int = Field(default=20, ge=1, le=100)
    order: Literal["asc", "desc"] = "desc"
