"""The SDK clients of a key-holding provider (OpenAI, Anthropic): one per upstream and key.

Several OpenAI-compatible upstreams (vLLM, Ollama, Gemini's and Azure's OpenAI endpoints) and
several accounts of one provider coexist in one process: each registry deployment may name its
own `base_url` and `api_key` (a key name), both operator-set, never taken from a request. A key
is resolved by name at every call, so a rotated provider-keys secret takes over without a
restart; the client made with the old value is then replaced. Every client is made here, with
the SDK's own retries off (the router owns the one retry loop).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from inference_core.canonical import Deployment
from inference_core.errors import UpstreamUnavailableError
from inference_core.provider_keys import KeyResolver

ClientT = TypeVar("ClientT")


class UpstreamClients(Generic[ClientT]):
    """One provider's SDK clients, keyed by (base URL, key name)."""

    def __init__(
        self,
        provider: str,
        *,
        sdk: Callable[..., ClientT],
        default_base_url: str,
        timeout_seconds: float,
        http_client: Any = None,
        api_key: str | None = None,
        keys: KeyResolver | None = None,
    ) -> None:
        """`sdk` is the SDK's async client class (`openai.AsyncOpenAI`, `anthropic.AsyncAnthropic`:
        both take the same arguments). `keys` resolves a key by name at call time; without it,
        `api_key` is the one key (named after the provider)."""
        self._provider = provider
        self._sdk = sdk
        self._default_base_url = default_base_url
        self._timeout_seconds = timeout_seconds
        self._http_client = http_client
        self._api_key = api_key
        self._keys = keys
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], tuple[str, ClientT]] = {}

    def key(self, name: str) -> str | None:
        """The key named `name` now; raises when the provider-keys secret cannot be read."""
        if self._keys is None:
            return self._api_key if name == self._provider else None
        return self._keys(name)

    def is_configured(self) -> bool:
        """Whether the provider's own key is present (for `/ready`)."""
        try:
            return bool(self.key(self._provider))
        except Exception:
            return False

    def for_deployment(self, deployment: Deployment) -> ClientT:
        """The client for this deployment's upstream (its `base_url`, its named key), made once
        per (URL, key name) and made again when the key's value has changed (the old client is
        dropped: its in-flight calls finish on their own)."""
        key_name = deployment.api_key or self._provider
        try:
            api_key = self.key(key_name)
        except Exception as exc:  # the provider-keys secret could not be read
            raise not_configured(self._provider, key_name) from exc
        if not api_key:
            raise not_configured(self._provider, key_name)
        base_url = deployment.base_url or self._default_base_url
        with self._lock:
            held = self._clients.get((base_url, key_name))
            if held is not None and held[0] == api_key:
                return held[1]
            client = self._sdk(
                api_key=api_key,
                base_url=base_url,
                timeout=self._timeout_seconds,
                max_retries=0,  # the router owns retries
                http_client=self._http_client,
            )
            self._clients[(base_url, key_name)] = (api_key, client)
            return client


def not_configured(provider: str, key_name: str) -> UpstreamUnavailableError:
    return UpstreamUnavailableError(
        f"The provider '{provider}' is not configured (no API key named '{key_name}').",
        provider=provider,
        code="provider_not_configured",
    )
