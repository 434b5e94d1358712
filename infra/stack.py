"""The one stack: composes the capabilities, wires every grant, and publishes the outputs.

Grants live here, in one place, so each function's role reads as a list of what it may touch.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.api import STREAMING_ROUTES, GatewayApi
from infra.bedrock_access import grant_bedrock
from infra.config import InfraConfig
from infra.data import DataStore
from infra.lambda_function import RUNTIME, GatewayFunction
from infra.mail import Mail
from infra.model_endpoint import ModelEndpoint
from infra.observability import ApiTarget, Observability
from infra.secret_store import SecretStore
from infra.shared_layer import ModelRegistryLayer, SharedLayer
from infra.workers import BatchWorkers

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}

# Which tables each function may read and write (TableSettings field names). Tables another
# module has not registered yet are skipped.
CONTROL_PLANE_TABLES = (
    "users_table",
    "api_keys_table",
    "sessions_table",
    "cache_table",
    "usage_table",
    "jobs_table",
    "files_table",
    "responses_table",
    "teams_table",
    "usage_aggregates_table",
    "audit_table",
)
DATA_PLANE_TABLES = (
    "users_table",
    "api_keys_table",
    "sessions_table",
    "cache_table",
    "usage_table",
    "responses_table",
    "teams_table",
    "usage_aggregates_table",
)
WORKER_TABLES = (
    "users_table",
    "api_keys_table",
    "cache_table",
    "usage_table",
    "jobs_table",
    "files_table",
    "idempotency_table",
    "teams_table",
    "usage_aggregates_table",
)
# The mailer renders from the message alone; its only table is its idempotency record.
MAILER_TABLES = ("idempotency_table",)


class InferenceCoreStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=config.account, region=config.region),
            description="Inference Core: serverless LLM gateway (OpenAI and Anthropic APIs)",
        )
        if config.log_retention_days not in _RETENTION:
            raise ValueError(f"log_retention_days must be one of {sorted(_RETENTION)}")
        removal = RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY
        retention = _RETENTION[config.log_retention_days]

        secrets = SecretStore(self, "Secrets", removal_policy=removal)
        data = DataStore(
            self,
            "Data",
            removal_policy=removal,
            files_retention=Duration.days(config.files_retention_days),
        )
        shared = SharedLayer(
            self, "SharedLayer", runtime=RUNTIME, dependencies=config.layer_dependencies
        )
        registry = ModelRegistryLayer(
            self,
            "ModelRegistry",
            base_registry=config.registry_path,
            sagemaker=config.sagemaker,
            runtime=RUNTIME,
        )
        self.model_endpoint = (
            ModelEndpoint(self, "ModelEndpoint", config=config.sagemaker)
            if config.sagemaker.enabled
            else None
        )

        environment = {
            "IC_REGION": self.region,
            "IC_MODEL_REGISTRY_PATH": registry.mount_path,
            "IC_INFERENCE_ACCESS": config.inference_access,
            "IC_REQUIRE_EMAIL_VERIFICATION": str(config.require_email_verification).lower(),
            "IC_MAX_REQUEST_BODY_BYTES": str(config.max_request_body_bytes),
            "IC_CORS_ORIGINS": ",".join(config.cors_origins),
            "POWERTOOLS_SERVICE_NAME": config.service_name,
            "POWERTOOLS_METRICS_NAMESPACE": config.metrics_namespace,
            **data.environment(),
            **secrets.environment(),
        }
        inference_layers = [shared.layer, registry.layer]
        api = GatewayApi(
            self,
            "Api",
            layers=inference_layers,
            environment=environment,
            memory_mb=config.api_memory_mb,
            timeout=Duration.seconds(config.api_timeout_seconds),
            stream_timeout=Duration.seconds(config.stream_timeout_seconds),
            lwa_layer_version=config.lwa_layer_version,
            snap_start=config.snap_start,
            stage_name=config.stage_name,
            throttle_rate_limit=config.throttle_rate_limit,
            throttle_burst_limit=config.throttle_burst_limit,
            cors_origins=config.cors_origins,
            domain_name=config.domain_name,
            certificate_arn=config.certificate_arn,
            hosted_zone_id=config.hosted_zone_id,
            hosted_zone_name=config.hosted_zone_name,
            log_retention=retention,
            removal_policy=removal,
        )
        workers = BatchWorkers(
            self,
            "Batch",
            layers=inference_layers,
            environment=environment,
            memory_mb=config.worker_memory_mb,
            timeout=Duration.seconds(config.worker_timeout_seconds),
            batch_size=config.worker_batch_size,
            max_concurrency=config.worker_max_concurrency,
            log_retention=retention,
            removal_policy=removal,
        )
        mail = Mail(
            self,
            "Mail",
            identity=config.ses_identity,
            sender=config.sender_address,
            layers=inference_layers,
            environment=environment,
            memory_mb=config.mailer_memory_mb,
            timeout=Duration.seconds(config.mailer_timeout_seconds),
            batch_size=config.mailer_batch_size,
            max_concurrency=config.mailer_max_concurrency,
            log_retention=retention,
            removal_policy=removal,
        )
        self.functions: dict[str, GatewayFunction] = {
            "ControlPlane": api.control_plane,
            "DataPlane": api.data_plane,
            "Worker": workers.worker,
            "Mailer": mail.mailer,
        }

        # Values known only once everything exists: every function gets the same IC_* settings.
        late_environment = {
            "IC_MAIL_QUEUE_URL": mail.queue.queue.queue_url,
            "IC_BATCH_QUEUE_URL": workers.queue.queue.queue_url,
            "IC_BATCH_QUEUE_DLQ_URL": workers.queue.dead_letter_queue.queue_url,
            "IC_PUBLIC_BASE_URL": api.public_base_url(),
        }
        for fn in self.functions.values():
            for name, value in late_environment.items():
                fn.function.add_environment(name, value)

        # --- grants ---------------------------------------------------------------------------
        control, data_plane = api.control_plane, api.data_plane
        worker, mailer = workers.worker, mail.mailer
        data.grant_tables(control.role, CONTROL_PLANE_TABLES, write=True)
        data.grant_tables(data_plane.role, DATA_PLANE_TABLES, write=True)
        data.grant_tables(worker.role, WORKER_TABLES, write=True)
        data.grant_tables(mailer.role, MAILER_TABLES, write=True)
        data.grant_files(control.role, delete=True)
        data.grant_files(worker.role, delete=False)
        # Batches are queued by the API (and re-queued by the worker); auth flows and finished
        # batches queue mail. The data plane only serves inference and queues nothing.
        for fn in (control, worker):
            workers.queue.queue.grant_send_messages(fn.role)
            mail.queue.queue.grant_send_messages(fn.role)
        for fn in (control, data_plane):
            secrets.jwt_secret.grant_read(fn.role)
        # The worker parks a line that keeps failing on the DLQ itself, with its reason.
        workers.queue.dead_letter_queue.grant_send_messages(worker.role)
        # Webhooks: the API shows users their signing secret and checks ingest signatures; the
        # worker signs completion webhooks.
        for fn in (control, worker):
            secrets.webhook_signing_key.grant_read(fn.role)
        secrets.webhook_ingest_secrets.grant_read(control.role)
        for fn in (control, data_plane, worker):
            secrets.provider_keys.grant_read(fn.role)
            if self.model_endpoint is not None:
                fn.role.add_to_policy(self.model_endpoint.invoke_statement())
        # Bedrock: only the models and inference profiles the deployed registry names.
        grant_bedrock([control.role, data_plane.role, worker.role], self, registry.registry)

        Observability(
            self,
            "Observability",
            api=ApiTarget(
                api_name=api.rest_api.rest_api_name,
                stage_name=config.stage_name,
                routes=STREAMING_ROUTES,
            ),
            functions=self.functions,
            queues={"Batch": workers.queue, "Mail": mail.queue},
            model_endpoint=self.model_endpoint,
            metrics_namespace=config.metrics_namespace,
            service_name=config.service_name,
            alarm_emails=config.alarm_emails,
            latency_p99_alarm_ms=config.latency_p99_alarm_ms,
            error_rate_alarm_percent=config.error_rate_alarm_percent,
        )

        # --- outputs (logical ids are part of the interface: scripts and the CLI read them) ---
        self._output("ApiUrl", api.url, "Base URL of the API (OpenAI base_url = this + v1)")
        self._output("PublicBaseUrl", api.public_base_url(), "URL the app puts in emails")
        if api.domain is not None:
            self._output(
                "CustomDomainTarget",
                api.domain.domain_name_alias_domain_name,
                "Point the custom domain's DNS (CNAME or alias) here",
            )
        for setting, table in data.tables.items():
            logical = "".join(p.capitalize() for p in setting.removesuffix("_table").split("_"))
            self._output(f"{logical}TableName", table.table_name, f"IC_{setting.upper()}")
        self._output("BatchQueueUrl", workers.queue.queue.queue_url, "IC_BATCH_QUEUE_URL")
        self._output(
            "BatchDeadLetterQueueUrl", workers.queue.dead_letter_queue.queue_url, "batch DLQ"
        )
        self._output("MailQueueUrl", mail.queue.queue.queue_url, "IC_MAIL_QUEUE_URL")
        self._output("MailDeadLetterQueueUrl", mail.queue.dead_letter_queue.queue_url, "mail DLQ")
        self._output("FilesBucketName", data.files_bucket.bucket_name, "IC_FILES_BUCKET")
        self._output("JwtSecretArn", secrets.jwt_secret.secret_arn, "IC_JWT_SECRET_ARN")
        self._output(
            "ProviderKeysSecretArn",
            secrets.provider_keys.secret_arn,
            "IC_PROVIDER_KEYS_SECRET_ARN: put the provider API keys here",
        )
        self._output("SesIdentity", mail.identity_name, "SES identity the mailer sends from")
        if mail.is_domain_identity:
            for number, record in enumerate(mail.identity.dkim_records, start=1):
                self._output(f"SesDkim{number}Name", record.name, "DKIM CNAME record to publish")
                self._output(f"SesDkim{number}Value", record.value, "DKIM CNAME target")
        self._output(
            "SesConfigurationSet",
            mail.configuration_set.configuration_set_name,
            "SES configuration set",
        )
        for name, fn in self.functions.items():
            self._output(
                f"{name}FunctionName", fn.function.function_name, f"{name} Lambda function"
            )
        # `eval "$(... CliEnvironment ...)"` gives the `inference-core` CLI this deployment (--aws).
        cli_environment = {
            "IC_REGION": self.region,
            **data.environment(),
            **secrets.environment(),
            **late_environment,
        }
        self._output(
            "CliEnvironment",
            " ".join(f"export {name}='{value}';" for name, value in cli_environment.items()),
            "Shell exports for `inference-core ... --aws` against this stack",
        )
        if self.model_endpoint is not None:
            self._output(
                "SageMakerEndpointName", self.model_endpoint.endpoint_name, "model endpoint"
            )
            self._output("SageMakerImageUri", self.model_endpoint.image_uri, "TGI container image")

    def _output(self, output_id: str, value: str, description: str) -> None:
        CfnOutput(self, output_id, value=value, description=description)
