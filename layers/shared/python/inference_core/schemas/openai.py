"""OpenAI-compatible request bodies: `/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`.

Unknown top-level fields are refused (400): a client cannot smuggle in `api_base`, `api_key` or
anything else that would steer where the gateway sends its provider keys. Fields OpenAI defines
but we do not act on are accepted and ignored only where ignoring them cannot change the answer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inference_core import input_limits
from inference_core.canonical import ChatRequest, CompletionRequest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["text", "image_url", "input_audio", "file", "refusal"]
    text: str | None = None


class ToolCallFunction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: str


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    type: Literal["function"] = "function"
    function: ToolCallFunction


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None

    @model_validator(mode="after")
    def _content_rules(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a 'tool' message needs 'tool_call_id'")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a '{self.role}' message needs 'content'")
        return self

    def text_length(self) -> int:
        if isinstance(self.content, str):
            return len(self.content)
        if isinstance(self.content, list):
            return sum(len(p.text or "") for p in self.content)
        return sum(len(t.function.arguments) for t in self.tool_calls or [])


class StreamOptions(_Strict):
    include_usage: bool = False
    include_obfuscation: bool | None = None


class FunctionDef(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Strict):
    type: Literal["function"]
    function: FunctionDef


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


def check_logit_bias(value: dict[str, float] | None) -> dict[str, float] | None:
    if value is not None and any(not -100 <= bias <= 100 for bias in value.values()):
        raise ValueError("logit_bias values must be between -100 and 100")
    return value


class ChatCompletionRequest(_Strict):
    model: str = Field(min_length=1, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    user: str | None = Field(default=None, max_length=256)
    # Forwarded where the model's deployments honour them, else refused (see parameters.py).
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    logit_bias: dict[str, float] | None = None
    reasoning_effort: ReasoningEffort | None = None
    prompt_cache_key: str | None = Field(default=None, max_length=1024)
    # Accepted for compatibility; they do not change where or how the request is sent.
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    modalities: list[str] | None = None
    safety_identifier: str | None = None

    @field_validator("messages", mode="before")
    @classmethod
    def _message_count(cls, value: Any) -> Any:
        # Before the items are parsed: 25,000 of them are refused without building 25,000 models.
        if isinstance(value, list):
            input_limits.check_message_count(len(value))
        return value

    @field_validator("tools", mode="before")
    @classmethod
    def _tool_limits(cls, value: Any) -> Any:
        if isinstance(value, list):
            input_limits.check_tools(value)
        return value

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    @field_validator("response_format")
    @classmethod
    def _response_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") not in ("text", "json_object", "json_schema"):
            raise ValueError("response_format.type must be 'text', 'json_object' or 'json_schema'")
        return value

    @field_validator("logit_bias")
    @classmethod
    def _logit_bias(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return check_logit_bias(value)

    @model_validator(mode="after")
    def _top_logprobs_needs_logprobs(self) -> ChatCompletionRequest:
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("top_logprobs needs logprobs: true")
        return self

    def prompt_chars(self) -> int:
        return sum(m.text_length() for m in self.messages)

    def effective_max_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def to_chat_request(self) -> ChatRequest:
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        return ChatRequest(
            messages=[m.model_dump(exclude_none=True) for m in self.messages],
            max_tokens=self.effective_max_tokens(),
            temperature=self.temperature,
            top_p=self.top_p,
            stop=stop,
            tools=[t.model_dump(exclude_none=True) for t in self.tools] if self.tools else None,
            tool_choice=self.tool_choice,
            response_format=self.response_format,
            seed=self.seed,
            user=self.user,
            reasoning_effort=self.reasoning_effort,
            presence_penalty=self.presence_penalty,
            frequency_penalty=self.frequency_penalty,
            logit_bias=self.logit_bias,
            parallel_tool_calls=self.parallel_tool_calls,
            prompt_cache_key=self.prompt_cache_key,
            logprobs=self.logprobs,
            top_logprobs=self.top_logprobs,
        )


class CompletionCreateRequest(_Strict):
    model: str = Field(min_length=1, max_length=256)
    prompt: str | list[str]
    max_tokens: int | None = Field(default=16, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = Field(default=None, max_length=256)
    echo: bool | None = None
    logprobs: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    best_of: int | None = Field(default=None, ge=1, le=1)
    logit_bias: dict[str, float] | None = None
    suffix: str | None = None

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and len(value) != 1:
            raise ValueError("exactly one prompt per request is supported")
        if (value if isinstance(value, str) else value[0]) == "":
            raise ValueError("the prompt must not be empty")
        return value

    @property
    def prompt_text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]

    def to_completion_request(self) -> CompletionRequest:
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        return CompletionRequest(
            prompt=self.prompt_text,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=stop,
            seed=self.seed,
        )


class EmbeddingCreateRequest(_Strict):
    model: str = Field(min_length=1, max_length=256)
    input: str | list[str] = Field(min_length=1)
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = Field(default=None, max_length=256)

    @field_validator("input")
    @classmethod
    def _inputs(cls, value: str | list[str]) -> str | list[str]:
        items = [value] if isinstance(value, str) else value
        if len(items) > 2048:
            raise ValueError("at most 2048 inputs per request")
        if any(item == "" for item in items):
            raise ValueError("inputs must not be empty strings")
        return value

    @property
    def inputs(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)
