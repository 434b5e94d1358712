"""One Lambda function the way every function here is built.

arm64, the current Python runtime, a zip package, X-Ray active tracing, a log group with a
retention, the Powertools environment, the shared layer, and its own role that can write only its
own logs; everything else it may touch is granted by the stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import PROJECT_ROOT
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
FUNCTIONS_ROOT = PROJECT_ROOT / "functions"


class GatewayFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        code_dir: str,
        handler: str,
        memory_mb: int,
        timeout: Duration,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        publish: bool = False,
        snap_start: bool = False,
        log_level: str = "INFO",
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=removal_policy
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description}: least privilege, grants come from the stack",
        )
        # Instead of AWSLambdaBasicExecutionRole (logs on every group): this function's group only.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=lambda_.Code.from_asset(
                str(FUNCTIONS_ROOT / code_dir),
                exclude=["__pycache__", "*.pyc", ".pytest_cache"],
            ),
            handler=handler,
            memory_size=memory_mb,
            timeout=timeout,
            layers=list(layers),
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            # A superseded version goes when the alias moves on: with SnapStart, every version
            # kept would keep its snapshot cached (and billed).
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
            environment={**environment, "POWERTOOLS_LOG_LEVEL": log_level},
        )
        self.alias: lambda_.Alias | None = None
        if publish or snap_start:
            # SnapStart snapshots published versions only; callers invoke the alias, never $LATEST.
            self.alias = lambda_.Alias(
                self, "Live", alias_name="live", version=self.function.current_version
            )
        if snap_start:
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "current_version publishes a version on every change; the alias points at it",
            )

        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords (added by Tracing.ACTIVE) support no "
            "resource-level permissions.",
        )
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Invoked synchronously only (API Gateway, or an SQS event source mapping); a function "
            "dead-letter queue applies to asynchronous invokes. SQS redrive to a DLQ covers the "
            "queue consumers.",
        )

    @property
    def invoke_target(self) -> lambda_.IFunction:
        """What API Gateway or an event source calls: the SnapStart alias, when there is one."""
        return self.alias if self.alias is not None else self.function
