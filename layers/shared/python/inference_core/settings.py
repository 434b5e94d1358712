"""Typed settings for every function, read from the environment at first use (never at import).

On AWS the secrets (JWT signing key, provider API keys) live in Secrets Manager and are read through
Powertools Parameters with caching; locally they come from the environment that `make dev` writes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from inference_core.resilience import ResiliencePolicy

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "test"}
MIN_JWT_SECRET_BYTES = 32  # 256 bits

AccessMode = Literal["public", "user", "superuser"]


class AwsSettings(BaseSettings):
    """Where AWS is: the real one, or moto's server on loopback for the local stack."""

    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    local_mode: bool = False


class TableSettings(BaseSettings):
    """DynamoDB table names; the CDK app passes the real ones, the local stack uses these."""

    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    users_table: str = "ic-users"
    api_keys_table: str = "ic-api-keys"
    sessions_table: str = "ic-sessions"
    cache_table: str = "ic-cache"
    usage_table: str = "ic-usage"
    jobs_table: str = "ic-jobs"
    files_table: str = "ic-files"
    idempotency_table: str = "ic-idempotency"
    responses_table: str = "ic-responses"
    teams_table: str = "ic-teams"
    usage_aggregates_table: str = "ic-usage-aggregates"
    audit_table: str = "ic-audit"


class QueueSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    mail_queue_url: str | None = None
    batch_queue_url: str | None = None
    files_bucket: str = "ic-files"


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    jwt_secret: SecretStr | None = None
    jwt_secret_arn: str | None = None
    jwt_issuer: str = "inference-core"
    jwt_audience: str = "inference-core-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    reset_token_ttl_seconds: int = 3600
    verify_token_ttl_seconds: int = 24 * 3600
    require_email_verification: bool = False
    inference_access: AccessMode = "user"
    # Requests per minute for a principal whose key or user sets no limit of its own.
    default_rpm: int = 60
    public_base_url: str = "http://127.0.0.1:8000"
    # A refresh token presented again this soon after it was rotated is a concurrent refresh (two
    # tabs, a retry), answered with the same new pair; later it is a reuse and revokes the family.
    refresh_reuse_grace_seconds: float = 5.0
    # Live (not revoked) API keys one user may hold.
    max_api_keys_per_user: int = 50
    # Failed sign-ins: this many in a window (per account, and per source IP) → 429.
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 50
    login_failure_window_seconds: int = 900
    # Emails from register, forgot-password and verify-email/request, per account per hour.
    mail_per_account_per_hour: int = 5


class InferenceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    model_registry_path: Path | None = None
    default_model: str = "smollm2"
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    provider_keys_secret_arn: str | None = None
    # Operator-set upstream base URLs (an Azure/OpenAI-compatible gateway, a mock for benchmarks).
    # Never taken from a client request.
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    # Where the SageMaker runtime API is: None means the real regional endpoint.
    sagemaker_endpoint_url: str | None = None
    # Bedrock: the region of its runtime API (None: `IC_REGION`) and an endpoint override (VPC).
    bedrock_region: str | None = None
    bedrock_endpoint_url: str | None = None
    # How long the provider-keys secret is cached before it is read again (a rotated or newly
    # filled key takes over within this time, without a restart).
    provider_keys_max_age_seconds: float = 300.0
    upstream_timeout_seconds: float = 60.0
    max_attempts_per_deployment: int = 2
    # A deployment that fails this many times in a row is skipped for the cooldown (per process).
    circuit_breaker_failures: int = 5
    circuit_breaker_cooldown_seconds: float = 30.0
    # `simple` | `development` | `production` | a JSON override; when set it replaces the three
    # settings above (see `inference_core.resilience`).
    resilience_preset: str | None = None
    retry_base_delay_seconds: float = 0.25
    retry_max_delay_seconds: float = 4.0
    max_prompt_chars: int = 200_000
    max_tokens_cap: int = 4096
    # Request shape caps (see `input_limits`): checked before anything is estimated or sent.
    max_messages: int = 1000
    max_tools: int = 128
    max_tool_chars: int = 32_000
    cache_ttl_seconds: int = 3600
    chat_session_ttl_seconds: int = 2 * 3600
    # How long a stored Responses API response (and its input items) can be read and continued.
    responses_ttl_seconds: int = 30 * 24 * 3600
    # A stored /v1/chat history keeps at most this many turns and bytes (oldest trimmed first).
    chat_history_max_turns: int = 100
    chat_history_max_bytes: int = 256 * 1024
    cache_enabled: bool = True

    @model_validator(mode="after")
    def _check_resilience_preset(self) -> InferenceSettings:
        self.resilience  # noqa: B018 - parsing is the check: a bad preset refuses to start
        return self

    @property
    def resilience(self) -> tuple[str, ResiliencePolicy]:
        """The active (preset name, policy): the preset, or the individual settings."""
        from inference_core.resilience import ResiliencePolicy, parse_preset

        if self.resilience_preset:
            return parse_preset(self.resilience_preset)
        return "settings", ResiliencePolicy(
            retries=max(0, self.max_attempts_per_deployment - 1),
            breaker_failures=max(1, self.circuit_breaker_failures),
            breaker_recovery_seconds=self.circuit_breaker_cooldown_seconds,
        )


