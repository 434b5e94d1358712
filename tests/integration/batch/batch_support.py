"""Shared pieces of the batch suites: the fake upstream, the model registry, webhook fakes,
and JSONL helpers (imported by the conftest and the tests)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from inference_core.auth.principal import Principal
from inference_core.canonical import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    Deployment,
    EmbeddingResult,
    Usage,
)
from inference_core.errors import ProviderError, UpstreamUnavailableError
from inference_core.providers.base import Provider
from inference_core.upstream_errors import REQUEST_REJECTED

REGION = "us-east-1"
MODEL = "fake"

REGISTRY = {
    "default_model": MODEL,
    "models": {
        MODEL: {
            "embeddings": True,
            "deployments": [
                {
                    "provider": "openai",
                    "model": "fake-upstream",
                    "input_price_per_mtok": 1.0,
                    "output_price_per_mtok": 2.0,
                    "context_window": 8192,
                }
            ],
        },
        "other": {
            "deployments": [{"provider": "openai", "model": "other", "context_window": 8192}]
        },
    },
}


# ---- the fake upstream ----


class FakeUpstream(Provider):
    """Answers "echo: <prompt>"; the prompt scripts failures (counted per prompt, thread-safe):

    - `PERMANENT ...`: the upstream refuses the request (never retried);
    - `TRANSIENT<k> ...`: the first k calls fail with a retryable 503, then it answers;
    - `ALWAYS_TRANSIENT ...`: every call fails with a retryable 503.
    """

    name = "openai"

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def _script(self, prompt: str) -> None:
        with self._lock:
            self.calls[prompt] += 1
            count = self.calls[prompt]
        if prompt.startswith("PERMANENT"):
            raise ProviderError(
                "The upstream refused the request (HTTP 400).",
                retryable=False,
                provider="openai",
                code=REQUEST_REJECTED,
            )
        if prompt.startswith("ALWAYS_TRANSIENT"):
            raise UpstreamUnavailableError(
                "The upstream is overloaded.", retryable=True, provider="openai"
            )
        if prompt.startswith("TRANSIENT"):
            failures = int(prompt.split()[0].removeprefix("TRANSIENT"))
            if count <= failures:
                raise UpstreamUnavailableError(
                    "The upstream is overloaded.", retryable=True, provider="openai"
                )

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        prompt = str(request.messages[-1]["content"])
        if self.latency:
            await asyncio.sleep(self.latency)
        self._script(prompt)
        return ChatResult(content=f"echo: {prompt}", finish_reason="stop", usage=Usage(7, 3))

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        result = await self.chat(request, deployment)
        yield ChatChunk(content=result.content, finish_reason="stop", usage=result.usage)

    async def embed(self, inputs: list[str], deployment: Deployment) -> EmbeddingResult:
        for text in inputs:
            self._script(text)
        return EmbeddingResult(
            vectors=[[0.5, 0.25, float(len(t))] for t in inputs], usage=Usage(len(inputs), 0)
        )


def make_inference_service(settings: Any, upstream: Provider) -> Any:
    from inference_core.db.cache import CacheRepository
    from inference_core.db.usage import UsageRepository
    from inference_core.inference.service import InferenceService
    from inference_core.registry import ModelRegistry
    from inference_core.router import Router

    registry = ModelRegistry.from_dict(REGISTRY)

    async def no_sleep(_: float) -> None:
        return None

    router = Router(
        registry, provider_factory=lambda name: upstream, settings=settings, sleep=no_sleep
    )
    return InferenceService(
        settings=settings,
        registry=registry,
        router=router,
        cache=CacheRepository(),
        usage=UsageRepository(),
    )


# ---- webhooks ----


@dataclass
class WebhookReceiver:
    """An httpx transport standing in for the receivers' servers."""

    requests: list[httpx.Request] = field(default_factory=list)
    status: int = 200

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def fake_dns(table: dict[str, str]) -> Callable[..., list[tuple[Any, ...]]]:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise OSError("no such host")
        return [(2, 1, 6, "", (table[host], port))]

    return resolve


PUBLIC_DNS = {
    "hooks.example.com": "93.184.216.34",
    "internal.example.com": "10.0.0.7",
    "metadata.example.com": "169.254.169.254",
}


def chat_line(custom_id: str, prompt: str, **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": MODEL,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": 8,
            **body,
        },
    }


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def read_jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines() if line.strip()]


ALICE = Principal(
    user_id="user-alice",
    role="user",
    key_id="key-alice",
    allowed_models=None,
    rpm_limit=600,
    email="alice@example.com",
)
BOB = Principal(
    user_id="user-bob",
    role="user",
    key_id="key-bob",
    allowed_models=None,
    rpm_limit=600,
    email="bob@example.com",
)
