"""The mailer Lambda: the mail queue (SQS) in, one email per message out (SES v2, SMTP fallback).

Thin on purpose: Powertools batch processing calls `send_mail_message` for each record and reports
every failed one in `batchItemFailures`, so SQS redelivers only those and, after `maxReceiveCount`,
moves them to the DLQ. The logic (validation, templates, idempotency, transports) lives in
`inference_core.mail`. The handler string is `handler.handler`; the shared layer is on the path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from inference_core.mail.service import MailRuntime, build_mail_runtime, send_mail_message
from inference_core.observability import (
    flush_metrics,
    get_logger,
    get_tracer,
    invocation_metrics,
)
from inference_core.settings import get_settings

logger = get_logger()
tracer = get_tracer()
# Always answer with `batchItemFailures`, even when every record failed (the default would raise
# instead, and its message would quote every record's error).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@lru_cache(maxsize=1)
def get_mail_runtime() -> MailRuntime:
    """Settings, sender and idempotency store, built at the first message and kept warm."""
    return build_mail_runtime(get_settings())


def make_record_handler(metrics: EphemeralMetrics) -> Callable[..., None]:
    def record_handler(record: SQSRecord, lambda_context: Any | None = None) -> None:
        # A plain subsegment, not `capture_method`: that one logs each failure's traceback, and
        # the service already logs every failure once, masked.
        with tracer.provider.in_subsegment(name="## send_mail_message"):
            runtime = get_mail_runtime()
            try:
                delivery = send_mail_message(
                    record.body,
                    settings=runtime.settings,
                    sender=runtime.sender,
                    idempotency_store=runtime.idempotency_store,
                    lambda_context=lambda_context,
                )
            except Exception:
                metrics.add_metric(name="EmailsFailed", unit=MetricUnit.Count, value=1)
                raise
        if delivery.duplicate:
            metrics.add_metric(name="EmailsDuplicateSkipped", unit=MetricUnit.Count, value=1)
            return
        metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
        if delivery.transport == "smtp":
            metrics.add_metric(name="EmailsSentViaSmtp", unit=MetricUnit.Count, value=1)

    return record_handler


@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # This invocation's own metrics (as the worker's): nothing carries over in a warm process.
    metrics = invocation_metrics()
    metrics.add_metric(
        name="MailMessagesReceived", unit=MetricUnit.Count, value=len(event.get("Records") or [])
    )
    try:
        return dict(
            process_partial_response(
                event=event,
                record_handler=make_record_handler(metrics),
                processor=processor,
                context=context,
            )
        )
    finally:
        flush_metrics(metrics)
