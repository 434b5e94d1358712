"""The inference routes over moto, with the real router in front of a scripted upstream provider
(the one stand-in here: the real adapters are tested against recorded-shape fake upstreams in
tests/unit, and against the real local model in tests/e2e)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from inference_core.canonical import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    Deployment,
    EmbeddingResult,
    Usage,
)
from inference_core.providers.base import Provider

REGISTRY = {
    "default_model": "scripted",
    "models": {
        "scripted": {
            "embeddings": True,
            "deployments": [
                {
                    "provider": "sagemaker",
                    "model": "primary",
                    "input_price_per_mtok": 3.0,
                    "output_price_per_mtok": 15.0,
                    "context_window": 4000,
                },
                {
                    "provider": "sagemaker",
                    "model": "fallback",
                    "input_price_per_mtok": 1.0,
                    "output_price_per_mtok": 2.0,
                    "context_window": 4000,
                },
            ],
        },
        "other": {
            "deployments": [{"provider": "sagemaker", "model": "primary", "context_window": 4000}]
        },
    },
}


@dataclass
class ScriptedUpstream(Provider):
    """Answers "Hello from <deployment>"; `failures[deployment]` lists errors to raise first."""

    name: str = "sagemaker"
    calls: list[str] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    # What the provider was asked (after the guardrails), in order.
    requests: list[ChatRequest] = field(default_factory=list)

    def _maybe_fail(self, deployment: Deployment) -> None:
        self.calls.append(deployment.model)
        pending = self.failures.get(deployment.model)
        if pending:
            raise pending.pop(0)

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        self.requests.append(request)
        self._maybe_fail(deployment)
        return ChatResult(f"Hello from {deployment.model}", "stop", Usage(11, 5))

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncIterator[ChatChunk]:
        self._maybe_fail(deployment)
        for word in ("Hello", " from", f" {deployment.model}"):
            yield ChatChunk(content=word)
        yield ChatChunk(finish_reason="stop", usage=Usage(11, 5))

    async def embed(self, inputs: list[str], deployment: Deployment) -> EmbeddingResult:
        self._maybe_fail(deployment)
        return EmbeddingResult([[float(len(t)), 1.0, 0.5] for t in inputs], Usage(len(inputs), 0))


@pytest.fixture
def upstream(
    aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[ScriptedUpstream]:
    """Point the app's inference service at the scripted upstream through the real Router."""
    import json

    from inference_core.api.deps import reset_dependencies
    from inference_core.settings import get_settings

    registry = tmp_path / "models.json"
    registry.write_text(json.dumps(REGISTRY))
    monkeypatch.setenv("IC_MODEL_REGISTRY_PATH", str(registry))
    monkeypatch.setenv("IC_RETRY_BASE_DELAY_SECONDS", "0.001")
    monkeypatch.setenv("IC_RETRY_MAX_DELAY_SECONDS", "0.002")
    monkeypatch.setenv("IC_MAX_TOKENS_CAP", "1000")
    monkeypatch.setenv("IC_MAX_PROMPT_CHARS", "50000")
    get_settings.cache_clear()
    reset_dependencies()
    fake = ScriptedUpstream()
    monkeypatch.setattr("inference_core.providers.create_provider", lambda name, settings: fake)
    yield fake
    reset_dependencies()
