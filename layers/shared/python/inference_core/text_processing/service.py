"""Run a text operation through the inference service: render its template → one chat call
(so limits, budgets, the cache, usage and guardrails apply as to any request) → parse the reply
against the operation's schema → on a reply that does not fit, ONE repair call that shows the
model its reply and the schema → still no fit: `ModelOutputError` (502).

`batch_process` runs up to `IC_TEXT_PROCESSING_BATCH_MAX_ITEMS` operations, a few at a time, and
reports each item's result or error on its own.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inference_core.canonical import ChatRequest, Usage
from inference_core.errors import InferenceCoreError, InvalidRequestError, ModelOutputError
from inference_core.text_processing.operations import (
    OPERATIONS,
    ModelOutputInvalid,
    Operation,
    get_operation,
    render,
)

if TYPE_CHECKING:
    from inference_core.inference.service import Caller, InferenceService
    from inference_core.settings import TextProcessingSettings

REPAIR_TEMPLATE = "repair.v1.txt"
MAX_REPLY_ECHO_CHARS = 4000


@dataclass
class TextResult:
    operation: str
    template_version: str
    model: str
    result: dict[str, Any]
    cached: bool
    repaired: bool
    usage: Usage = field(default_factory=Usage)


@dataclass
class TextItem:
    operation: str
    text: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemOutcome:
    index: int
    result: TextResult | None = None
    error: InferenceCoreError | None = None


class TextProcessingService:
    def __init__(self, *, inference: InferenceService, settings: TextProcessingSettings):
        self.inference = inference
        self.settings = settings

    def operations(self) -> list[dict[str, Any]]:
        return [op.describe() for op in OPERATIONS.values()]

    async def process(
        self,
        caller: Caller,
        item: TextItem,
        *,
        model: str | None,
        request_id: str,
        use_cache: bool = True,
    ) -> TextResult:
        op = get_operation(item.operation)
        options = op.resolve_options(item.options)
        if len(item.text) > self.settings.max_text_chars:
            raise InvalidRequestError(
                f"The text is {len(item.text)} characters; the limit is "
                f"{self.settings.max_text_chars}.",
                code="text_too_large",
                param="text",
            )
        schema = op.schema(options)
        messages = op.messages(item.text, options)
        ask = _Asker(self, caller, op, schema, model, request_id, use_cache)
        ask.max_tokens = op.max_tokens_for(options)
        reply = await ask(messages)
        try:
            parsed = op.parse(reply, options)
            repaired = False
        except ModelOutputInvalid as problem:
            repair = render(
                REPAIR_TEMPLATE, {"problem": str(problem), "schema": json.dumps(schema)}
            )
            echoed = reply[:MAX_REPLY_ECHO_CHARS].strip() or "(an empty reply)"
            reply = await ask([*messages, {"role": "assistant", "content": echoed}, *repair])
            try:
                parsed = op.parse(reply, options)
            except ModelOutputInvalid as again:
                raise ModelOutputError(
                    f"The model's answer to '{op.name}' did not match the operation's schema, "
                    f"even after one repair attempt: {again}.",
                ) from again
            repaired = True
        return TextResult(op.name, op.version, ask.model, parsed, ask.cached, repaired, ask.usage)

    async def batch_process(
        self,
        caller: Caller,
        items: list[TextItem],
        *,
        model: str | None,
        request_id: str,
        use_cache: bool = True,
    ) -> list[ItemOutcome]:
        limit = self.settings.batch_max_items
        if len(items) > limit:
            raise InvalidRequestError(
                f"A batch takes at most {limit} items (this one has {len(items)}); use the "
                "Batches API (/v1/batches) for larger jobs.",
                code="too_many_items",
                param="items",
            )
        gate = asyncio.Semaphore(max(1, self.settings.batch_concurrency))

        async def one(index: int, item: TextItem) -> ItemOutcome:
            async with gate:
                try:
                    result = await self.process(
                        caller,
                        item,
                        model=model,
                        request_id=f"{request_id}:{index}",
                        use_cache=use_cache,
                    )
                except InferenceCoreError as exc:
                    return ItemOutcome(index, error=exc)
                return ItemOutcome(index, result=result)

        return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(items))))


class _Asker:
    """The chat calls of one operation (first try and repair), summing their usage."""

    def __init__(
        self,
        owner: TextProcessingService,
        caller: Caller,
        op: Operation,
        schema: dict[str, Any],
        model: str | None,
        request_id: str,
        use_cache: bool,
    ):
        self.owner = owner
        self.caller = caller
        self.op = op
        self.schema = schema
        self.alias = model
        self.request_id = request_id
        self.use_cache = use_cache
        self.structured = owner.settings.structured_output
        self.max_tokens = op.max_tokens
        self.model = model or ""
        self.cached = True
        self.usage = Usage()

    async def __call__(self, messages: list[dict[str, Any]]) -> str:
        fmt = None
        if self.structured:
            fmt = {
                "type": "json_schema",
                "json_schema": {"name": self.op.name, "schema": self.schema},
            }
        request = ChatRequest(
            messages=messages,
            max_tokens=self.max_tokens,
            temperature=0,
            response_format=fmt,
        )
        try:
            outcome = await self._chat(request)
        except InvalidRequestError as exc:
            if fmt is None or exc.param != "response_format":
                raise
            # This provider takes no structured output: ask in plain text (the parser copes).
            self.structured = False
            request.response_format = None
            outcome = await self._chat(request)
        self.model = outcome.model
        self.cached = self.cached and outcome.cached
        self.usage.input_tokens += outcome.result.usage.input_tokens
        self.usage.output_tokens += outcome.result.usage.output_tokens
        return outcome.result.content or ""

    async def _chat(self, request: ChatRequest) -> Any:
        return await self.owner.inference.chat(
            self.caller,
            request,
            model=self.alias,
            endpoint=f"text_processing.{self.op.name}",
            request_id=self.request_id,
            use_cache=self.use_cache,
        )
