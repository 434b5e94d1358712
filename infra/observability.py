"""The CloudWatch dashboard and the alarms, which notify one SNS topic (subscribers from context).

The gateway's own metrics are Powertools EMF (namespace from POWERTOOLS_METRICS_NAMESPACE,
dimensions `service`, `model`, `provider`); the dashboard sums them across models with SEARCH.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.lambda_function import GatewayFunction
from infra.model_endpoint import ModelEndpoint
from infra.nag import acknowledge
from infra.work_queue import WorkQueue

PERIOD = Duration.minutes(5)


@dataclass(frozen=True, kw_only=True)
class ApiTarget:
    api_name: str
    stage_name: str
    routes: Sequence[str]


# What a message in a dead-letter queue means, per queue (the alarm's description).
DEAD_LETTER_MEANING = {
    "Batch": "Messages in the Batch dead-letter queue: the worker could not process them at all "
    "(unparseable, unknown batch, or its stores kept failing). A real fault: lines that fail "
    "for good are answered in the batch's error file and never land here.",
}


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: ApiTarget,
        functions: Mapping[str, GatewayFunction],
        queues: Mapping[str, WorkQueue],
        model_endpoint: ModelEndpoint | None,
        metrics_namespace: str,
        service_name: str,
        alarm_emails: Sequence[str],
        latency_p99_alarm_ms: int,
        error_rate_alarm_percent: float,
    ) -> None:
        super().__init__(scope, construct_id)
        self._namespace = metrics_namespace
        self._service = service_name
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name="Inference Core alarms", enforce_ssl=True
        )
        for email in alarm_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        if alarm_emails:
            acknowledge(
                self.topic,
                "Serverless-SNSRedrivePolicy",
                "Email subscriptions to the alarm topic: an undeliverable alarm email has nothing "
                "to replay later; the alarm's state stays in CloudWatch and on the dashboard.",
            )
        self.alarms: list[cloudwatch.Alarm] = []
        self._action = cw_actions.SnsAction(self.topic)

        api_dims = {"ApiName": api.api_name, "Stage": api.stage_name}

        def api_metric(name: str, statistic: str, **dims: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name=name,
                dimensions_map={**api_dims, **dims},
                statistic=statistic,
                period=PERIOD,
            )

        # --- alarms -------------------------------------------------------------------------
        self._alarm(
            "Api5xxRate",
            api_metric("5XXError", "Average"),
            threshold=error_rate_alarm_percent / 100,
            description=f"More than {error_rate_alarm_percent}% of API requests answered 5xx",
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )
        self._alarm(
            "ApiLatencyP99",
            api_metric("Latency", "p99"),
            threshold=latency_p99_alarm_ms,
            description=f"API p99 latency above {latency_p99_alarm_ms} ms",
            evaluation_periods=3,
            datapoints_to_alarm=3,
        )
        for name, fn in functions.items():
            self._alarm(
                f"{name}Errors",
                fn.function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"{name} function errors (unhandled exceptions, timeouts)",
            )
            self._alarm(
                f"{name}Throttles",
                fn.function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"{name} function throttled (concurrency limit reached)",
            )
        for name, queue in queues.items():
            self._alarm(
                f"{name}DeadLettersNotEmpty",
                queue.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                description=DEAD_LETTER_MEANING.get(
                    name, f"Messages in the {name} dead-letter queue: they failed every retry"
                ),
            )
        self._alarm(
            "UnmeteredRequests",
            self._unmetered_metric(),
            threshold=1,
            description=(
                "Requests whose usage could not be written after every retry: bill them from the "
                "API logs' 'request not metered' lines (each carries the request's whole usage)"
            ),
        )
        if model_endpoint is not None:
            self._alarm(
                "SageMaker5xx",
                self._sagemaker_metric(model_endpoint, "Invocation5XXErrors", "Sum"),
                threshold=1,
                description="The SageMaker model answered 5xx",
            )

        # --- dashboard ----------------------------------------------------------------------
        stack = Stack.of(self)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{stack.stack_name}-gateway",
            default_interval=Duration.hours(3),
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# Inference Core `{stack.stack_name}`\nAPI `{api.api_name}`, "
                f"stage `{api.stage_name}`. Alarms: SNS topic `{self.topic.topic_name}`.",
                width=24,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Requests",
                left=[api_metric("Count", "Sum").with_(label="requests")],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="4xx / 5xx",
                left=[
                    api_metric("4XXError", "Sum").with_(label="4xx"),
                    api_metric("5XXError", "Sum").with_(label="5xx"),
                ],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Latency (all routes)",
                left=[api_metric("Latency", s).with_(label=s) for s in ("p50", "p90", "p99")],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Throttles (Lambda)",
                left=[
                    fn.function.metric_throttles(period=PERIOD, statistic="Sum", label=name)
                    for name, fn in functions.items()
                ],
                width=6,
            ),
        )
        self.dashboard.add_widgets(
            *[
                cloudwatch.GraphWidget(
                    title=f"POST {route} latency",
                    left=[
                        api_metric("Latency", s, Method="POST", Resource=route).with_(label=s)
                        for s in ("p50", "p90", "p99")
                    ],
                    width=8,
                )
                for route in api.routes
            ]
        )
        cache_hits = self._emf_sum("CacheHits", "hits")
        requests = self._emf_sum("Requests", "requests")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Tokens",
                left=[
                    self._emf_sum("InputTokens", "input tokens"),
                    self._emf_sum("OutputTokens", "output tokens"),
                ],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Cost (USD)", left=[self._emf_sum("CostUSD", "cost")], width=6
            ),
            cloudwatch.GraphWidget(
                title="Cache hit ratio (%)",
                left=[
                    cloudwatch.MathExpression(
                        expression="100 * e_hits / e_requests",
                        using_metrics={"e_hits": cache_hits, "e_requests": requests},
                        label="hit ratio",
                        period=PERIOD,
                    )
                ],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=100),
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Gateway errors (EMF)",
                left=[
                    self._emf_sum("Errors", "errors"),
                    self._unmetered_metric().with_(label="unmetered requests"),
                ],
                width=6,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[
                    fn.function.metric_errors(period=PERIOD, statistic="Sum", label=name)
                    for name, fn in functions.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Queue age (oldest message, s)",
                left=[
                    q.queue.metric_approximate_age_of_oldest_message(
                        period=PERIOD, statistic="Maximum", label=name
                    )
                    for name, q in queues.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queue depth",
                left=[
                    q.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=name
                    )
                    for name, q in queues.items()
                ],
                width=8,
            ),
        )
        if model_endpoint is not None:
            invocations = [
                self._sagemaker_metric(model_endpoint, name, "Sum")
                for name in ("Invocations", "Invocation5XXErrors", "Invocation4XXErrors")
            ]
            if model_endpoint.inference_component_name is not None:
                # Requests that found no copy (scaled to zero): each one wakes the model.
                invocations.append(
                    self._sagemaker_metric(model_endpoint, "NoCapacityInvocationFailures", "Sum")
                )
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(title="SageMaker invocations", left=invocations, width=8),
                cloudwatch.GraphWidget(
                    title="SageMaker model latency (us)",
                    left=[
                        self._sagemaker_metric(model_endpoint, "ModelLatency", s).with_(label=s)
                        for s in ("p50", "p90", "p99")
                    ],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="SageMaker GPU (%)"
                    if model_endpoint.inference_component_name is None
                    else "SageMaker GPU (% of the component's reservation)",
                    left=self._sagemaker_gpu_metrics(model_endpoint),
                    width=8,
                ),
            )

    def _alarm(
        self,
        alarm_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def _unmetered_metric(self) -> cloudwatch.Metric:
        """`UnmeteredRequests` (observability.record_unmetered): its one dimension is the service."""
        return cloudwatch.Metric(
            namespace=self._namespace,
            metric_name="UnmeteredRequests",
            dimensions_map={"service": self._service},
            statistic="Sum",
            period=PERIOD,
        )

    def _emf_sum(self, metric_name: str, label: str) -> cloudwatch.MathExpression:
        query = (
            f"{{{self._namespace},model,provider,service}} "
            f'MetricName="{metric_name}" service="{self._service}"'
        )
        search = f"SEARCH('{query}', 'Sum', {int(PERIOD.to_seconds())})"
        return cloudwatch.MathExpression(expression=f"SUM({search})", label=label, period=PERIOD)

    @staticmethod
    def _sagemaker_metric(endpoint: ModelEndpoint, name: str, statistic: str) -> cloudwatch.Metric:
        """An invocation metric of the model: per inference component when the model is one
        (scale-to-zero mode: SageMaker then publishes it under `InferenceComponentName`, and the
        endpoint-level series stay empty), else per endpoint variant."""
        return cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name=name,
            dimensions_map=_sagemaker_dimensions(endpoint),
            statistic=statistic,
            period=PERIOD,
            label=name,
        )

    @staticmethod
    def _sagemaker_gpu_metrics(endpoint: ModelEndpoint) -> list[cloudwatch.IMetric]:
        """GPU and GPU memory use: the instance's (`/aws/sagemaker/Endpoints`), or for an
        inference component its copies' use of their reservation
        (`/aws/sagemaker/InferenceComponents`, `…Normalized`)."""
        component = endpoint.inference_component_name is not None
        namespace = (
            "/aws/sagemaker/InferenceComponents" if component else "/aws/sagemaker/Endpoints"
        )
        suffix = "Normalized" if component else ""
        return [
            cloudwatch.Metric(
                namespace=namespace,
                metric_name=f"{name}{suffix}",
                dimensions_map=_sagemaker_dimensions(endpoint),
                statistic="Average",
                period=PERIOD,
                label=f"{name}{suffix}",
            )
            for name in ("GPUUtilization", "GPUMemoryUtilization")
        ]


def _sagemaker_dimensions(endpoint: ModelEndpoint) -> dict[str, str]:
    if endpoint.inference_component_name is not None:
        return {"InferenceComponentName": endpoint.inference_component_name}
    return {"EndpointName": endpoint.endpoint_name, "VariantName": endpoint.variant_name}