BudgetPeriod = Literal["day", "month", "total"]


class GovernanceSettings(BaseSettings):
    """Deployment-wide limits and the admission machinery's timings (see docs/governance.md).

    The `default_*` limits apply at the user level to every user who sets none of their own
    (`default_rpm` in AuthSettings is the requests-per-minute default); keys and teams without a
    limit add none. `lease_seconds` must outlive the longest request (the data-plane function's
    timeout): a lease older than that belongs to a dead process and is reclaimed.
    """

    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    default_tpm_limit: int | None = None
    default_max_parallel_requests: int | None = None
    default_max_budget_usd: float | None = None
    default_budget_period: BudgetPeriod = "month"
    lease_seconds: int = 900
    # Key → user → team resolution (ids and limits, never revocation) is cached this long.
    resolution_cache_seconds: float = 30.0
    # How long the daily usage aggregates are kept.
    usage_aggregate_retention_days: int = 400


class MailSettings(BaseSettings):
    """How email leaves: SES v2 from a verified identity, with an optional SMTP fallback.

    `smtp_fallback_on` lists (comma-separated) which SES failures hand the message to SMTP:
    `refused` (MessageRejected, sending paused, MAIL FROM not verified), `throttled` (after
    botocore's own retries) and `unavailable` (SES unreachable or failing).
    """

    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    mail_from: str = "no-reply@example.com"
    mail_from_name: str | None = "Inference Core"
    mail_configuration_set: str | None = None
    # How long a sent message's idempotency record lives (longer than the queue's retention).
    mail_idempotency_ttl_seconds: int = 4 * 24 * 3600
    smtp_host: str | None = None
    smtp_port: int | None = None  # None: 465 for "ssl", 587 for "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_secret_arn: str | None = None
    smtp_security: Literal["ssl", "starttls"] = "ssl"
    smtp_timeout_seconds: float = 10.0
    smtp_fallback_enabled: bool = False
    smtp_fallback_on: str = "refused,throttled,unavailable"

    @model_validator(mode="after")
    def _check_mail(self) -> MailSettings:
        if "@" not in self.mail_from or any(c in self.mail_from for c in "\r\n <>"):
            raise ValueError("IC_MAIL_FROM must be a bare email address, e.g. no-reply@example.com")
        unknown = self.fallback_reasons - {"refused", "throttled", "unavailable"}
        if unknown:
            raise ValueError(f"IC_SMTP_FALLBACK_ON: unknown reasons {sorted(unknown)}")
        if self.smtp_fallback_enabled and not self.smtp_host:
            raise ValueError("IC_SMTP_HOST is required when IC_SMTP_FALLBACK_ENABLED is set")
        return self

    @property
    def fallback_reasons(self) -> frozenset[str]:
        return frozenset(r.strip() for r in self.smtp_fallback_on.split(",") if r.strip())

    @property
    def resolved_smtp_port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return 465 if self.smtp_security == "ssl" else 587


