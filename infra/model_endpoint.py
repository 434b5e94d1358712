"""The optional self-hosted model: a SageMaker real-time endpoint with Hugging Face's TGI container.

The container image is the Hugging Face LLM Deep Learning Container, resolved at synth time by the
pinned SageMaker SDK (`sagemaker-core`'s `image_uris.retrieve("huggingface-llm", ...)`, offline
from the tables it ships); `sagemaker_image_uri` overrides it. The SDK is a synth-time dependency
only (the dev extra), never in a Lambda package; its pin is what makes two synths of one commit
deploy the same container.

Two shapes: a plain endpoint (the model on the variant, instance autoscaling on invocations per
instance, at least one instance), or, with `sagemaker_scale_to_zero`, the model as an inference
component that scales to `sagemaker_min_copies` (0) copies after `sagemaker_idle_minutes`
without traffic. SageMaker documents how it comes back: an invocation with no copy fails with
"no capacity" and counts in `NoCapacityInvocationFailures`; an alarm on that metric runs a step
scaling policy that adds a copy. The gateway's router treats that answer as cold: it serves the
request from the alias's next deployment at once and probes again later (see
`inference_core.resilience`), so its probes are what wake the model.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack, Token
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import SageMakerConfig
from infra.nag import acknowledge, finding_resource

VARIANT_NAME = "AllTraffic"
# Downloading a 7B model and loading it onto the GPU takes minutes.
STARTUP_TIMEOUT_SECONDS = 900
DOWNLOAD_TIMEOUT_SECONDS = 1200


def tgi_image_uri(*, region: str, version: str, instance_type: str = "ml.g5.xlarge") -> str:
    """The Hugging Face LLM (TGI) DLC for `version` in `region`, from the pinned SDK's tables."""
    from sagemaker.core import image_uris

    uri: str = image_uris.retrieve(
        "huggingface-llm",
        region=region,
        version=version,
        image_scope="inference",
        instance_type=instance_type,
    )
    return uri


