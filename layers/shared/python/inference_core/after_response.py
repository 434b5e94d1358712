"""Work that must happen for a request but not on the client's wait: the settle write.

The HTTP middleware opens a collector per request (`collecting`); the service hands its settle to
`defer`. The middleware runs what was deferred once the client has every byte it needs (the last
body chunk is sent with `more_body=True`: a buffered answer carries its Content-Length, a stream
ends with `[DONE]`) and only then ends the response. Under the Lambda Web Adapter the invocation
lasts until the response ends, so the write is never left to a frozen environment; under Mangum
the response is returned when the app returns, so it is settled before the invocation ends too.
A client that walks away still gets its request settled (`drain` runs in the middleware's
`finally`, shielded). Outside a request (the batch worker, unit tests) `defer` returns False and
the caller awaits the work itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator

Deferred = Callable[[], Awaitable[None]]

_pending: contextvars.ContextVar[list[Deferred] | None] = contextvars.ContextVar(
    "ic_after_response", default=None
)


@contextlib.contextmanager
def collecting() -> Iterator[list[Deferred]]:
    """Collect deferred work for the request running in this context."""
    pending: list[Deferred] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


def defer(work: Deferred) -> bool:
    """Run `work` after the response's last needed byte; False when no request collects it."""
    pending = _pending.get()
    if pending is None:
        return False
    pending.append(work)
    return True


async def drain(pending: list[Deferred]) -> None:
    """Run every deferred piece of work, in order. A failure is logged (the response has been
    sent: there is nobody left to tell); a cancellation lets the work already started finish."""
    while pending:
        work = pending.pop(0)
        try:
            await asyncio.shield(work())
        except asyncio.CancelledError:
            raise
        except Exception:
            from inference_core.observability import get_logger

            get_logger().exception("deferred work after the response failed")
