"""Deployment parameters, read once from CDK context (`cdk.json` or `-c key=value`).

Every knob an operator may turn lives here with its default, so the constructs take typed,
keyword-only values and never read context themselves.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs import Node

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Used when neither the environment (CDK_DEFAULT_ACCOUNT/REGION, set by the CLI from credentials)
# nor the context names an account: synth then works offline, without credentials.
DUMMY_ACCOUNT = "123456789012"
DUMMY_REGION = "us-east-1"


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _as_list(value: Any) -> tuple[str, ...]:
    """Context lists arrive as JSON lists (cdk.json) or comma-separated strings (`-c`)."""
    if value is None or value == "":
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    text = str(value).strip()
    if text.startswith("["):
        return _as_list(json.loads(text))
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True, kw_only=True)
class SageMakerConfig:
    """The optional self-hosted model: a TGI container on a GPU instance, real-time endpoint."""

    enabled: bool = False
    endpoint_name: str = "inference-core-llm"
    model_id: str = "Qwen/Qwen2.5-7B-Instruct"
    model_alias: str = "qwen2.5-7b-instruct"
    instance_type: str = "ml.g5.xlarge"
    num_gpus: int = 1
    # TGI container: the Hugging Face LLM DLC. `image_uri` overrides the resolved one entirely.
    image_uri: str | None = None
    # The TGI version of the Hugging Face LLM DLC, resolved by the pinned SageMaker SDK.
    tgi_version: str = "3.0.1"
    max_input_tokens: int = 6144
    max_total_tokens: int = 8192
    min_instances: int = 1
    max_instances: int = 2
    # Target for SageMakerVariantInvocationsPerInstance (invocations per instance per minute).
    invocations_per_instance: int = 60
    input_price_per_mtok: float = 0.0
    output_price_per_mtok: float = 0.0
    # Deploy the model as an inference component that scales to `min_copies` copies after
    # `idle_minutes` without a request (instances follow the copies, down to none).
    scale_to_zero: bool = False
    min_copies: int = 0
    idle_minutes: int = 15
    # Memory one copy reserves on its instance (an inference component must say).
    min_memory_mb: int = 8192

    @property
    def inference_component_name(self) -> str | None:
        return f"{self.endpoint_name}-model" if self.scale_to_zero else None


@dataclass(frozen=True, kw_only=True)
class InfraConfig:
    stack_name: str = "InferenceCore"
    account: str = DUMMY_ACCOUNT
    region: str = DUMMY_REGION
    # "retain" keeps tables, the files bucket, secrets and logs on `cdk destroy`; "destroy"
    # removes them.
    removal_policy: str = "retain"
    log_retention_days: int = 30

    # API Gateway
    stage_name: str = "prod"
    cors_origins: tuple[str, ...] = ()
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100
    # API Gateway REST caps payloads at 10 MB (not configurable); the app refuses bodies above
    # this (IC_MAX_REQUEST_BODY_BYTES).
    max_request_body_bytes: int = 1_048_576
    domain_name: str | None = None
    certificate_arn: str | None = None
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None

    # Functions
    # Lambda Web Adapter layer version (30 is the first with SnapStart hooks for zip functions).
    lwa_layer_version: int = 30
    # SnapStart on both API functions (each cached snapshot costs while the version is live).
    snap_start: bool = True
    api_memory_mb: int = 1024
    api_timeout_seconds: int = 29
    stream_timeout_seconds: int = 300
    worker_memory_mb: int = 1024
    worker_timeout_seconds: int = 300
    # Records per worker invocation (run concurrently, `IC_BATCH_WORKER_CONCURRENCY` at a time);
    # over 10 the event source gathers them for up to a second (`max_batching_window`).
    worker_batch_size: int = 100
    worker_max_concurrency: int = 5
    mailer_memory_mb: int = 256
    mailer_timeout_seconds: int = 30
    mailer_batch_size: int = 10
    mailer_max_concurrency: int = 2
    # How the shared layer gets its third-party wheels (pip, for arm64, cached per pin set):
    # "auto" builds them and, offline, falls back to the package alone with a warning (synth
    # must work without a network); "required" fails instead (what `make deploy` uses); "skip"
    # never runs pip (tests, quick synths; `-c skip_layer_install=true` means the same).
    layer_dependencies: str = "auto"

    # App settings passed through as IC_* variables
    inference_access: str = "user"
    require_email_verification: bool = False
    model_registry_file: str = "layers/shared/python/inference_core/models.example.json"
    files_retention_days: int = 30

    # Mail
    ses_identity: str = "noreply@example.com"
    mail_from: str | None = None

    # Observability
    alarm_emails: tuple[str, ...] = ()
    metrics_namespace: str = "InferenceCore"
    service_name: str = "inference-core"
    latency_p99_alarm_ms: int = 30_000
    error_rate_alarm_percent: float = 5.0

    sagemaker: SageMakerConfig = field(default_factory=SageMakerConfig)

    @property
    def retain(self) -> bool:
        return self.removal_policy != "destroy"

    @property
    def sender_address(self) -> str:
        if self.mail_from:
            return self.mail_from
        if "@" in self.ses_identity:
            return self.ses_identity
        return f"noreply@{self.ses_identity}"

    @property
    def registry_path(self) -> Path:
        path = Path(self.model_registry_file)
        return path if path.is_absolute() else PROJECT_ROOT / path

    @classmethod
    def from_context(cls, node: Node) -> InfraConfig:
        def ctx(key: str, default: Any = None) -> Any:
            value = node.try_get_context(key)
            return default if value is None else value

        skip = _truthy(ctx("skip_layer_install", False)) or _truthy(
            os.environ.get("SKIP_LAYER_INSTALL") or False
        )
        sm = SageMakerConfig()
        sagemaker = SageMakerConfig(
            enabled=_truthy(ctx("sagemaker", sm.enabled)),
            endpoint_name=str(ctx("sagemaker_endpoint_name", sm.endpoint_name)),
            model_id=str(ctx("sagemaker_model_id", sm.model_id)),
            model_alias=str(ctx("sagemaker_model_alias", sm.model_alias)),
            instance_type=str(ctx("sagemaker_instance_type", sm.instance_type)),
            num_gpus=int(ctx("sagemaker_num_gpus", sm.num_gpus)),
            image_uri=ctx("sagemaker_image_uri") or None,
            tgi_version=str(ctx("sagemaker_tgi_version", sm.tgi_version)),
            max_input_tokens=int(ctx("sagemaker_max_input_tokens", sm.max_input_tokens)),
            max_total_tokens=int(ctx("sagemaker_max_total_tokens", sm.max_total_tokens)),
            min_instances=int(ctx("sagemaker_min_instances", sm.min_instances)),
            max_instances=int(ctx("sagemaker_max_instances", sm.max_instances)),
            invocations_per_instance=int(
                ctx("sagemaker_invocations_per_instance", sm.invocations_per_instance)
            ),
            input_price_per_mtok=float(ctx("sagemaker_input_price_per_mtok", 0.0)),
            output_price_per_mtok=float(ctx("sagemaker_output_price_per_mtok", 0.0)),
            scale_to_zero=_truthy(ctx("sagemaker_scale_to_zero", sm.scale_to_zero)),
            min_copies=int(ctx("sagemaker_min_copies", sm.min_copies)),
            idle_minutes=int(ctx("sagemaker_idle_minutes", sm.idle_minutes)),
            min_memory_mb=int(ctx("sagemaker_min_memory_mb", sm.min_memory_mb)),
        )
        d = cls()
        config = cls(
            stack_name=str(ctx("stack_name", d.stack_name)),
            account=os.environ.get("CDK_DEFAULT_ACCOUNT") or str(ctx("dummy_account", d.account)),
            region=os.environ.get("CDK_DEFAULT_REGION") or str(ctx("dummy_region", d.region)),
            removal_policy=str(ctx("removal_policy", d.removal_policy)).lower(),
            log_retention_days=int(ctx("log_retention_days", d.log_retention_days)),
            stage_name=str(ctx("stage_name", d.stage_name)),
            cors_origins=_as_list(ctx("cors_origins")),
            throttle_rate_limit=int(ctx("throttle_rate_limit", d.throttle_rate_limit)),
            throttle_burst_limit=int(ctx("throttle_burst_limit", d.throttle_burst_limit)),
            max_request_body_bytes=int(ctx("max_request_body_bytes", d.max_request_body_bytes)),
            domain_name=ctx("domain_name") or None,
            certificate_arn=ctx("certificate_arn") or None,
            hosted_zone_id=ctx("hosted_zone_id") or None,
            hosted_zone_name=ctx("hosted_zone_name") or None,
            lwa_layer_version=int(ctx("lwa_layer_version", d.lwa_layer_version)),
            snap_start=_truthy(ctx("snap_start", d.snap_start)),
            api_memory_mb=int(ctx("api_memory_mb", d.api_memory_mb)),
            api_timeout_seconds=int(ctx("api_timeout_seconds", d.api_timeout_seconds)),
            stream_timeout_seconds=int(ctx("stream_timeout_seconds", d.stream_timeout_seconds)),
            worker_memory_mb=int(ctx("worker_memory_mb", d.worker_memory_mb)),
            worker_timeout_seconds=int(ctx("worker_timeout_seconds", d.worker_timeout_seconds)),
            worker_batch_size=int(ctx("worker_batch_size", d.worker_batch_size)),
            worker_max_concurrency=int(ctx("worker_max_concurrency", d.worker_max_concurrency)),
            mailer_memory_mb=int(ctx("mailer_memory_mb", d.mailer_memory_mb)),
            mailer_timeout_seconds=int(ctx("mailer_timeout_seconds", d.mailer_timeout_seconds)),
            mailer_batch_size=int(ctx("mailer_batch_size", d.mailer_batch_size)),
            mailer_max_concurrency=int(ctx("mailer_max_concurrency", d.mailer_max_concurrency)),
            layer_dependencies="skip"
            if skip
            else str(ctx("layer_dependencies", d.layer_dependencies)).lower(),
            inference_access=str(ctx("inference_access", d.inference_access)),
            require_email_verification=_truthy(
                ctx("require_email_verification", d.require_email_verification)
            ),
            model_registry_file=str(ctx("model_registry_file", d.model_registry_file)),
            files_retention_days=int(ctx("files_retention_days", d.files_retention_days)),
            ses_identity=str(ctx("ses_identity", d.ses_identity)),
            mail_from=ctx("mail_from") or None,
            alarm_emails=_as_list(ctx("alarm_emails")),
            metrics_namespace=str(ctx("metrics_namespace", d.metrics_namespace)),
            service_name=str(ctx("service_name", d.service_name)),
            latency_p99_alarm_ms=int(ctx("latency_p99_alarm_ms", d.latency_p99_alarm_ms)),
            error_rate_alarm_percent=float(
                ctx("error_rate_alarm_percent", d.error_rate_alarm_percent)
            ),
            sagemaker=sagemaker,
        )
        config.validate()
        return config

    def validate(self) -> None:
        if self.layer_dependencies not in {"auto", "required", "skip"}:
            raise ValueError("layer_dependencies must be auto, required or skip")
        if self.removal_policy not in {"retain", "destroy"}:
            raise ValueError("removal_policy must be 'retain' or 'destroy'")
        if self.inference_access not in {"public", "user", "superuser"}:
            raise ValueError("inference_access must be one of public, user, superuser")
        if bool(self.domain_name) != bool(self.certificate_arn):
            raise ValueError("domain_name and certificate_arn go together")
        if bool(self.hosted_zone_id) != bool(self.hosted_zone_name):
            raise ValueError("hosted_zone_id and hosted_zone_name go together")
        if not 1 <= self.worker_batch_size <= 10_000 or not 1 <= self.mailer_batch_size <= 10_000:
            raise ValueError("SQS batch sizes must be between 1 and 10000")
        if self.worker_max_concurrency < 2 or self.mailer_max_concurrency < 2:
            raise ValueError("SQS maximum concurrency must be at least 2")
        if (
            self.sagemaker.min_instances < 1
            or self.sagemaker.max_instances < self.sagemaker.min_instances
        ):
            raise ValueError("sagemaker_min_instances >= 1 and max >= min")
        if not 0 <= self.sagemaker.min_copies <= self.sagemaker.max_instances:
            raise ValueError("sagemaker_min_copies must be between 0 and sagemaker_max_instances")
        if not 1 <= self.sagemaker.idle_minutes <= 1440:
            raise ValueError("sagemaker_idle_minutes must be between 1 and 1440")