class BatchSettings(BaseSettings):
    """Batch jobs: input limits, the inline form, the worker, and the batch queue's DLQ.

    `batch_max_receive_count` must equal the batch queue's redrive `maxReceiveCount` (the local
    stack and the CDK app both use `redrive.MAX_RECEIVE_COUNT`): on that receive the worker
    gives a still-failing line up and writes it to the error file (its message is consumed; the
    DLQ is for messages the worker cannot process at all).
    """

    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    # API Gateway refuses request bodies over 10 MB, so an upload (multipart) stays under it.
    batch_max_file_bytes: int = 9 * 1024 * 1024
    batch_max_lines: int = 10_000
    batch_inline_max_items: int = 100
    # Records of one SQS invocation run concurrently, at most this many at a time (the CDK app
    # hands the worker up to `worker_batch_size` records per invocation).
    batch_worker_concurrency: int = 32
    # A record not started while this many seconds of the invocation remain goes back to the
    # queue (partial batch failure) instead of racing the function's timeout: at least the
    # longest a line may take (the upstream timeout and its retries). Capped at half of what an
    # invocation starts with, so a function with a shorter timeout still runs its records.
    batch_deadline_reserve_seconds: int = 60
    batch_max_receive_count: int = 5
    # The batch queue's DLQ: the worker moves messages it cannot process there itself (an
    # unparseable body, an unknown batch, its stores failing on the last receive), with reasons.
    # Without it they fail until SQS's own redrive moves them (after maxReceiveCount).
    batch_queue_dlq_url: str | None = None
    # A transiently failing line comes back after base * 2^(receives-1) seconds (capped).
    batch_retry_base_seconds: int = 10
    batch_retry_max_seconds: int = 900
    # Creating a batch queues this many lines at once; a worker queues the rest in chunks.
    batch_enqueue_inline_lines: int = 1000
    batch_expand_chunk_lines: int = 2000
    # Past its deadline (or this long after a cancel) a batch that still waits for lines is
    # finalized anyway; its missing lines are written as expired (or cancelled).
    batch_stuck_grace_seconds: int = 900
    # A finalizer that has not finished after this long is presumed dead and may be replaced
    # (longer than the worker function's timeout).
    batch_finalizer_stale_seconds: int = 600
    batch_line_retention_days: int = 14
    batch_job_retention_days: int = 365
    batch_idempotency_ttl_seconds: int = 4 * 24 * 3600
    batch_email_notifications: bool = True


class WebhookSettings(BaseSettings):
    """Outbound completion webhooks and the signed ingest endpoint.

    - `webhook_signing_secret` (or `_arn`): the master key; each user's webhooks are signed with a
      key derived from it (`GET /v1/webhooks/secret` shows a user theirs). In local mode it falls
      back to a key derived from the JWT secret.
    - `webhook_allow_hosts`: comma-separated hosts, IPs or CIDRs that may be called even though
      they resolve to private, loopback or link-local addresses (never the metadata service
      unless listed explicitly).
    - `webhook_ingest_secrets` (or `_arn`): JSON `{"<integration>": {"secret": "...",
      "user_id": "...", "api_key_id": null}}`: who may submit jobs to `POST /webhooks/ingest`
      and which account each integration's jobs are charged to.
    """

    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    webhook_signing_secret: SecretStr | None = None
    webhook_signing_secret_arn: str | None = None
    webhook_allow_hosts: str = ""
    webhook_require_https: bool = True
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 3
    webhook_retry_base_seconds: float = 1.0
    webhook_signature_tolerance_seconds: int = 300
    webhook_ingest_secrets: SecretStr | None = None
    webhook_ingest_secrets_arn: str | None = None

    @property
    def allow_hosts(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in self.webhook_allow_hosts.split(",") if h.strip())


class HttpSettings(BaseSettings):
    """What the app enforces at the HTTP edge (API Gateway's own limits are wider)."""

    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    # Comma-separated origins allowed by CORS ("*" for any); empty: no CORS headers.
    cors_origins: str = ""
    max_request_body_bytes: int = 1024 * 1024
    # Set by the Lambda runtime: only there is the Web Adapter's `x-amzn-request-context` header
    # (the API Gateway request context, source IP included) the adapter's and not a client's.
    lambda_function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")


GuardrailMode = Literal["off", "detect", "redact", "block"]
GUARDRAIL_CHECKS = frozenset(
    {"injection", "pii", "secrets", "size", "content_type"}
    | {"output_pii", "output_secrets", "output_markup"}
)


def check_guardrail_policy(policy: dict[str, str], where: str) -> None:
    """Refuse an unknown check or mode (a check may be narrowed to one rule: `pii.email`)."""
    for name, mode in policy.items():
        if name.split(".", 1)[0] not in GUARDRAIL_CHECKS:
            raise ValueError(f"{where}: unknown guardrail check {name!r}")
        if mode not in ("off", "detect", "redact", "block"):
            raise ValueError(f"{where}: {name!r} must be off, detect, redact or block")


