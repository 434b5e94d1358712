"""Logs, metrics and traces through Powertools, built at first use (never at import).

- `get_logger()`: one JSON logger per process; the correlation id comes from the request context
  (`correlation_id`, a context variable the API's middleware sets; it lives here, at the bottom,
  so logging never imports the API).
- `emit_request_metrics(...)`: one EMF blob per request (its own `EphemeralMetrics`, so concurrent
  requests in one uvicorn process never mix their dimensions).
- `invocation_metrics()` / `flush_metrics(...)`: the worker's and the mailer's per-invocation
  `EphemeralMetrics` (nothing piles up across invocations in a warm process).
- `record_unmetered(...)`: a request whose usage write was lost after its retries: an
  `UnmeteredRequests` metric (alarm on it) and a warning line carrying the whole usage, so the
  request can be billed from the logs.
- `log_access(...)`: one line per HTTP request at its end (method, path, status, latency, and the
  usage `log_request` recorded for it), written by the API's middleware.
- `get_tracer()`: Powertools Tracer; a subsegment per provider call (see `router.py`). Outside a
  traced Lambda invocation there is no parent segment and the X-Ray SDK is told to ignore that.
"""

from __future__ import annotations

import contextvars
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Tracer
    from aws_lambda_powertools.metrics import EphemeralMetrics

SERVICE = "inference-core"
NAMESPACE = "InferenceCore"

# The current request's correlation id; set per request by `api.middleware`.
correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")


def current_correlation_id() -> str:
    return correlation_id.get()


# The usage lines of the current HTTP request, for its access line. A list set by the middleware
# and appended to (not a value re-set) so a route running in a copied context (a thread, a
# streaming task) still reaches the middleware's.
_request_usages: contextvars.ContextVar[list[RequestUsage] | None] = contextvars.ContextVar(
    "request_usages", default=None
)


class _CorrelationIdFilter(logging.Filter):
    """Stamp every record with the current request's correlation id (a context variable, so
    concurrent requests in one uvicorn process never see each other's)."""

    def filter(self, record: logging.LogRecord) -> bool:
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


def send_logs_to(stream: IO[str]) -> None:
    """Write this process's JSON log lines to `stream` instead of stdout (the local stack keeps
    them in `.local/*.log`, so its terminal stays readable)."""
    handler = get_logger().registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(stream)


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


def record_unmetered(usage: RequestUsage) -> None:
    """The usage of `usage`'s request was not written (the settle or the ledger write failed after
    its retries): say so where it lasts (the log, with every usage field) and count it (EMF)."""
    get_logger().warning("request not metered", extra=usage.as_log_fields())
    if _metrics_disabled():
        return
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = invocation_metrics()
    # The service is its only dimension, so one alarm watches every model; the model rides along
    # in the same EMF line (metadata) and in the warning.
    metrics.add_metadata(key="model", value=usage.model or "unknown")
    metrics.add_metric(name="UnmeteredRequests", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()


def emit_guardrail_metrics(checks: list[str], direction: str) -> None:
    """`GuardrailFindings` per check name (`pii.email`), by direction; never the matched text."""
    if _metrics_disabled():
        return
    from aws_lambda_powertools.metrics import MetricUnit

    for check in checks:
        metrics = invocation_metrics()
        metrics.add_dimension(name="check", value=check)
        metrics.add_dimension(name="direction", value=direction)
        metrics.add_metric(name="GuardrailFindings", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()


def log_request(usage: RequestUsage) -> None:
    usages = _request_usages.get()
    if usages is not None:
        usages.append(usage)
    get_logger().info("inference request", extra=usage.as_log_fields())


def start_access_record() -> contextvars.Token[list[RequestUsage] | None]:
    return _request_usages.set([])


def log_access(
    token: contextvars.Token[list[RequestUsage] | None],
    *,
    method: str,
    path: str,
    status: int,
    latency_ms: float,
) -> None:
    """The request's one access line; with the usage of its (last) inference call, if any."""
    usages = _request_usages.get() or []
    _request_usages.reset(token)
    fields: dict[str, Any] = {
        "http_method": method,
        "path": path,
        "status_code": status,
        "latency_ms": round(latency_ms, 1),
    }
    if usages:
        usage = usages[-1]
        fields.update(
            model=usage.model,
            provider=usage.provider,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=round(usage.cost_usd, 8),
            cache_hit=usage.cached,
        )
    get_logger().info("request", extra=fields)
