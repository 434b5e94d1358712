"""Logs, metrics and traces through Powertools, built at first use (never at import).

- `get_logger()`: one JSON logger per process; the correlation id comes from the request context
  (`correlation_id`, a context variable the API's middleware sets; it lives here, at the bottom,
  so logging never imports the API).
- `emit_request_metrics(...)`: one EMF blob per request (its own `EphemeralMetrics`, so concurrent
  requests in one uvicorn process never mix their dimensions).
- `invocation_metrics()` / `flush_metrics(...)`: the worker's and the mailer's per-invocation
  `EphemeralMetrics` (nothing piles up across invocations in a warm process).
- `get_tracer()`: Powertools Tracer; a subsegment per provider call (see `router.py`). Outside a
  traced Lambda invocation there is no parent segment and the X-Ray SDK is told to ignore that.
"""

from __future__ import annotations

import contextvars
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Tracer
    from aws_lambda_powertools.metrics import EphemeralMetrics

SERVICE = "inference-core"
NAMESPACE = "InferenceCore"

# The current request's correlation id; set per request by `api.middleware`.
correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")


def current_correlation_id() -> str:
    return correlation_id.get()


class _CorrelationIdFilter(logging.Filter):
    """Stamp every record with the current request's correlation id (a context variable, so
    concurrent requests in one uvicorn process never see each other's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", None):
            cid = current_correlation_id()
            if cid != "-":
                record.correlation_id = cid
        return True


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
    logger.addFilter(_CorrelationIdFilter())
    return logger


@lru_cache(maxsize=1)
def get_tracer() -> Tracer:
    os.environ.setdefault("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
    from aws_lambda_powertools import Tracer

    return Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))


@dataclass
class RequestUsage:
    """What one request cost: the usage ledger line, the log line and the metrics all come from it."""

    request_id: str
    tenant_id: str
    key_id: str | None
    endpoint: str
    model: str
    provider: str | None = None
    deployment: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    cached: bool = False
    status: str = "ok"
    stream: bool = False

    def as_log_fields(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "tenant_id": self.tenant_id,
            "key_id": self.key_id,
            "endpoint": self.endpoint,
            "model": self.model,
            "provider": self.provider,
            "deployment": self.deployment,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 8),
            "latency_ms": round(self.latency_ms, 1),
            "cache_hit": self.cached,
            "status": self.status,
            "stream": self.stream,
        }


def _metrics_disabled() -> bool:
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true")


def invocation_metrics() -> EphemeralMetrics:
    """One Lambda invocation's EMF metrics: its own set, flushed by `flush_metrics`."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    return EphemeralMetrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
        service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE),
    )


def flush_metrics(metrics: EphemeralMetrics) -> None:
    if not _metrics_disabled():
        metrics.flush_metrics()


def emit_request_metrics(usage: RequestUsage) -> None:
    """Requests, latency, tokens, cost, cache hits and errors, per model and provider (EMF)."""
    if _metrics_disabled():
        return
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = invocation_metrics()
    metrics.add_dimension(name="model", value=usage.model or "unknown")
    metrics.add_dimension(
        name="provider", value=usage.provider or ("cache" if usage.cached else "none")
    )
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=usage.latency_ms)
    metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=usage.input_tokens)
    metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=usage.output_tokens)
    metrics.add_metric(name="CostUSD", unit=MetricUnit.NoUnit, value=usage.cost_usd)
    metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=1 if usage.cached else 0)
    metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=0 if usage.status == "ok" else 1)
    metrics.flush_metrics()


def log_request(usage: RequestUsage) -> None:
    get_logger().info("inference request", extra=usage.as_log_fields())
