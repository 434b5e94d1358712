"""Where a governed chat completion's time goes, per phase, in-process.

The real Mangum handler over moto (in-process) and the real OpenAI adapter against the mock
upstream (bench/mock_openai.py); each phase's entry point is wrapped with a wall-clock timer:
auth (the governance resolution of the bearer key), admission (the transaction, in a thread,
concurrent with the cache read), cache, routing (the router minus the provider call), provider
client (the OpenAI SDK call, loopback included), response shaping, settle (the transaction, run
after the body is complete and before the invocation returns), and the rest (Mangum, FastAPI
routing and validation, middleware). Three columns, in interleaved rounds: what our moto server
runs (the item-level rollback of `inference_core.local.moto_transactions` and the parsed-once
expressions of `inference_core.local.moto_expressions`), the rollback alone, and moto's own.
Prints; never fails on a timing.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
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
        outer, _in_phase.name = getattr(_in_phase, "name", None), phase
        try:
            return fn(*args, **kwargs)
        finally:
            _in_phase.name = outer
            spent[phase] += time.perf_counter() - start

    return wrapper


_in_phase = threading.local()  # the sync phase running in this thread (admission, cache, settle)


def time_inside_moto() -> None:
    """Charge the time moto (the local AWS) spends answering to `moto:<phase>`."""
    from moto.core.botocore_stubber import BotocoreStubber

    answer = BotocoreStubber.__call__

    def timed_answer(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return answer(self, *args, **kwargs)
        finally:
            spent[f"moto:{getattr(_in_phase, 'name', None)}"] += time.perf_counter() - start

    BotocoreStubber.__call__ = timed_answer  # type: ignore[method-assign]


def instrument() -> None:
    from inference_core.api.routes import openai_compat
    from inference_core.auth import deps
    from inference_core.db.cache import CacheRepository
    from inference_core.governance import Governance
    from inference_core.inference.service import InferenceService
    from inference_core.providers.openai import OpenAIProvider
    from inference_core.router import Router

    # A warm caller's principal comes from the resolution cache; a cold one is loaded in a thread.
    deps.cached_inference_principal = timed("auth", deps.cached_inference_principal)  # type: ignore[attr-defined]
    deps.inference_principal = timed("auth", deps.inference_principal)  # type: ignore[attr-defined]
    Governance.admit = timed("admission", Governance.admit)  # type: ignore[method-assign]
    CacheRepository.get = timed("cache", CacheRepository.get)  # type: ignore[method-assign]
    Router.chat = timed("routing+provider", Router.chat)  # type: ignore[method-assign]
    OpenAIProvider.chat = timed("provider client", OpenAIProvider.chat)  # type: ignore[method-assign]
    openai_compat.chat_completion_body = timed(  # type: ignore[attr-defined]
        "response shaping", openai_compat.chat_completion_body
    )
    InferenceService._write_settle = timed("settle", InferenceService._write_settle)  # type: ignore[method-assign]


PHASES = (
    "auth",
    "admission",
    "cache",
    "routing",
    "provider client",
    "response shaping",
    "settle",
)
ROUND = 20


def main() -> None:
    """Interleaved rounds of ROUND requests over the local AWS's fixes and without them (moto's
    own rollback copies every table a transaction names; its own expression handling parses on
    every call), at the same table sizes and under the same machine noise."""
    from moto.dynamodb.models import DynamoDBBackend

    from inference_core.local import moto_expressions, moto_transactions

    # column -> (the transaction method, the expression fix on)
    variants = {
        "our moto server": (moto_transactions.transact_write_items, True),
        "moto's expressions": (moto_transactions.transact_write_items, False),
        "moto's own": (moto_transactions.moto_own(), False),
    }
    per_variant: dict[str, defaultdict[str, float]] = {v: defaultdict(float) for v in variants}
    totals = dict.fromkeys(variants, 0.0)
    done = dict.fromkeys(variants, 0)
    with in_process_gateway() as (handler, key):
        instrument()
        time_inside_moto()
        for i in range(5):
            handler(event("/v1/chat/completions", _body(-i - 1), key), Context())
        sent = 0
        while min(done.values()) < REQUESTS:
            for variant, (implementation, expressions) in variants.items():
                DynamoDBBackend.transact_write_items = implementation  # type: ignore[method-assign]
                if expressions:
                    moto_expressions.install()
                else:
                    moto_expressions.uninstall()
                spent.clear()
                count = min(ROUND, REQUESTS - done[variant])
                started = time.perf_counter()
                for _ in range(count):
                    response = handler(event("/v1/chat/completions", _body(sent), key), Context())
                    assert response["statusCode"] == 200, response
                    sent += 1
                totals[variant] += time.perf_counter() - started
                done[variant] += count
                for phase, seconds in spent.items():
                    per_variant[variant][phase] += seconds
        DynamoDBBackend.transact_write_items = moto_transactions.transact_write_items  # type: ignore[method-assign]
        moto_expressions.install()
    print(
        f"Per-phase time of a governed chat completion (cache miss), mean of {REQUESTS} per column,"
        f" interleaved rounds of {ROUND}; in-process: Mangum handler, moto in-process, the OpenAI"
        " SDK to the mock upstream"
    )
    columns = {v: _per_request(per_variant[v], totals[v]) for v in variants}
    print(f"  {'':42s}" + "".join(f" {v:>22s}" for v in variants))
    for phase in (*PHASES, "rest", "total", "moto", "own"):
        label = {
            "rest": "middleware, FastAPI, validation, Mangum",
            "total": "total per request",
            "moto": "  of which inside moto (admission + settle)",
            "own": "  the rest: the gateway's own work",
        }.get(phase, phase)
        note = "  (concurrent with the other)" if phase in ("admission", "cache") else ""
        cells = "".join(f" {columns[v].get(phase, 0.0):19.2f} ms" for v in variants)
        print(f"  {label:42s}{cells}{note}")
    print(
        f"  ({sent} requests in all: the ledger, cache and aggregate tables grew by as many rows)"
    )


def _per_request(spent_by_phase: dict[str, float], total: float) -> dict[str, float]:
    per = {phase: seconds * 1000 / REQUESTS for phase, seconds in spent_by_phase.items()}
    per["routing"] = per.pop("routing+provider") - per["provider client"]
    # The admission's moto time is on the request's path (the cache read's runs alongside it).
    per["moto"] = per.get("moto:admission", 0.0) + per.get("moto:settle", 0.0)
    concurrent = max(per["admission"], per["cache"])
    others = sum(v for k, v in per.items() if k in PHASES and k not in ("admission", "cache"))
    per["total"] = total * 1000 / REQUESTS
    per["rest"] = per["total"] - concurrent - others
    per["own"] = per["total"] - per["moto"]
    return per


def _body(i: int) -> dict[str, Any]:
    return {"model": "bench", "messages": [{"role": "user", "content": f"hi {i}"}]}


if __name__ == "__main__":
    main()
