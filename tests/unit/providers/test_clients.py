"""The SDK client cache both key-holding providers share: one client per (base URL, key name),
kept while the key holds, replaced when it rotates, and no client at all without a key."""

from __future__ import annotations

import pytest

from inference_core.canonical import Deployment
from inference_core.errors import UpstreamUnavailableError
from inference_core.providers.clients import UpstreamClients


class Client:
    def __init__(self, api_key: str, base_url: str):
        self.api_key, self.base_url = api_key, base_url


def clients(keys: dict[str, str]) -> tuple[UpstreamClients[Client], list[Client]]:
    made: list[Client] = []

    def make(api_key: str, base_url: str) -> Client:
        made.append(Client(api_key, base_url))
        return made[-1]

    return UpstreamClients("openai", default_base_url="https://up", make=make, keys=keys.get), made


def test_one_client_per_upstream_and_key_kept_until_the_key_rotates() -> None:
    keys = {"openai": "sk-1", "vllm": "sk-v"}
    cache, made = clients(keys)
    default = Deployment(provider="openai", model="m")
    vllm = Deployment(provider="openai", model="m", base_url="http://vllm/v1", api_key="vllm")

    first = cache.for_deployment(default)
    assert cache.for_deployment(default) is first
    other = cache.for_deployment(vllm)
    assert (other.api_key, other.base_url) == ("sk-v", "http://vllm/v1")
    assert (first.api_key, first.base_url) == ("sk-1", "https://up")

    keys["openai"] = "sk-2"
    rotated = cache.for_deployment(default)
    assert rotated is not first and rotated.api_key == "sk-2"
    assert cache.for_deployment(vllm) is other
    assert len(made) == 3


def test_no_key_or_an_unreadable_secret_is_not_configured_and_makes_no_client() -> None:
    def unreadable(name: str) -> str | None:
        raise ConnectionError("secrets manager unreachable")

    cache, made = clients({})
    with pytest.raises(UpstreamUnavailableError) as caught:
        cache.for_deployment(Deployment(provider="openai", model="m"))
    assert caught.value.code == "provider_not_configured"
    assert not cache.is_configured()

    broken = UpstreamClients[Client](
        "openai", default_base_url="https://up", make=Client, keys=unreadable
    )
    with pytest.raises(UpstreamUnavailableError):
        broken.for_deployment(Deployment(provider="openai", model="m"))
    assert not broken.is_configured()
    assert made == []


def test_without_a_resolver_the_one_key_is_the_providers_own() -> None:
    cache = UpstreamClients[Client](
        "anthropic", default_base_url="https://up", make=Client, api_key="sk-ant"
    )
    assert cache.is_configured()
    assert cache.for_deployment(Deployment(provider="anthropic", model="c")).api_key == "sk-ant"
    with pytest.raises(UpstreamUnavailableError):
        cache.for_deployment(Deployment(provider="anthropic", model="c", api_key="team-b"))
