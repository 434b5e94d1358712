"""Guardrails over the labelled corpus (tests/data/guardrails/*.jsonl): detection and
false-positive counts, and the per-request cost of the checks.

    /work/bin/py bench/guardrails.py        (or: python bench/guardrails.py)

Every check runs in `detect` mode. A case is detected when every check it expects fired; a
benign case (expects nothing) that fires anything is a false positive. Stream cases run through
the stream filter chunk by chunk, so a span split across chunks must still be caught. The counts
are deterministic (the rules are regular expressions); `tests/unit/guardrails` asserts them.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference_core.canonical import ChatChunk, ChatRequest
from inference_core.guardrails.engine import Policy, RequestGuard

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "guardrails"
ALL_DETECT = {
    "injection": "detect",
    "pii": "detect",
    "secrets": "detect",
    "output_pii": "detect",
    "output_secrets": "detect",
}


@dataclass
class Counts:
    cases: int = 0
    must_fire: int = 0
    detected: int = 0
    benign: int = 0
    false_positives: int = 0
    missed: list[str] = field(default_factory=list)
    noisy: list[str] = field(default_factory=list)


def load(corpus: Path = CORPUS) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(json.loads(line))
    return cases


def new_guard() -> RequestGuard:
    return RequestGuard(
        Policy(ALL_DETECT), max_message_chars=100_000, content_types=frozenset({"text"})
    )


def fired_for(case: dict[str, Any]) -> set[str]:
    guard = new_guard()
    if "chunks" in case:

        async def chunks() -> AsyncIterator[ChatChunk]:
            for piece in case["chunks"]:
                yield ChatChunk(content=piece)
            yield ChatChunk(finish_reason="stop")

        async def drain() -> None:
            async for _ in guard.stream(chunks()):
                pass

        asyncio.run(drain())
    else:
        guard.check_input(ChatRequest(messages=[{"role": "user", "content": case["text"]}]))
    return set(guard.fired)


def evaluate(cases: list[dict[str, Any]]) -> Counts:
    counts = Counts()
    for case in cases:
        counts.cases += 1
        fired = fired_for(case)
        expect = set(case["expect"])
        if expect:
            counts.must_fire += 1
            if expect <= fired:
                counts.detected += 1
            else:
                counts.missed.append(case["id"])
        else:
            counts.benign += 1
            if fired:
                counts.false_positives += 1
                counts.noisy.append(case["id"])
    return counts


def cost_per_request_us(cases: list[dict[str, Any]], rounds: int = 20) -> float:
    """Median microseconds to run every input check over one corpus prompt."""
    texts = [c["text"] for c in cases if "text" in c]
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            new_guard().check_input(ChatRequest(messages=[{"role": "user", "content": text}]))
        samples.append((time.perf_counter() - started) / len(texts) * 1e6)
    return statistics.median(samples)


def main() -> None:
    import os

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    cases = load()
    counts = evaluate(cases)
    print(f"cases: {counts.cases}")
    print(f"must fire: {counts.must_fire}, detected: {counts.detected}, missed: {counts.missed}")
    print(
        f"benign: {counts.benign}, false positives: {counts.false_positives} {counts.noisy or ''}"
    )
    print(f"cost per request (input checks, median): {cost_per_request_us(cases):.0f} us")


if __name__ == "__main__":
    main()
