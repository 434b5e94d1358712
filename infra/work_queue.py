"""An SQS queue with its dead-letter queue, consumed by one function with partial batch failures."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from inference_core.redrive import MAX_RECEIVE_COUNT
from infra.lambda_function import GatewayFunction
from infra.nag import acknowledge

# AWS's guidance for SQS-triggered functions: visibility >= 6 x the function timeout, so a batch
# retried by Lambda is never visible to a second consumer while the first still works on it.
VISIBILITY_FACTOR = 6


class WorkQueue(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        consumer_timeout: Duration,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.dead_letter_queue,
            "Serverless-SQSRedrivePolicy",
            "This is the dead-letter queue: its messages wait for an operator (an alarm fires when "
            "it holds any), and a further redrive would only move them out of sight.",
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * VISIBILITY_FACTOR),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT
            ),
            removal_policy=removal_policy,
        )

    def subscribe(
        self, consumer: GatewayFunction, *, batch_size: int, max_concurrency: int
    ) -> None:
        """Feed the queue to `consumer`, which reports failed records (`batchItemFailures`)."""
        consumer.invoke_target.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=batch_size,
                max_concurrency=max_concurrency,
                report_batch_item_failures=True,
                # More than 10 records per batch needs a batching window (an SQS rule).
                max_batching_window=Duration.seconds(1) if batch_size > 10 else None,
            )
        )
        acknowledge(
            consumer,
            "Serverless-LambdaEventSourceMappingDestination",
            "SQS event source mappings do not support on-failure destinations; failed records "
            "return to the queue and, after maxReceiveCount receives, move to its dead-letter "
            "queue (which has an alarm).",
        )
