"""How an upstream's HTTP failure becomes one of our `ProviderError`s, the same for every provider.

The status code decides the class and whether the router may retry; the message is ours, short
and safe: it never carries the upstream's body (which can echo the request or a key fragment),
its URL, or a credential.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

from inference_core.errors import (
    ProviderError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

# The code of an upstream 4xx that says *our request* was bad (not the deployment): the router
# raises it at once instead of trying the next deployment, which would be refused the same way.
REQUEST_REJECTED = "upstream_request_rejected"

# The code of a self-hosted deployment that has no copy of its model yet (scaled to zero, still
# loading): the router moves on at once without a retry or a breaker count, and probes it later.
COLD = "upstream_cold"
# Every deployment of the alias is behind an open circuit breaker (or its one trial is taken).
CIRCUIT_OPEN = "circuit_open"
# The router's own refusals, made without a call: they carry when to come back (Retry-After).
ROUTER_REFUSALS = frozenset({COLD, CIRCUIT_OPEN})

# A Retry-After longer than this is not worth waiting for inside one request.
MAX_RETRY_AFTER_SECONDS = 60.0


def error_for_status(
    status: int, *, provider: str, retry_after: float | None = None
) -> ProviderError:
    """Our error for an upstream HTTP status (4xx/5xx)."""
    who = f"The upstream provider '{provider}'"
    if status == 429:
        return UpstreamUnavailableError(
            f"{who} is rate limiting requests (HTTP 429).",
            retryable=True,
            retry_after=retry_after,
            provider=provider,
            code="upstream_rate_limited",
        )
    if status in (401, 403):
        # A bad key at one provider says nothing about the next deployment: move on, don't retry.
        return UpstreamBadResponseError(
            f"{who} rejected the gateway's provider credentials (HTTP {status}).",
            provider=provider,
            code="upstream_credentials_rejected",
        )
    if status in (408, 504):
        return UpstreamTimeoutError(
            f"{who} timed out (HTTP {status}).",
            retryable=True,
            retry_after=retry_after,
            provider=provider,
        )
    if status in (503, 529):
        return UpstreamUnavailableError(
            f"{who} is unavailable or overloaded (HTTP {status}).",
            retryable=True,
            retry_after=retry_after,
            provider=provider,
        )
    if status == 409 or status >= 500:
        return UpstreamBadResponseError(
            f"{who} failed (HTTP {status}).",
            retryable=True,
            retry_after=retry_after,
            provider=provider,
        )
    if status == 404:
        # Usually the deployment names a model the upstream does not have: the next one may.
        return UpstreamBadResponseError(
            f"{who} does not know the configured model (HTTP 404).",
            provider=provider,
            code="upstream_model_not_found",
        )
    return UpstreamBadResponseError(
        f"{who} rejected the request (HTTP {status}).",
        provider=provider,
        code=REQUEST_REJECTED,
    )


def retry_after_seconds(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if any."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return _bounded(float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _bounded(float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return _bounded(when.timestamp() - (time.time() if now is None else now))


def _bounded(seconds: float) -> float | None:
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)
