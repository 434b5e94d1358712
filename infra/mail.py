"""Email: the SES sender identity and configuration set, the mail queue, and the mailer.

Only the mailer's role may send: `ses:SendEmail`/`ses:SendRawEmail` on this identity and this
configuration set, from the configured sender address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra.lambda_function import GatewayFunction
from infra.work_queue import WorkQueue


class Mail(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        identity: str,
        sender: str,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        memory_mb: int,
        timeout: Duration,
        batch_size: int,
        max_concurrency: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.sender = sender
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            reputation_metrics=True,
            sending_enabled=True,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        is_address = "@" in identity
        self.identity = ses.EmailIdentity(
            self,
            "Identity",
            identity=ses.Identity.email(identity) if is_address else ses.Identity.domain(identity),
            configuration_set=self.configuration_set,
        )
        self.identity_name = identity
        self.is_domain_identity = not is_address

        self.queue = WorkQueue(
            self, "MailQueue", consumer_timeout=timeout, removal_policy=removal_policy
        )
        self.mailer = GatewayFunction(
            self,
            "Mailer",
            description="Inference Core mailer (SQS -> SES)",
            code_dir="mailer",
            handler="handler.handler",
            memory_mb=memory_mb,
            timeout=timeout,
            layers=layers,
            environment={
                **environment,
                "IC_MAIL_FROM": sender,
                "IC_MAIL_CONFIGURATION_SET": self.configuration_set.configuration_set_name,
            },
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.queue.subscribe(self.mailer, batch_size=batch_size, max_concurrency=max_concurrency)

        stack = Stack.of(self)
        identity_arn = stack.format_arn(
            service="ses", resource="identity", resource_name=self.identity.email_identity_name
        )
        configuration_set_arn = stack.format_arn(
            service="ses",
            resource="configuration-set",
            resource_name=self.configuration_set.configuration_set_name,
        )
        self.mailer.role.add_to_policy(
            iam.PolicyStatement(
                sid="SendFromTheConfiguredIdentityOnly",
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[identity_arn, configuration_set_arn],
                conditions={"StringEquals": {"ses:FromAddress": sender}},
            )
        )
