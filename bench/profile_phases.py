"""Where a governed chat completion's time goes, per phase, in-process.

The real Mangum handler over moto (in-process) and the real OpenAI adapter against the mock
upstream (bench/mock_openai.py); each phase's entry point is wrapped with a wall-clock timer:
auth (the governance resolution of the bearer key), admission (the transaction, in a thread,
concurrent with the cache read), cache, routing (the router minus the provider call), provider
client (the OpenAI SDK call, loopback included), response shaping, settle (the transaction, run
after the body is complete and before the invocation returns), and the rest (Mangum, FastAPI
routing and validation, middleware). Prints; never fails on a timing.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from dynamodb_calls import Context, event, in_process_gateway  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_PROFILE_REQUESTS", "100"))
spent: defaultdict[str, float] = defaultdict(float)


def timed(phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                spent[phase] += time.perf_counter() - start

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[phase] += time.perf_counter() - start

    return wrapper


def instrument() -> None:
    from inference_core.api.routes import openai_compat
    from inference_core.auth import deps
    from inference_core.db.cache import CacheRepository
    from inference_core.governance import Governance
    from inference_core.inference.service import InferenceService
    from inference_core.providers.openai import OpenAIProvider
    from inference_core.router import Router

    deps.inference_principal = timed("auth", deps.inference_principal)  # type: ignore[attr-defined]
    Governance.admit = timed("admission", Governance.admit)  # type: ignore[method-assign]
    CacheRepository.get = timed("cache", CacheRepository.get)  # type: ignore[method-assign]
    Router.chat = timed("routing+provider", Router.chat)  # type: ignore[method-assign]
    OpenAIProvider.chat = timed("provider client", OpenAIProvider.chat)  # type: ignore[method-assign]
    openai_compat.chat_completion_body = timed(  # type: ignore[attr-defined]
        "response shaping", openai_compat.chat_completion_body
    )
    InferenceService._write_settle = timed("settle", InferenceService._write_settle)  # type: ignore[method-assign]


def main() -> None:
    with in_process_gateway() as (handler, key):
        instrument()
        for i in range(5):
            handler(event("/v1/chat/completions", _body(-i - 1), key), Context())
        spent.clear()
        started = time.perf_counter()
        for i in range(REQUESTS):
            response = handler(event("/v1/chat/completions", _body(i), key), Context())
            assert response["statusCode"] == 200, response
        total = (time.perf_counter() - started) * 1000 / REQUESTS
    per = {phase: seconds * 1000 / REQUESTS for phase, seconds in spent.items()}
    per["routing"] = per.pop("routing+provider") - per["provider client"]
    concurrent = max(per["admission"], per["cache"])
    rest = total - concurrent - sum(v for k, v in per.items() if k not in ("admission", "cache"))
    print(f"Per-phase time of a governed chat completion (cache miss), mean of {REQUESTS},")
    print("in-process: Mangum handler, moto in-process, the OpenAI SDK to the mock upstream")
    for phase in (
        "auth",
        "admission",
        "cache",
        "routing",
        "provider client",
        "response shaping",
        "settle",
    ):
        note = "  (concurrent with the other)" if phase in ("admission", "cache") else ""
        print(f"  {phase:42s} {per[phase]:7.2f} ms{note}")
    print(f"  {'middleware, FastAPI, validation, Mangum':42s} {rest:7.2f} ms")
    print(f"  {'total per request':42s} {total:7.2f} ms")


def _body(i: int) -> dict[str, Any]:
    return {"model": "bench", "messages": [{"role": "user", "content": f"hi {i}"}]}


if __name__ == "__main__":
    main()
