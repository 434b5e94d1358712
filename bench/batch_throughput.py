"""Batch worker throughput: lines per second per invocation against a fake upstream with 200 ms
latency, and DynamoDB and SQS calls per line.

In-process over moto: a batch is created through the batch service, then the real worker handler
(`functions/worker/handler.py`) is fed ten records per invocation, the way Lambda's SQS event
source (and the local stack's poller) feeds it. Calls are counted with a botocore
`before-call.*` hook on every client the worker uses (PynamoDB's, the idempotency store's, S3,
SQS); the poller's own ReceiveMessage/DeleteMessageBatch (Lambda's event source mapping on AWS) are
counted apart. moto serves each call in a few milliseconds, on one lock (it has no isolation
between threads), so the figures are a floor for calls and a rough guide for time.

Each invocation gets up to `--batch-size` records (the CDK app's `worker_batch_size`, 100; the
local poller gathers them ten per receive, as Lambda's event source does), run `--concurrency`
at a time (`IC_BATCH_WORKER_CONCURRENCY`, 32).

    python bench/batch_throughput.py [--lines 400] [--latency 0.2] [--concurrency 32]
                                     [--batch-size 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "IC_REGION": REGION,
        "IC_LOCAL_MODE": "1",
        "IC_JWT_SECRET": "bench-signing-secret-0123456789abcdef0123456789",
        "IC_MAX_ATTEMPTS_PER_DEPLOYMENT": "1",
        "IC_BATCH_EMAIL_NOTIFICATIONS": "false",
        "POWERTOOLS_METRICS_DISABLED": "1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "AWS_LAMBDA_FUNCTION_NAME": "bench-worker",
    }
)
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(var, None)


class Calls:
    """A `before-call.*` hook: counts API calls by service and operation."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.counts[f"{model.service_model.service_name}.{model.name}"] += 1

    def hook(self, client: Any) -> None:
        client.meta.events.register("before-call.*", self)

    def service(self, name: str) -> dict[str, int]:
        return {
            k.split(".", 1)[1]: v
            for k, v in sorted(self.counts.items())
            if k.startswith(name + ".")
        }


class SlowUpstream:
    """A provider that answers after `latency` seconds (what a hosted model's round trip costs)."""

    def __init__(self, latency: float):
        from inference_core.providers.base import Provider

        self.latency = latency
        self.calls = 0
        self.in_flight = 0
        self.peak = 0  # the most upstream calls in flight at once
        outer = self

        class _Provider(Provider):
            name = "openai"

            async def chat(self, request: Any, deployment: Any) -> Any:
                from inference_core.canonical import ChatResult, Usage

                outer.calls += 1
                outer.in_flight += 1
                outer.peak = max(outer.peak, outer.in_flight)
                try:
                    await asyncio.sleep(outer.latency)
                finally:
                    outer.in_flight -= 1
                return ChatResult(content="ok", finish_reason="stop", usage=Usage(12, 4))

            async def chat_stream(self, request: Any, deployment: Any) -> AsyncIterator[Any]:
                raise NotImplementedError
                yield

        self.provider = _Provider()


MOTO_BUSY = [0.0]  # seconds moto spent serving DynamoDB requests (under its one lock)


def serialize_moto() -> None:
    """moto in-process behaving like the service where the worker's threads would see a
    difference (the same treatment as the batch tests' `atomic_moto` fixture):

    - moto has no isolation between threads: its request processing is serialized (a real
      service applies each request atomically);
    - moto's TransactWriteItems deep-copies every table it touches to be able to roll back,
      which makes a transaction's cost grow with the tables (the jobs table holds every line's
      result): the local AWS's item-level rollback (`inference_core.local.moto_transactions`)
      replaces it. DynamoDB's transactions cost no such thing. And moto parses an update
      expression on every call: `inference_core.local.moto_expressions` parses each once.
    (Both are `moto_server.install_fixes`, what our moto server runs.)
    """
    from moto.core.botocore_stubber import BotocoreStubber

    from inference_core.local import moto_server

    lock = threading.RLock()
    original = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target") or b""
        dynamodb = (target if isinstance(target, bytes) else target.encode()).startswith(b"Dynamo")
        with lock:
            started = time.perf_counter()
            try:
                return original(self, request)
            finally:
                if dynamodb:
                    MOTO_BUSY[0] += time.perf_counter() - started

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    moto_server.install_fixes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    os.environ["IC_BATCH_WORKER_CONCURRENCY"] = str(args.concurrency)

    import boto3
    from moto import mock_aws

    with mock_aws():
        serialize_moto()
        run(args, boto3)


