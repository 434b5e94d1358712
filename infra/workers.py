"""Batch jobs: the batch queue (with its DLQ) and the worker that consumes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.lambda_function import GatewayFunction
from infra.work_queue import WorkQueue


class BatchWorkers(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        memory_mb: int,
        timeout: Duration,
        batch_size: int,
        max_concurrency: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = WorkQueue(
            self, "BatchQueue", consumer_timeout=timeout, removal_policy=removal_policy
        )
        self.worker = GatewayFunction(
            self,
            "Worker",
            description="Inference Core batch worker (SQS -> inference service)",
            code_dir="worker",
            handler="handler.handler",
            memory_mb=memory_mb,
            timeout=timeout,
            layers=layers,
            environment=environment,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.queue.subscribe(self.worker, batch_size=batch_size, max_concurrency=max_concurrency)
