"""The optional self-hosted model: a SageMaker real-time endpoint with Hugging Face's TGI container.

The container image is the Hugging Face LLM Deep Learning Container. Its URI is resolved at synth
time, offline, the way the `sagemaker` SDK's `get_huggingface_llm_image_uri()` builds it (the DLC
registry account of the region + repository + tag); `sagemaker_image_uri` overrides it. The SDK
itself is not a dependency: it is large, its tables move with each release, and a pinned tag here
is what makes two synths of the same commit deploy the same container.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack, Token
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import SageMakerConfig
from infra.nag import acknowledge, finding_resource

TGI_REPOSITORY = "huggingface-pytorch-tgi-inference"
DLC_ACCOUNT = "763104351884"
# Regions whose Deep Learning Containers live in a different account (from the sagemaker SDK's
# image_uri_config/huggingface-llm.json); every other commercial region uses DLC_ACCOUNT.
DLC_ACCOUNTS_BY_REGION = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-northeast-3": "364406365360",
    "ap-south-2": "772153158452",
    "ap-southeast-3": "907027046896",
    "ap-southeast-4": "457447274322",
    "ca-west-1": "204538143572",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-central-2": "380420809688",
    "eu-south-1": "692866216735",
    "eu-south-2": "503227376785",
    "il-central-1": "780543022126",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
}
VARIANT_NAME = "AllTraffic"


def tgi_image_uri(*, region: str, tag: str) -> str:
    account = DLC_ACCOUNTS_BY_REGION.get(region, DLC_ACCOUNT)
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}/{TGI_REPOSITORY}:{tag}"


class ModelEndpoint(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: SageMakerConfig) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        if Token.is_unresolved(stack.region):
            raise ValueError("the SageMaker endpoint needs a concrete region to resolve its image")
        self.endpoint_name = config.endpoint_name
        self.variant_name = VARIANT_NAME
        self.image_uri = config.image_uri or tgi_image_uri(
            region=stack.region, tag=config.tgi_image_tag
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
                    # Downloading a 7B model and loading it onto the GPU takes minutes.
                    container_startup_health_check_timeout_in_seconds=900,
                    model_data_download_timeout_in_seconds=1200,
                )
            ],
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        self.endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name.lower()
        )

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
            resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT_NAME}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=config.min_instances,
            max_capacity=config.max_instances,
        )
        target.node.add_dependency(self.endpoint)
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=config.invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=Duration.minutes(10),
            scale_out_cooldown=Duration.minutes(3),
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
        """What a function needs to call the endpoint, buffered and streamed."""
        return iam.PolicyStatement(
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resources=[self.endpoint_arn],
        )
