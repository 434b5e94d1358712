"""The HTTPS API: API Gateway REST in front of two Lambda entry points of the same FastAPI app.

- control plane (`functions/api/handler.py`, Mangum): every route, buffered;
- data plane (`functions/api/run.sh`, uvicorn under the Lambda Web Adapter): the inference routes,
  integrated with response streaming so tokens reach the client as they are generated.

Both run on a published version with SnapStart, behind the `live` alias.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from constructs import Construct

from inference_core.snapstart import LWA_AFTER_RESTORE_PATH
from infra.lambda_function import GatewayFunction
from infra.nag import acknowledge

# Served by the data plane with ResponseTransferMode.STREAM; everything else by the control plane.
STREAMING_ROUTES = (
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/messages",
    "/v1/generate",
    "/v1/chat",
    "/v1/responses",
)
LWA_ACCOUNT = "753240598075"
# Multipart uploads (`POST /v1/files`) and file downloads must reach Mangum as bytes, not text;
# images (the console's icon) leave Mangum base64-encoded and must reach the browser as bytes.
BINARY_MEDIA_TYPES = ("multipart/form-data", "application/octet-stream", "image/*")


def _access_log_format() -> apigateway.AccessLogFormat:
    """One JSON object per request; every value quoted, so a `-` never breaks the JSON."""
    f = apigateway.AccessLogField
    fields = {
        "requestId": f.context_request_id(),
        "extendedRequestId": f.context_extended_request_id(),
        "ip": f.context_identity_source_ip(),
        "userAgent": f.context_identity_user_agent(),
        "requestTime": f.context_request_time(),
        "httpMethod": f.context_http_method(),
        "resourcePath": f.context_resource_path(),
        "path": f.context_path(),
        "protocol": f.context_protocol(),
        "status": f.context_status(),
        "responseLength": f.context_response_length(),
        "responseLatency": f.context_response_latency(),
        "integrationLatency": f.context_integration_latency(),
        "integrationStatus": f.context_integration_status(),
        "integrationError": f.context_integration_error_message(),
        "errorMessage": f.context_error_message(),
        "xrayTraceId": f.context_xray_trace_id(),
    }
    return apigateway.AccessLogFormat.custom(json.dumps(fields, separators=(",", ":")))


class GatewayApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        memory_mb: int,
        timeout: Duration,
        stream_timeout: Duration,
        lwa_layer_version: int,
        snap_start: bool,
        stage_name: str,
        throttle_rate_limit: int,
        throttle_burst_limit: int,
        cors_origins: Sequence[str],
        domain_name: str | None,
        certificate_arn: str | None,
        hosted_zone_id: str | None,
        hosted_zone_name: str | None,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.control_plane = GatewayFunction(
            self,
            "ControlPlane",
            description="Inference Core API, control plane (Mangum, buffered)",
            code_dir="api",
            handler="handler.handler",
            memory_mb=memory_mb,
            timeout=timeout,
            layers=layers,
            environment=environment,
            log_retention=log_retention,
            removal_policy=removal_policy,
            publish=True,
            snap_start=snap_start,
        )
        web_adapter = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "WebAdapter",
            f"arn:{stack.partition}:lambda:{stack.region}:{LWA_ACCOUNT}:layer:"
            f"LambdaAdapterLayerArm64:{lwa_layer_version}",
        )
        self.data_plane = GatewayFunction(
            self,
            "DataPlane",
            description="Inference Core API, data plane (uvicorn under the Web Adapter, streaming)",
            code_dir="api",
            handler="run.sh",
            memory_mb=memory_mb,
            timeout=stream_timeout,
            layers=[web_adapter, *layers],
            environment={
                **environment,
                "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
                "AWS_LWA_INVOKE_MODE": "response_stream",
                "AWS_LWA_PORT": "8080",
                "PORT": "8080",
                "AWS_LWA_READINESS_CHECK_PATH": "/health",
                # After a restore the adapter POSTs here before any traffic (api.routes.
                # snapstart_hooks): re-seed `random`, drop pooled connections and credentials.
                **(
                    {"AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH": LWA_AFTER_RESTORE_PATH}
                    if snap_start
                    else {}
                ),
            },
            log_retention=log_retention,
            removal_policy=removal_policy,
            publish=True,
            snap_start=snap_start,
        )

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=removal_policy
        )
        cors = (
            apigateway.CorsOptions(
                allow_origins=list(cors_origins),
                allow_methods=apigateway.Cors.ALL_METHODS,
                allow_headers=[
                    *apigateway.Cors.DEFAULT_HEADERS,
                    "x-api-key",
                    "anthropic-version",
                    "anthropic-beta",
                    "openai-organization",
                    "openai-project",
                ],
                expose_headers=["x-request-id", "x-cache", "retry-after"],
                max_age=Duration.hours(1),
            )
            if cors_origins
            else None
        )
        self.stage_name = stage_name
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{stack.stack_name}-api",
            description="Inference Core: OpenAI- and Anthropic-compatible LLM gateway",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            binary_media_types=list(BINARY_MEDIA_TYPES),
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_cors_preflight_options=cors,
            deploy_options=apigateway.StageOptions(
                stage_name=stage_name,
                tracing_enabled=True,
                metrics_enabled=True,  # per-route latency and errors for the dashboard
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies carry prompts and credentials
                throttling_rate_limit=throttle_rate_limit,
                throttling_burst_limit=throttle_burst_limit,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=_access_log_format(),
            ),
        )
        # The stack publishes the URL as `ApiUrl`; drop the RestApi's own generated output.
        self.rest_api.node.try_remove_child("Endpoint")
        self._gateway_responses(cors_origins)

        control = apigateway.LambdaIntegration(
            self.control_plane.invoke_target, scope_permission_to_method=False
        )
        stream = apigateway.LambdaIntegration(
            self.data_plane.invoke_target,
            response_transfer_mode=apigateway.ResponseTransferMode.STREAM,
            timeout=stream_timeout,
            scope_permission_to_method=False,
        )
        root = self.rest_api.root
        root.add_method("ANY", control)
        root.add_resource("{proxy+}").add_method("ANY", control)
        v1 = root.add_resource("v1")
        v1.add_method("ANY", control)
        # Explicit so an unknown /v1/... path still reaches the app (and gets its JSON 404).
        v1.add_resource("{proxy+}").add_method("ANY", control)
        self.streaming_methods: dict[str, apigateway.Method] = {}
        for route in STREAMING_ROUTES:
            resource = root.resource_for_path(route)
            self.streaming_methods[route] = resource.add_method("POST", stream)
            # Sub-paths (e.g. /v1/messages/count_tokens) stay with the control plane.
            resource.add_resource("{proxy+}").add_method("ANY", control)

        self.domain: apigateway.DomainName | None = None
        self._domain_name = domain_name
        if domain_name and certificate_arn:
            self.domain = self.rest_api.add_domain_name(
                "CustomDomain",
                domain_name=domain_name,
                certificate=acm.Certificate.from_certificate_arn(
                    self, "Certificate", certificate_arn
                ),
                endpoint_type=apigateway.EndpointType.REGIONAL,
                security_policy=apigateway.SecurityPolicy.TLS_1_2,
            )
            if hosted_zone_id and hosted_zone_name:
                zone = route53.HostedZone.from_hosted_zone_attributes(
                    self, "Zone", hosted_zone_id=hosted_zone_id, zone_name=hosted_zone_name
                )
                route53.ARecord(
                    self,
                    "AliasRecord",
                    zone=zone,
                    record_name=domain_name,
                    target=route53.RecordTarget.from_alias(
                        route53_targets.ApiGatewayDomain(self.domain)
                    ),
                )

        self._acknowledge_findings()

    @property
    def url(self) -> str:
        return self.rest_api.url

    def public_base_url(self) -> str:
        """The URL users see, built without a reference to the stage (which needs the functions)."""
        if self.domain is not None:
            # The literal name: the DomainName resource depends on the stage, which depends on
            # the functions, so a reference from their environment would be a cycle.
            return f"https://{self._domain_name}"
        stack = Stack.of(self)
        return (
            f"https://{self.rest_api.rest_api_id}.execute-api.{stack.region}."
            f"{stack.url_suffix}/{self.stage_name}"
        )

    def _gateway_responses(self, cors_origins: Sequence[str]) -> None:
        """Errors API Gateway itself produces (throttling, oversize payload, unknown method) get
        OpenAI's error body, so SDKs raise their usual exception classes."""
        headers = {}
        if len(cors_origins) == 1:
            headers["Access-Control-Allow-Origin"] = f"'{cors_origins[0]}'"
        body = (
            '{"error":{"message":$context.error.messageString,'
            '"type":"%s","param":null,"code":"$context.error.responseType"}}'
        )
        for response_id, kind, response_type in (
            ("Default4xx", "invalid_request_error", apigateway.ResponseType.DEFAULT_4_XX),
            ("Default5xx", "api_error", apigateway.ResponseType.DEFAULT_5_XX),
            ("Throttled", "rate_limit_error", apigateway.ResponseType.THROTTLED),
        ):
            self.rest_api.add_gateway_response(
                response_id,
                type=response_type,
                response_headers=headers or None,
                templates={"application/json": body % kind},
            )

    def _acknowledge_findings(self) -> None:
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Request bodies are validated by the app (pydantic), which must answer in the OpenAI "
            "or Anthropic error format depending on the route; API Gateway's validator cannot.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "WAF is left to the operator (it costs per web ACL and request); the stage throttles, "
            "and every request is authenticated and rate-limited per key in the app.",
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(
                self.rest_api,
                rule,
                "Authentication is the app's: bearer API keys (SHA-256 lookup) and JWT access "
                "tokens, as OpenAI and Anthropic clients send them; a Cognito or Lambda authorizer "
                "cannot accept both wire formats and would add a hop to every token.",
            )
        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level role API Gateway uses to write execution and access logs; AWS's "
            "managed policy is the documented one for it.",
        )