class ModelEndpoint(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: SageMakerConfig) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        if Token.is_unresolved(stack.region):
            raise ValueError("the SageMaker endpoint needs a concrete region to resolve its image")
        self.endpoint_name = config.endpoint_name
        self.variant_name = VARIANT_NAME
        self.image_uri = config.image_uri or tgi_image_uri(
            region=stack.region, version=config.tgi_version, instance_type=config.instance_type
        )
        image_account, _, image_rest = self.image_uri.partition(".dkr.ecr.")
        image_repository = image_rest.split("/", 1)[1].split(":")[0].split("@")[0]

        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Inference Core model endpoint: pull the container, write logs and metrics",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[
                    f"arn:{stack.partition}:ecr:{stack.region}:{image_account}:repository/{image_repository}"
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}
                },
            )
        )
        log_group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[log_group_arn, f"{log_group_arn}:log-stream:*"],
            )
        )

        container_env = {
            "HF_MODEL_ID": config.model_id,
            "SM_NUM_GPUS": str(config.num_gpus),
            "MAX_INPUT_TOKENS": str(config.max_input_tokens),
            "MAX_TOTAL_TOKENS": str(config.max_total_tokens),
            # The OpenAI-style messages payload the gateway's SageMaker adapter sends.
            "MESSAGES_API_ENABLED": "true",
        }
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=self.image_uri, environment=container_env
            ),
        )
        self.model.node.add_dependency(self.role)
        self.inference_component_name: str | None = None
        self.inference_component_arn: str | None = None
        if config.scale_to_zero:
            self._inference_component_endpoint(config)
        else:
            self._model_endpoint(config)
        self.endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name.lower()
        )

        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level permissions; cloudwatch:PutMetricData "
            "has none either and is limited to SageMaker's namespaces by condition.",
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::{finding_resource(self, log_group_arn)}:log-stream:*]",
            "SageMaker names the endpoint's log streams per instance at run time; the wildcard "
            "covers only this endpoint's log group.",
        )

    def invoke_statement(self) -> iam.PolicyStatement:
        """What a function needs to call the endpoint (and its inference component, if any),
        buffered and streamed."""
        resources = [self.endpoint_arn]
        if self.inference_component_arn is not None:
            resources.append(self.inference_component_arn)
        return iam.PolicyStatement(
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resources=resources,
        )

    # ---- the two shapes ----

    def _model_endpoint(self, config: SageMakerConfig) -> None:
        """The model on the variant; instances scale on invocations, never below one."""
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT_NAME,
                    model_name=self.model.attr_model_name,
                    initial_instance_count=config.min_instances,
                    instance_type=config.instance_type,
                    initial_variant_weight=1,
                    container_startup_health_check_timeout_in_seconds=STARTUP_TIMEOUT_SECONDS,
                    model_data_download_timeout_in_seconds=DOWNLOAD_TIMEOUT_SECONDS,
                )
            ],
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        target = self._scalable_target(
            resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT_NAME}",
            dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=config.min_instances,
            max_capacity=config.max_instances,
        )
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=config.invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=Duration.minutes(10),
            scale_out_cooldown=Duration.minutes(3),
        )

    def _inference_component_endpoint(self, config: SageMakerConfig) -> None:
        """The model as an inference component: copies scale on invocations, down to
        `min_copies` after `idle_minutes` without one, and back up on the first request that
        finds no copy (SageMaker's NoCapacityInvocationFailures metric)."""
        stack = Stack.of(self)
        name = config.inference_component_name
        assert name is not None  # scale_to_zero is on
        self.inference_component_name = name
        self.inference_component_arn = stack.format_arn(
            service="sagemaker", resource="inference-component", resource_name=name.lower()
        )
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            execution_role_arn=self.role.role_arn,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT_NAME,
                    instance_type=config.instance_type,
                    initial_instance_count=1,
                    # Instances follow the copies: none left when no copy is left.
                    managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                        status="ENABLED",
                        min_instance_count=0,
                        max_instance_count=config.max_instances,
                    ),
                    routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                        routing_strategy="LEAST_OUTSTANDING_REQUESTS"
                    ),
                )
            ],
        )
        self.endpoint_config.node.add_dependency(self.role)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        ic = sagemaker.CfnInferenceComponent
        self.inference_component = ic(
            self,
            "InferenceComponent",
            inference_component_name=name,
            endpoint_name=self.endpoint.attr_endpoint_name,
            variant_name=VARIANT_NAME,
            specification=ic.InferenceComponentSpecificationProperty(
                model_name=self.model.attr_model_name,
                compute_resource_requirements=ic.InferenceComponentComputeResourceRequirementsProperty(
                    number_of_accelerator_devices_required=config.num_gpus,
                    min_memory_required_in_mb=config.min_memory_mb,
                ),
                startup_parameters=ic.InferenceComponentStartupParametersProperty(
                    container_startup_health_check_timeout_in_seconds=STARTUP_TIMEOUT_SECONDS,
                    model_data_download_timeout_in_seconds=DOWNLOAD_TIMEOUT_SECONDS,
                ),
            ),
            runtime_config=ic.InferenceComponentRuntimeConfigProperty(copy_count=1),
        )
        target = self._scalable_target(
            resource_id=f"inference-component/{name}",
            dimension="sagemaker:inference-component:DesiredCopyCount",
            min_capacity=config.min_copies,
            max_capacity=config.max_instances,
        )
        target.node.add_dependency(self.inference_component)
        target.scale_to_track_metric(
            "InvocationsPerCopy",
            target_value=config.invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY,
            scale_in_cooldown=Duration.minutes(10),
            scale_out_cooldown=Duration.minutes(3),
        )

        def component_metric(metric_name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name=metric_name,
                dimensions_map={"InferenceComponentName": name},
                statistic=statistic,
                period=Duration.minutes(1),
            )

        # Idle: no invocation for `idle_minutes` (no data counts as none) → `min_copies`.
        scale_in = appscaling.StepScalingAction(
            self,
            "ScaleInWhenIdle",
            scaling_target=target,
            adjustment_type=appscaling.AdjustmentType.EXACT_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
        )
        scale_in.add_adjustment(adjustment=config.min_copies, upper_bound=0)
        self.idle_alarm = cloudwatch.Alarm(
            self,
            "IdleAlarm",
            alarm_description=f"No request to {name} for {config.idle_minutes} minutes: scale in",
            metric=component_metric("Invocations", "Sum"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=config.idle_minutes,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self.idle_alarm.add_alarm_action(cloudwatch_actions.ApplicationScalingAction(scale_in))
        # Cold: a request found no copy → one copy (the documented way back from zero).
        scale_out = appscaling.StepScalingAction(
            self,
            "ScaleOutFromZero",
            scaling_target=target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
            cooldown=Duration.minutes(1),
        )
        scale_out.add_adjustment(adjustment=1, lower_bound=0)
        self.no_capacity_alarm = cloudwatch.Alarm(
            self,
            "NoCapacityAlarm",
            alarm_description=f"A request found no copy of {name}: add one",
            metric=component_metric("NoCapacityInvocationFailures", "Maximum"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.no_capacity_alarm.add_alarm_action(
            cloudwatch_actions.ApplicationScalingAction(scale_out)
        )

    def _scalable_target(
        self, *, resource_id: str, dimension: str, min_capacity: int, max_capacity: int
    ) -> appscaling.ScalableTarget:
        stack = Stack.of(self)
        # Application Auto Scaling's service-linked role for SageMaker (created on first use):
        # CloudFormation's recommended way, instead of a role of our own that it would ignore.
        autoscaling_role = iam.Role.from_role_arn(
            self,
            "AutoScalingServiceRole",
            f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
            "sagemaker.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
            mutable=False,
        )
        target = appscaling.ScalableTarget(
            self,
            "Scaling",
            role=autoscaling_role,
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=resource_id,
            scalable_dimension=dimension,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
        )
        target.node.add_dependency(self.endpoint)
        return target
