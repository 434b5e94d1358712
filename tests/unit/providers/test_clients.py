"""The SDK client cache both key-holding providers share: one client per (base URL, key name),
kept while the key holds, replaced when it rotates, and no client at all without a key."""

from __future__ import annotations

from typing import Any

import pytest

from inference_core.canonical import Deployment
from inference_core.errors import UpstreamUnavailableError
from inference_core.providers.clients import UpstreamClients


class Client:
    """An SDK client class: the arguments both SDKs' async clients take."""

    made: list[Client] = []

    def __init__(
        self, *, api_key: str, base_url: str, timeout: float, max_retries: int, http_client: Any
    ):
        self.api_key, self.base_url = api_key, base_url
        self.timeout, self.max_retries, self.http_client = timeout, max_retries, http_client
        Client.made.append(self)


def cache_of(**options: Any) -> UpstreamClients[Client]:
    return UpstreamClients[Client](
        options.pop("provider", "openai"),
        sdk=Client,
        default_base_url="https://up",
        timeout_seconds=12.5,
        **options,
    )


@pytest.fixture(autouse=True)
def no_clients_yet() -> None:
    Client.made = []


def test_one_client_per_upstream_and_key_kept_until_the_key_rotates() -> None:
    keys = {"openai": "sk-1", "vllm": "sk-v"}
    cache = cache_of(keys=keys.get, http_client="transport")
    default = Deployment(provider="openai", model="m")
    vllm = Deployment(provider="openai", model="m", base_url="http://vllm/v1", api_key="vllm")

    first = cache.for_deployment(default)
    assert cache.for_deployment(default) is first
    other = cache.for_deployment(vllm)
    assert (other.api_key, other.base_url) == ("sk-v", "http://vllm/v1")
    assert (first.api_key, first.base_url) == ("sk-1", "https://up")
    # SDK retries off (the router owns the one retry loop), the timeout and transport passed on
    assert (first.max_retries, first.timeout, first.http_client) == (0, 12.5, "transport")

    keys["openai"] = "sk-2"
    rotated = cache.for_deployment(default)
    assert rotated is not first and rotated.api_key == "sk-2"
    assert cache.for_deployment(vllm) is other
    assert len(Client.made) == 3


def test_no_key_or_an_unreadable_secret_is_not_configured_and_makes_no_client() -> None:
    def unreadable(name: str) -> str | None:
        raise ConnectionError("secrets manager unreachable")

    cache = cache_of(keys={}.get)
    with pytest.raises(UpstreamUnavailableError) as caught:
        cache.for_deployment(Deployment(provider="openai", model="m"))
    assert caught.value.code == "provider_not_configured"
    assert not cache.is_configured()

    broken = cache_of(keys=unreadable)
    with pytest.raises(UpstreamUnavailableError):
        broken.for_deployment(Deployment(provider="openai", model="m"))
    assert not broken.is_configured()
    assert Client.made == []


def test_without_a_resolver_the_one_key_is_the_providers_own() -> None:
    cache = cache_of(provider="anthropic", api_key="sk-ant")
    assert cache.is_configured()
    assert cache.for_deployment(Deployment(provider="anthropic", model="c")).api_key == "sk-ant"
    with pytest.raises(UpstreamUnavailableError):
        cache.for_deployment(Deployment(provider="anthropic", model="c", api_key="team-b"))
