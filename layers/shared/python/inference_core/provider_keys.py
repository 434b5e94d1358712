"""Provider API keys by name, re-read when the provider-keys secret changes, without a restart.

A deployment names its key (`api_key` in the registry: an entry of the provider-keys secret, a
JSON object `{"<name>": "<key>", ...}`); without one, the provider's own name is used (`openai`,
`anthropic`, also spelt `OPENAI_API_KEY`). `IC_OPENAI_API_KEY` / `IC_ANTHROPIC_API_KEY` in the
environment win for those two default names.

The secret is cached for `max_age` seconds (like Powertools Parameters' `max_age`), then read
again on the next use: an instance that started before the secret was filled picks its keys up,
and a rotated key takes over, both within `max_age`. When a re-read fails, the last good copy
keeps serving (a Secrets Manager blip must not take every provider down); with no copy at all,
the failure is raised (the provider then reports itself not configured).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from inference_core.observability import get_logger

if TYPE_CHECKING:
    from inference_core.settings import Settings


KeyResolver = Callable[[str], "str | None"]


class ProviderKeys:
    """`get(name)` → the key, from the environment's keys or the (cached) secret."""

    def __init__(
        self,
        *,
        direct: Mapping[str, str] | None = None,
        read_secret: Callable[[], str] | None = None,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._direct = dict(direct or {})
        self._read_secret = read_secret
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] | None = None
        self._read_at = float("-inf")

    def __repr__(self) -> str:  # never a key
        return f"ProviderKeys(names={sorted(self._direct)}, secret={self._read_secret is not None})"

    def get(self, name: str) -> str | None:
        if self._direct.get(name):
            return self._direct[name]
        if self._read_secret is None:
            return None
        keys = self._secret()
        value = keys.get(name) or keys.get(f"{name.upper()}_API_KEY")
        return str(value) if value else None

    def _secret(self) -> dict[str, Any]:
        with self._lock:
            if self._keys is not None and self._clock() - self._read_at < self._max_age:
                return self._keys
            assert self._read_secret is not None
            try:
                raw = self._read_secret()
                keys = json.loads(raw) if raw else {}
                if not isinstance(keys, dict):
                    raise ValueError("the provider-keys secret is not a JSON object")
            except Exception:
                if self._keys is None:
                    raise
                # Keep the last good copy; try again after another max_age.
                get_logger().warning(
                    "provider-keys secret could not be re-read; keeping the cached copy"
                )
                self._read_at = self._clock()
                return self._keys
            self._keys, self._read_at = keys, self._clock()
            return keys


def provider_keys(settings: Settings) -> ProviderKeys:
    """The process's shared `ProviderKeys` for these settings (one cache per secret)."""
    inference = settings.inference
    direct = {
        name: secret.get_secret_value()
        for name, secret in (
            ("openai", inference.openai_api_key),
            ("anthropic", inference.anthropic_api_key),
        )
        if secret is not None
    }
    return _shared(
        tuple(sorted(direct.items())),
        inference.provider_keys_secret_arn,
        settings.aws.aws_endpoint_url,
        settings.aws.region,
        inference.provider_keys_max_age_seconds,
    )


@lru_cache(maxsize=8)
def _shared(
    direct: tuple[tuple[str, str], ...],
    arn: str | None,
    endpoint_url: str | None,
    region: str,
    max_age: float,
) -> ProviderKeys:
    reader = None
    if arn:

        def reader() -> str:
            return read_secret_string(arn, endpoint_url=endpoint_url, region=region)

    return ProviderKeys(direct=dict(direct), read_secret=reader, max_age=max_age)


def read_secret_string(
    arn: str, *, endpoint_url: str | None = None, region: str | None = None, client: Any = None
) -> str:
    """The secret's current string (no cache of its own: `ProviderKeys` caches)."""
    if client is None:
        import boto3

        client = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    return str(client.get_secret_value(SecretId=arn).get("SecretString") or "")


def reset_provider_keys() -> None:
    """Forget the shared caches (tests)."""
    _shared.cache_clear()
