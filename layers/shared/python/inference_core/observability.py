"""Logs, metrics and traces through Powertools, built at first use (never at import).

- `get_logger()`: one JSON logger per process; the correlation id comes from the request context.
- `emit_request_metrics(...)`: one EMF blob per request (its own `EphemeralMetrics`, so concurrent
  requests in one uvicorn process never mix their dimensions).
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

SERVICE = "inference-core"
NAMESPACE = "InferenceCore"


class _CorrelationIdFilter(logging.Filter):
    """Stamp every record with the current request's correlation id (a context variable, so
    concurrent requests in one uvicorn process never see each other's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from inference_core.api.middleware import current_correlation_id

        if not getattr(record, "correlation_id", None):
            cid = current_correlation_id()
            if cid != "-":
                record.correlation_id = cid
        client_id = client_request_id.get()
        if client_id and not getattr(record, "client_request_id", None):
            record.client_request_id = client_id
        return True


# The id a client sent in `X-Request-Id` (validated by `api.middleware`): logged as its own field,
# never as the correlation id.
client_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_request_id", default=None
)


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


def emit_request_metrics(usage: RequestUsage) -> None:
    """Requests, latency, tokens, cost, cache hits and errors, per model and provider (EMF)."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    metrics = EphemeralMetrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
        service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE),
    )
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