class GuardrailSettings(BaseSettings):
    """The deployment's guardrail policy and its per-team and per-key overrides (docs/guardrails.md).

    `IC_GUARDRAILS_POLICY` is JSON `{"<check>[.<rule>]": "off|detect|redact|block"}`;
    `IC_GUARDRAILS_TEAM_POLICIES` and `IC_GUARDRAILS_KEY_POLICIES` map a team id or an API key id
    to such an object. A more specific entry wins: key over team over deployment, a rule over its
    check. A team or key item that carries its own `guardrails` map (the admin API) is applied on
    top of these.
    """

    model_config = SettingsConfigDict(env_prefix="IC_GUARDRAILS_", extra="ignore")

    policy: dict[str, str] = Field(
        default_factory=lambda: {"injection": "detect", "secrets": "detect"}
    )
    team_policies: dict[str, dict[str, str]] = Field(default_factory=dict)
    key_policies: dict[str, dict[str, str]] = Field(default_factory=dict)
    # A single message over this many characters trips the `size` check.
    max_message_chars: int = 100_000
    # Content part types a message may carry; any other trips the `content_type` check.
    allowed_content_types: str = "text,image_url"

    @model_validator(mode="after")
    def _check_policies(self) -> GuardrailSettings:
        check_guardrail_policy(self.policy, "IC_GUARDRAILS_POLICY")
        for team, policy in self.team_policies.items():
            check_guardrail_policy(policy, f"IC_GUARDRAILS_TEAM_POLICIES[{team}]")
        for key, policy in self.key_policies.items():
            check_guardrail_policy(policy, f"IC_GUARDRAILS_KEY_POLICIES[{key}]")
        return self

    @property
    def content_types(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.allowed_content_types.split(",") if t.strip())


class TextProcessingSettings(BaseSettings):
    """The text operations (`/v1/text_processing/*`, docs/text_processing.md)."""

    model_config = SettingsConfigDict(env_prefix="IC_TEXT_PROCESSING_", extra="ignore")

    # The most items one `batch_process` call takes (larger jobs go through the Batches API).
    batch_max_items: int = 20
    # How many items of one batch call run at once.
    batch_concurrency: int = 4
    max_text_chars: int = 20_000
    # Ask the provider for JSON that fits the operation's schema (OpenAI's `json_schema`, TGI's
    # grammar); a provider that refuses it is asked again without.
    structured_output: bool = True


class Settings(BaseSettings):
    """Everything the API, the worker and the mailer read; composed from the pieces above."""

    model_config = SettingsConfigDict(env_prefix="IC_", extra="ignore")

    aws: AwsSettings = Field(default_factory=AwsSettings)
    tables: TableSettings = Field(default_factory=TableSettings)
    queues: QueueSettings = Field(default_factory=QueueSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    governance: GovernanceSettings = Field(default_factory=GovernanceSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    guardrails: GuardrailSettings = Field(default_factory=GuardrailSettings)
    text_processing: TextProcessingSettings = Field(default_factory=TextProcessingSettings)
    service_name: str = "inference-core"

    @model_validator(mode="after")
    def _refuse_placeholder_smtp_password(self) -> Settings:
        password = self.mail.smtp_password
        if self.aws.local_mode or password is None:
            return self
        if password.get_secret_value().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("IC_SMTP_PASSWORD must not be a placeholder outside local mode")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.aws.local_mode:
            return self
        secret = self.auth.jwt_secret
        if secret is None and not self.auth.jwt_secret_arn:
            raise ValueError("IC_JWT_SECRET or IC_JWT_SECRET_ARN is required outside local mode")
        if secret is not None:
            value = secret.get_secret_value()
            if value.lower() in PLACEHOLDER_SECRETS or len(value.encode()) < MIN_JWT_SECRET_BYTES:
                raise ValueError("IC_JWT_SECRET must be at least 256 bits and not a placeholder")
        return self

    def jwt_signing_secret(self) -> str:
        """The HMAC key for JWTs: from the environment, or Secrets Manager (cached 5 minutes)."""
        if self.auth.jwt_secret is not None:
            return self.auth.jwt_secret.get_secret_value()
        if self.auth.jwt_secret_arn:
            value = _read_secret(self.auth.jwt_secret_arn, self.aws.aws_endpoint_url)
            if len(value.encode()) < MIN_JWT_SECRET_BYTES:
                raise ValueError("the JWT signing secret must be at least 256 bits")
            return value
        raise ValueError("no JWT signing secret configured")

    def provider_api_key(self, provider: str) -> str | None:
        """A provider's (or a named) API key: from the environment, else the provider-keys
        secret (JSON), re-read after `provider_keys_max_age_seconds` (`inference_core.provider_keys`)."""
        from inference_core.provider_keys import provider_keys

        return provider_keys(self).get(provider)


def _read_secret(arn: str, endpoint_url: str | None) -> str:
    from aws_lambda_powertools.utilities import parameters

    if endpoint_url:
        import boto3

        provider = parameters.SecretsProvider(
            boto3_client=boto3.client("secretsmanager", endpoint_url=endpoint_url)
        )
        return str(provider.get(arn, max_age=300))
    return str(parameters.get_secret(arn, max_age=300))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
