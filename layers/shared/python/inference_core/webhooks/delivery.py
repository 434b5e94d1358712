"""Posting a signed webhook: SSRF-checked target, a few quick retries with backoff, no redirects.

A delivery that still fails after `webhook_max_attempts` raises `WebhookDeliveryError`
(retryable: the worker hands it back to SQS, which retries later and, after maxReceiveCount, puts
it on the DLQ). A refused URL (`WebhookTargetRefusedError`) or `410 Gone` is never retried.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx

from inference_core.errors import InvalidRequestError, ServiceUnavailableError
from inference_core.webhooks.guard import Resolver, WebhookTarget, resolve_target
from inference_core.webhooks.signing import sign

if TYPE_CHECKING:
    from inference_core.settings import Settings

USER_AGENT = "inference-core-webhooks/1"


class WebhookDeliveryError(ServiceUnavailableError):
    """The receiver did not accept the webhook (after the in-process retries)."""

    code = "webhook_delivery_failed"


class WebhookGoneError(InvalidRequestError):
    """The receiver answered 410 Gone: it wants no more deliveries."""

    code = "webhook_gone"


class WebhookSender:
    """Sends signed webhooks. `transport` (an httpx async transport) and `resolver` are for tests."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ):
        self.settings = settings
        self._transport = transport
        self._resolver = resolver
        self._sleep = sleep
        self._rng = rng

    def check(self, url: str) -> WebhookTarget:
        """The target `url` would be sent to, or WebhookTargetRefusedError (blocking: DNS)."""
        if self._resolver is not None:
            return resolve_target(url, self.settings, resolver=self._resolver)
        return resolve_target(url, self.settings)

    async def _target(self, url: str) -> WebhookTarget:
        return await asyncio.to_thread(self.check, url)

    async def send(self, url: str, *, key: bytes, webhook_id: str, body: bytes) -> int:
        """Deliver `body` to `url`, signed with `key`; the receiver's status code on success."""
        limits = self.settings.webhooks
        attempts = max(1, limits.webhook_max_attempts)
        last = "no attempt"
        for attempt in range(attempts):
            target = await self._target(url)  # re-resolved each time: DNS may have changed
            headers = {
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                "host": target.host_header,
                **sign(key, webhook_id, body),
            }
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            try:
                async with httpx.AsyncClient(
                    transport=self._transport,
                    timeout=limits.webhook_timeout_seconds,
                    follow_redirects=False,
                    trust_env=False,
                ) as client:
                    response = await client.post(
                        target.pinned_url, content=body, headers=headers, extensions=extensions
                    )
                status = response.status_code
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            else:
                if 200 <= status < 300:
                    return status
                if status == 410:
                    raise WebhookGoneError(
                        "The webhook receiver answered 410 Gone.", param="webhook_url"
                    )
                last = f"HTTP {status}"
            if attempt < attempts - 1:
                ceiling = limits.webhook_retry_base_seconds * 2**attempt
                await self._sleep(ceiling / 2 + self._rng() * ceiling / 2)
        raise WebhookDeliveryError(f"The webhook receiver did not accept the event ({last}).")
