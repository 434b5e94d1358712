"""The batch worker Lambda: the batch queue (SQS) in, line outcomes and finished jobs out.

Thin on purpose: Powertools' async batch processing calls `BatchWorker.process` for every record
of the invocation, at most `IC_BATCH_WORKER_CONCURRENCY` at a time, and reports each failed record
in `batchItemFailures` (so SQS redelivers only those). The logic (idempotency, retries, the DLQ,
the finalizer) lives in `inference_core.batch.worker`. All records run on one event loop that is
kept across invocations, so the async clients inside the inference service stay usable. The
handler string is `handler.handler`; the shared layer is on the path.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from inference_core.batch.runtime import get_batch_runtime
from inference_core.batch.worker import BatchWorker, Invocation
from inference_core.observability import (
    flush_metrics,
    get_logger,
    get_tracer,
    invocation_metrics,
)

logger = get_logger()
tracer = get_tracer()


_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def worker_loop() -> asyncio.AbstractEventLoop:
    """The process's one event loop for batch work, with a thread pool sized for the
    concurrency (DynamoDB, S3 and boto3-based providers run in threads)."""
    global _loop
    if _loop is None or _loop.is_closed():
        loop = asyncio.new_event_loop()
        workers = max(8, get_worker().settings.batch.batch_worker_concurrency * 4)
        loop.set_default_executor(
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch")
        )
        _loop = loop
    return _loop


class LoopBatchProcessor(AsyncBatchProcessor):
    """Powertools' AsyncBatchProcessor (per-record success/failure bookkeeping, the
    `batchItemFailures` response), run on `worker_loop()` instead of a new loop per call."""

    def async_process(self) -> list[tuple]:  # type: ignore[type-arg]
        async def run() -> list[tuple]:  # type: ignore[type-arg]
            return list(
                await asyncio.gather(*[self._async_process_record(r) for r in self.records])
            )

        return worker_loop().run_until_complete(run())


# Always answer with `batchItemFailures`, even when every record failed.
processor = LoopBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@lru_cache(maxsize=1)
def get_worker() -> BatchWorker:
    """The worker and its runtime (settings, repositories, clients), built once and kept warm."""
    return BatchWorker(get_batch_runtime())


def make_record_handler(
    worker: BatchWorker, invocation: Invocation, limit: int, metrics: EphemeralMetrics
) -> Any:
    semaphore = asyncio.Semaphore(limit)

    async def record_handler(record: SQSRecord) -> None:
        async with semaphore:
            try:
                await worker.process(record, invocation)
            except Exception:
                metrics.add_metric(name="BatchRecordsFailed", unit=MetricUnit.Count, value=1)
                raise

    return record_handler


@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    metrics = invocation_metrics()
    metrics.add_metric(name="BatchRecordsReceived", unit=MetricUnit.Count, value=len(records))
    worker = get_worker()
    try:
        with _loop_lock:  # one invocation at a time on the loop (Lambda never overlaps them)
            record_handler = make_record_handler(
                worker,
                Invocation(lambda_context=context, records=records),
                worker.settings.batch.batch_worker_concurrency,
                metrics,
            )
            return dict(
                async_process_partial_response(
                    event=event, record_handler=record_handler, processor=processor, context=context
                )
            )
    finally:
        flush_metrics(metrics)
