"""SDK clients per upstream: one per (base URL, key name), made again when that key rotates.

Several OpenAI-compatible upstreams (vLLM, Ollama, Gemini's and Azure's OpenAI endpoints) and
several accounts of one provider coexist in one process: each registry deployment may name its
own `base_url` and `api_key` (a key name), both operator-set, never taken from a request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from inference_core.errors import UpstreamUnavailableError

ClientT = TypeVar("ClientT")


class UpstreamClients(Generic[ClientT]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], tuple[str, ClientT]] = {}

    def get(
        self, base_url: str, key_name: str, api_key: str, make: Callable[[], ClientT]
    ) -> ClientT:
        """The client for (base_url, key_name); a new one once the key's value has changed (the
        old one is dropped: its in-flight calls finish on their own)."""
        with self._lock:
            held = self._clients.get((base_url, key_name))
            if held is not None and held[0] == api_key:
                return held[1]
            client = make()
            self._clients[(base_url, key_name)] = (api_key, client)
            return client


def not_configured(provider: str, key_name: str) -> UpstreamUnavailableError:
    return UpstreamUnavailableError(
        f"The provider '{provider}' is not configured (no API key named '{key_name}').",
        provider=provider,
        code="provider_not_configured",
    )
