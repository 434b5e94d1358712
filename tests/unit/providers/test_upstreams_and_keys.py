"""Many upstreams and keys that rotate: each deployment's own base URL and named key, and keys
re-read from the provider-keys secret after `max_age` (no restart). SDKs run unchanged over a
mock transport; the secret is a scripted reader with a fake clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference_core.canonical import ChatRequest, Deployment
from inference_core.errors import UpstreamUnavailableError
from inference_core.provider_keys import ProviderKeys
from inference_core.providers.anthropic import AnthropicProvider
from inference_core.providers.openai import OpenAIProvider
from inference_core.registry import ModelRegistry

from .conftest import FakeUpstream, json_reply
from .test_anthropic_provider import sent_key

pytestmark = pytest.mark.anyio
HI = ChatRequest(messages=[{"role": "user", "content": "hi"}])


def completion() -> Any:
    return json_reply(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "ok"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )


def anthropic_message() -> Any:
    return json_reply(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude",
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )


class Secret:
    """The provider-keys secret as Secrets Manager would return it, changeable between reads."""

    def __init__(self, value: dict[str, str] | None = None):
        self.value = value
        self.reads = 0
        self.failing = False

    def read(self) -> str:
        self.reads += 1
        if self.failing:
            raise ConnectionError("secrets manager unreachable")
        return "" if self.value is None else json.dumps(self.value)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bearer(request: Any) -> str:
    return str(request.headers["authorization"]).removeprefix("Bearer ")


async def test_each_deployment_reaches_its_own_base_url_with_its_own_key() -> None:
    secret = Secret({"openai": "sk-default", "vllm-key": "sk-vllm", "gemini": "sk-gemini"})
    keys = ProviderKeys(read_secret=secret.read)
    upstream = FakeUpstream(completion(), completion(), completion())
    provider = OpenAIProvider(api_key=None, keys=keys.get, http_client=upstream.client())
    vllm = Deployment(
        provider="openai",
        model="llama",
        base_url="http://vllm.internal:8000/v1",
        api_key="vllm-key",
    )
    gemini = Deployment(
        provider="openai",
        model="gemini-2.0-flash",
        base_url="https://generativelanguage.googleapis.com/v1beta/openai",
        api_key="gemini",
    )
    default = Deployment(provider="openai", model="gpt-4o-mini")

    for deployment in (vllm, gemini, default):
        await provider.chat(HI, deployment)

    urls = [str(r.url) for r in upstream.requests]
    assert urls == [
        "http://vllm.internal:8000/v1/chat/completions",
        "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
        "https://api.openai.com/v1/chat/completions",
    ]
    assert [bearer(r) for r in upstream.requests] == ["sk-vllm", "sk-gemini", "sk-default"]
    assert [json.loads(r.content)["model"] for r in upstream.requests] == [
        "llama",
        "gemini-2.0-flash",
        "gpt-4o-mini",
    ]


async def test_two_accounts_of_anthropic_coexist() -> None:
    keys = ProviderKeys(read_secret=Secret({"anthropic": "sk-ant-a", "team-b": "sk-ant-b"}).read)
    upstream = FakeUpstream(anthropic_message(), anthropic_message())
    provider = AnthropicProvider(api_key=None, keys=keys.get, http_client=upstream.client())
    await provider.chat(HI, Deployment(provider="anthropic", model="claude"))
    await provider.chat(HI, Deployment(provider="anthropic", model="claude", api_key="team-b"))
    assert [sent_key(r) for r in upstream.requests] == ["sk-ant-a", "sk-ant-b"]


async def test_a_deployment_whose_named_key_is_missing_is_not_configured_and_sends_nothing() -> (
    None
):
    keys = ProviderKeys(read_secret=Secret({"openai": "sk-default"}).read)
    upstream = FakeUpstream()
    provider = OpenAIProvider(api_key=None, keys=keys.get, http_client=upstream.client())
    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider.chat(HI, Deployment(provider="openai", model="m", api_key="nope"))
    assert caught.value.code == "provider_not_configured" and not caught.value.retryable
    assert upstream.requests == []


async def test_an_instance_started_before_the_secret_was_filled_picks_the_key_up() -> None:
    secret, clock = Secret(None), Clock()
    keys = ProviderKeys(read_secret=secret.read, max_age=300, clock=clock)
    upstream = FakeUpstream(completion())
    provider = OpenAIProvider(api_key=None, keys=keys.get, http_client=upstream.client())
    gpt = Deployment(provider="openai", model="gpt-4o-mini")

    with pytest.raises(UpstreamUnavailableError):
        await provider.chat(HI, gpt)
    assert not provider.is_configured()

    secret.value = {"openai": "sk-filled-later"}
    clock.now += 301
    await provider.chat(HI, gpt)
    assert bearer(upstream.requests[0]) == "sk-filled-later"
    assert provider.is_configured()


async def test_a_rotated_key_takes_over_after_max_age_without_a_restart() -> None:
    secret, clock = Secret({"openai": "sk-old"}), Clock()
    keys = ProviderKeys(read_secret=secret.read, max_age=300, clock=clock)
    upstream = FakeUpstream(completion(), completion(), completion())
    provider = OpenAIProvider(api_key=None, keys=keys.get, http_client=upstream.client())
    gpt = Deployment(provider="openai", model="gpt-4o-mini")

    await provider.chat(HI, gpt)
    secret.value = {"openai": "sk-new"}
    clock.now += 10
    await provider.chat(HI, gpt)  # still cached: no re-read yet
    clock.now += 300
    await provider.chat(HI, gpt)

    assert [bearer(r) for r in upstream.requests] == ["sk-old", "sk-old", "sk-new"]
    assert secret.reads == 2


def test_a_failed_re_read_keeps_the_last_good_keys_and_a_first_failure_is_raised() -> None:
    secret, clock = Secret({"openai": "sk-good"}), Clock()
    keys = ProviderKeys(read_secret=secret.read, max_age=60, clock=clock)
    assert keys.get("openai") == "sk-good"
    secret.failing = True
    clock.now += 61
    assert keys.get("openai") == "sk-good"

    fresh = ProviderKeys(read_secret=secret.read)
    with pytest.raises(ConnectionError):
        fresh.get("openai")


def test_environment_keys_win_and_the_legacy_entry_name_is_read() -> None:
    keys = ProviderKeys(
        direct={"openai": "sk-env"}, read_secret=Secret({"ANTHROPIC_API_KEY": "sk-ant"}).read
    )
    assert keys.get("openai") == "sk-env"
    assert keys.get("anthropic") == "sk-ant"
    assert "sk-" not in repr(keys)


async def test_a_secret_that_cannot_be_read_is_not_configured_not_a_500() -> None:
    secret = Secret()
    secret.failing = True
    provider = OpenAIProvider(api_key=None, keys=ProviderKeys(read_secret=secret.read).get)
    assert not provider.is_configured()
    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider.chat(HI, Deployment(provider="openai", model="m"))
    assert caught.value.code == "provider_not_configured"


def test_the_registry_reads_base_url_and_key_name_per_deployment() -> None:
    registry = ModelRegistry.from_dict(
        {
            "models": {
                "local-llama": {
                    "deployments": [
                        {
                            "provider": "openai",
                            "model": "llama3.1",
                            "base_url": "http://ollama.internal:11434/v1",
                            "api_key": "ollama",
                        },
                        {"provider": "bedrock", "model": "us.meta.llama3-1-8b-instruct-v1:0"},
                    ]
                }
            }
        }
    )
    first, second = registry.resolve("local-llama").deployments
    assert (first.base_url, first.api_key) == ("http://ollama.internal:11434/v1", "ollama")
    assert (second.provider, second.base_url, second.api_key) == ("bedrock", None, None)
    with pytest.raises(ValueError, match="base_url"):
        ModelRegistry.from_dict(
            {
                "models": {
                    "x": {"deployments": [{"provider": "openai", "model": "m", "base_url": 5}]}
                }
            }
        )


def test_two_accounts_of_one_model_are_two_deployments_to_the_circuit_breaker() -> None:
    from inference_core.router import CircuitBreaker

    team_a = Deployment(provider="anthropic", model="claude")
    team_b = Deployment(provider="anthropic", model="claude", api_key="team-b")
    assert (team_a.label, team_b.label) == ("anthropic:claude", "anthropic:claude@team-b")
    breaker = CircuitBreaker(failures=1, cooldown_seconds=60)
    breaker.record_failure(team_a)
    assert breaker.is_open(team_a) and not breaker.is_open(team_b)
