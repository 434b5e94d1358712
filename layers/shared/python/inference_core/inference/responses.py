"""The Responses API as a service: stateful conversations on top of the one inference service.

`create` rebuilds the conversation from the store when `previous_response_id` is given (one
strongly consistent Query), turns it into a canonical chat request and makes one
`InferenceService` call (so resolution and validation, limits, the cache, routing and fallback,
usage and metrics are those of every other door), and stores the response with the whole
conversation it saw unless `store` is false. A stream stores the response when it completes. Another tenant's response id,
or an expired one, is a 404 everywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inference_core import estimate
from inference_core.canonical import Usage
from inference_core.errors import InferenceCoreError, InvalidRequestError
from inference_core.inference.service import Caller, InferenceService
from inference_core.observability import get_logger
from inference_core.translation import responses as tr

if TYPE_CHECKING:
    from inference_core.db.responses import ResponsesRepository
    from inference_core.schemas.responses import ResponseCreateRequest

ENDPOINT = "responses"


@dataclass
class ResponseCreated:
    """A finished response (`body`), or a stream of events (`events`) when one was asked for."""

    cached: bool
    body: dict[str, Any] | None = None
    events: AsyncIterator[dict[str, Any]] | None = None


@dataclass
class InputItemsPage:
    data: list[dict[str, Any]]
    has_more: bool

    def body(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": self.data,
            "first_id": self.data[0]["id"] if self.data else None,
            "last_id": self.data[-1]["id"] if self.data else None,
            "has_more": self.has_more,
        }


class ResponsesService:
    def __init__(
        self, *, inference: InferenceService, store: ResponsesRepository, ttl_seconds: int
    ):
        self.inference = inference
        self.store = store
        self.ttl_seconds = ttl_seconds

    async def create(
        self,
        caller: Caller,
        request: ResponseCreateRequest,
        *,
        request_id: str,
        use_cache: bool = True,
    ) -> ResponseCreated:
        cap = self.inference.settings.inference.max_tokens_cap
        if request.max_output_tokens is not None and request.max_output_tokens > cap:
            # The inference service would refuse it too, naming chat's `max_tokens`.
            raise InvalidRequestError(
                f"max_output_tokens is {request.max_output_tokens}; the most this gateway allows "
                f"is {cap}.",
                code="max_tokens_too_large",
                param="max_output_tokens",
            )
        new_items = tr.normalize_input(request.input)  # bad input is refused before any read
        history: list[dict[str, Any]] = []
        if request.previous_response_id:
            previous, inputs = await asyncio.to_thread(
                self.store.conversation, caller.tenant_id, request.previous_response_id
            )
            history = [*inputs, *previous.get("output", [])]
        conversation = [*history, *new_items]
        chat = tr.to_chat_request(conversation, request.params())
        if not chat.messages:
            raise InvalidRequestError("The input has no message for the model.", param="input")
        common: dict[str, Any] = {
            "model": request.model,
            "endpoint": ENDPOINT,
            "request_id": request_id,
            "use_cache": use_cache,
        }
        response_id, created_at = tr.new_id("resp"), tr.now()

        def frame(model: str) -> tr.ResponseFrame:
            return tr.ResponseFrame(
                id=response_id, model=model, created_at=created_at, echo=request.echo()
            )

        if request.stream:
            outcome = await self.inference.chat_stream(caller, chat, **common)
            events = self._events(
                caller, outcome.chunks, frame(outcome.model), conversation, request.store
            )
            return ResponseCreated(cached=outcome.cached, events=events)
        result = await self.inference.chat(caller, chat, **common)
        body = tr.response_body(frame(result.model), result.result)
        if request.store:
            await asyncio.to_thread(
                self.store.save, caller.tenant_id, body, conversation, ttl_seconds=self.ttl_seconds
            )
        return ResponseCreated(cached=result.cached, body=body)

    async def _events(
        self,
        caller: Caller,
        chunks: AsyncIterator[Any],
        frame: tr.ResponseFrame,
        conversation: list[dict[str, Any]],
        store: bool,
    ) -> AsyncIterator[dict[str, Any]]:
        writer = tr.ResponseEvents(frame)
        for event in writer.start():
            yield event
        try:
            async for chunk in chunks:
                for event in writer.feed(chunk):
                    yield event
        except InferenceCoreError as exc:
            code = "rate_limit_exceeded" if exc.status_code == 429 else "server_error"
            for event in writer.fail(code, exc.message):
                yield event
            return
        finally:
            # A client that hangs up closes this generator: close the upstream stream now (it
            # settles usage as cut short) instead of whenever it is garbage-collected.
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
        fallback = Usage(
            input_tokens=estimate.messages_tokens(tr.items_to_messages(conversation)),
            output_tokens=0,
        )
        for event in writer.finish(fallback):
            if event["type"] in ("response.completed", "response.incomplete") and store:
                # Stored before the last event: a client that continues the moment it sees
                # `response.completed` finds the response.
                assert writer.response is not None
                try:
                    await asyncio.to_thread(
                        self.store.save,
                        caller.tenant_id,
                        writer.response,
                        conversation,
                        ttl_seconds=self.ttl_seconds,
                    )
                except InferenceCoreError as exc:
                    get_logger().warning("streamed response not stored", extra={"error": exc.code})
                    for failed in writer.fail("server_error", exc.message):
                        yield failed
                    return
            yield event

    async def retrieve(self, caller: Caller, response_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.store.get, caller.tenant_id, response_id)

    async def delete(self, caller: Caller, response_id: str) -> dict[str, Any]:
        await asyncio.to_thread(self.store.delete, caller.tenant_id, response_id)
        return {"id": response_id, "object": "response.deleted", "deleted": True}

    async def input_items(
        self,
        caller: Caller,
        response_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int = 20,
        order: str = "desc",
    ) -> InputItemsPage:
        """A page of the input items, newest first unless `order` is `asc`; `after`/`before` are
        item ids of the listing in that order."""
        items = await asyncio.to_thread(self.store.input_items, caller.tenant_id, response_id)
        if order == "desc":
            items = items[::-1]
        ids = [item.get("id") for item in items]
        start, end = 0, len(items)
        if after is not None:
            if after not in ids:
                raise InvalidRequestError(f"No input item '{after}' in this list.", param="after")
            start = ids.index(after) + 1
        if before is not None:
            if before not in ids:
                raise InvalidRequestError(f"No input item '{before}' in this list.", param="before")
            end = ids.index(before)
        window = items[start:end]
        return InputItemsPage(data=window[:limit], has_more=len(window) > limit)
