"""Secrets Manager: the JWT signing key (generated) and the provider API keys (the operator's).

The functions get only the ARNs (IC_JWT_SECRET_ARN, IC_PROVIDER_KEYS_SECRET_ARN) and read the values
through Powertools Parameters with a cache, so no secret value is ever in the template or the
function configuration.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, SecretValue
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge

PROVIDER_KEY_NAMES = ("openai", "anthropic")


class SecretStore(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.jwt_secret = secretsmanager.Secret(
            self,
            "JwtSigningKey",
            description="Inference Core: HMAC key for JWT access and refresh tokens",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                # 64 characters from 62 symbols: about 381 bits, above the 256 the app requires.
                password_length=64,
                exclude_punctuation=True,
                include_space=False,
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.jwt_secret,
            "AwsSolutions-SMG4",
            "Rotating the JWT signing key invalidates every session at once, and the app verifies "
            "with one key; rotate deliberately (put a new value, users log in again) rather than "
            "on a "
            "schedule.",
        )
        self.provider_keys = secretsmanager.Secret(
            self,
            "ProviderKeys",
            description=(
                'Inference Core: provider API keys as JSON, e.g. {"openai": "sk-...", '
                '"anthropic": "sk-ant-..."}; fill in after deploying'
            ),
            # Empty placeholders: CloudFormation sets this only on creation, so the operator's
            # values survive later deploys.
            secret_object_value={
                name: SecretValue.unsafe_plain_text("") for name in PROVIDER_KEY_NAMES
            },
            removal_policy=removal_policy,
        )
        acknowledge(
            self.provider_keys,
            "AwsSolutions-SMG4",
            "Third-party provider keys are issued by OpenAI and Anthropic; Secrets Manager cannot "
            "rotate them. The operator replaces the value when a provider key is rolled.",
        )

        self.webhook_signing_key = secretsmanager.Secret(
            self,
            "WebhookSigningKey",
            description="Inference Core: master key that each user's webhook signing secret derives from",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.webhook_signing_key,
            "AwsSolutions-SMG4",
            "Receivers verify webhooks with a secret derived from this key; rotating it on a "
            "schedule would break every receiver at once, so it is rotated deliberately.",
        )
        self.webhook_ingest_secrets = secretsmanager.Secret(
            self,
            "WebhookIngestSecrets",
            description=(
                "Inference Core: trusted integrations for POST /webhooks/ingest as JSON, "
                '{"<integration>": {"secret": "...", "user_id": "..."}}; empty means none'
            ),
            secret_string_value=SecretValue.unsafe_plain_text("{}"),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.webhook_ingest_secrets,
            "AwsSolutions-SMG4",
            "Each integration's shared secret is agreed with the sending system; the operator "
            "replaces it together with that system, which a rotation schedule cannot do.",
        )

    def environment(self) -> dict[str, str]:
        return {
            "IC_JWT_SECRET_ARN": self.jwt_secret.secret_arn,
            "IC_PROVIDER_KEYS_SECRET_ARN": self.provider_keys.secret_arn,
            "IC_WEBHOOK_SIGNING_SECRET_ARN": self.webhook_signing_key.secret_arn,
            "IC_WEBHOOK_INGEST_SECRETS_ARN": self.webhook_ingest_secrets.secret_arn,
        }