def run(args: argparse.Namespace, boto3: Any) -> None:
    from pynamodb.models import Model

    from inference_core.auth.principal import Principal
    from inference_core.batch.files import FileService
    from inference_core.batch.runtime import build_batch_runtime
    from inference_core.batch.service import BatchService
    from inference_core.batch.worker import BatchWorker
    from inference_core.db import models
    from inference_core.db.batch_models import BatchLineModel
    from inference_core.db.cache import CacheRepository
    from inference_core.db.models import ApiKeyModel, UserModel, configure_models
    from inference_core.db.tables import create_tables
    from inference_core.db.usage import UsageRepository
    from inference_core.governance import Governance
    from inference_core.inference.service import InferenceService
    from inference_core.local.pollers import load_handler, poll_once
    from inference_core.local.resources import create_bucket, create_queues
    from inference_core.registry import ModelRegistry
    from inference_core.router import Router
    from inference_core.settings import get_settings

    sqs = boto3.client("sqs", region_name=REGION)
    urls = create_queues(sqs)
    for setting, url in urls.items():
        os.environ[f"IC_{setting.upper()}"] = url
    get_settings.cache_clear()
    settings = get_settings()
    create_tables(boto3.client("dynamodb", region_name=REGION), settings.tables.model_dump())
    create_bucket(boto3.client("s3", region_name=REGION), settings.queues.files_bucket)

    # Governance on, as in production: every line is admitted and settled against the key, its
    # user and (none here) team; limits generous enough never to refuse.
    configure_models(settings)
    UserModel(
        "bench-user",
        email="bench@example.com",
        password_hash="x",
        created_at=1,
        updated_at=1,
        rpm_limit=100_000,
    ).save()
    ApiKeyModel(
        "bench-key-hash", key_id="bench-key", owner_id="bench-user", prefix="sk-ic-b", created_at=1
    ).save()
    registry = ModelRegistry.from_dict(
        {
            "default_model": "m",
            "models": {"m": {"deployments": [{"provider": "openai", "model": "up"}]}},
        }
    )
    upstream = SlowUpstream(args.latency)
    router = Router(registry, provider_factory=lambda name: upstream.provider, settings=settings)
    inference = InferenceService(
        settings=settings,
        registry=registry,
        router=router,
        cache=CacheRepository(),
        usage=UsageRepository(),
        governance=Governance(settings=settings),
    )
    runtime = build_batch_runtime(settings, inference_factory=lambda: inference)
    owner = Principal(
        user_id="bench-user",
        role="user",
        key_id="bench-key",
        allowed_models=None,
        rpm_limit=10_000,
        email="bench@example.com",
    )
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "m",
                "messages": [{"role": "user", "content": f"question {i}"}],
                "max_tokens": 16,
            },
        }
        for i in range(args.lines)
    ]
    from inference_core.batch.inputs import to_jsonl

    data = to_jsonl(lines)
    file = FileService(runtime).upload(
        owner.user_id, filename="bench.jsonl", data=data, purpose="batch"
    )

    calls = Calls()
    table_models: list[type[Model]] = [*models.ALL_MODELS, BatchLineModel]
    for model in table_models:
        calls.hook(model._get_connection().connection.client)
    calls.hook(runtime.store.client)
    calls.hook(runtime.queue.client)
    calls.hook(runtime.idempotency.client)  # type: ignore[attr-defined]
    worker = BatchWorker(runtime)
    handler_module: Any = load_handler("worker/handler.py")
    handler_module.get_worker = lambda: worker  # bind the handler to this runtime

    started = time.perf_counter()
    job = BatchService(runtime).create(
        owner, input_file_id=file.file_id, endpoint="/v1/chat/completions"
    )
    creation = dict(calls.counts)
    creation_seconds = time.perf_counter() - started
    calls.counts.clear()

    poller_calls = Calls()
    poller_calls.hook(sqs)
    durations: list[tuple[int, float]] = []

    class Context:
        function_name = "bench-worker"
        function_version = "$LATEST"
        memory_limit_in_mb = 1024
        invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:bench-worker"
        aws_request_id = "bench"

        def get_remaining_time_in_millis(self) -> int:
            return 300_000

    def timed_handler(event: dict[str, Any], context: Any) -> Any:
        t0 = time.perf_counter()
        result = handler_module.handler(event, Context())
        durations.append((len(event["Records"]), time.perf_counter() - t0))
        return result

    started = time.perf_counter()
    busy_before = MOTO_BUSY[0]
    idle = 0
    while idle < 50:
        got = poll_once(
            sqs,
            urls["batch_queue_url"],
            timed_handler,
            function_name="bench",
            timeout_seconds=300,
            region=REGION,
            wait_seconds=0,
            batch_size=args.batch_size,
        )
        idle = 0 if got else idle + 1
        if not got:
            current = runtime.jobs.get(job.batch_id)
            if current is not None and current.status == "completed":
                break
            time.sleep(0.01)
    elapsed = time.perf_counter() - started

    final = runtime.jobs.get(job.batch_id)
    assert final is not None
    per_invocation = [n / s for n, s in durations if n]
    full = [n / s for n, s in durations if n == args.batch_size]
    n = args.lines
    ddb = calls.service("dynamodb")
    worker_sqs = calls.service("sqs")
    print(
        f"lines: {n}   upstream latency: {args.latency * 1000:.0f} ms   "
        f"records per invocation: {args.batch_size}   concurrency: {args.concurrency}"
    )
    print(
        f"batch status: {final.status}   upstream calls: {upstream.calls}   "
        f"most in flight at once: {upstream.peak}"
    )
    print(
        f"invocations: {len(durations)}   wall time: {elapsed:.2f} s   ({n / elapsed:.1f} lines/s overall)"
    )
    if full:
        print(
            f"lines/second per invocation ({args.batch_size} records): "
            f"median {statistics.median(full):.1f}, "
            f"min {min(full):.1f}, max {max(full):.1f}; in order: "
            + ", ".join(f"{rate:.1f}" for rate in full)
        )
    elif per_invocation:
        print(f"lines/second per invocation: median {statistics.median(per_invocation):.1f}")
    busy = MOTO_BUSY[0] - busy_before
    print(
        f"moto busy serving DynamoDB (one lock): {busy:.2f} s of {elapsed:.2f} s "
        f"({busy / n * 1000:.1f} ms per line): the bound on lines/s here, not the worker"
    )
    waves = -(-args.batch_size // args.concurrency)
    ideal = args.batch_size / (waves * args.latency)
    print(f"  (ideal at this latency: {ideal:.0f} lines/s per invocation)")
    print(f"DynamoDB calls per line (worker): {sum(ddb.values()) / n:.2f}")
    for op, count in ddb.items():
        print(f"    {op:<22} {count / n:.2f}")
    print(f"SQS calls per line (worker): {sum(worker_sqs.values()) / n:.2f}  {worker_sqs}")
    print(
        f"SQS calls per line (event source / poller): "
        f"{sum(poller_calls.counts.values()) / n:.2f}  {dict(poller_calls.counts)}"
    )
    s3 = calls.service("s3")
    print(f"S3 calls per job (finalizer): {sum(s3.values())}  {s3}")
    print(
        f"creating the job: {creation_seconds * 1000:.0f} ms, "
        f"SQS SendMessageBatch calls: {creation.get('sqs.SendMessageBatch', 0)} for {n} lines"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
    main()
