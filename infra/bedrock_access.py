"""Bedrock access for the inference functions: `bedrock:InvokeModel` and
`bedrock:InvokeModelWithResponseStream` on exactly the models and inference profiles the deployed
registry names, nothing else.

A registry entry names a foundation model id (`anthropic.claude-3-5-haiku-20241022-v1:0`), a
system-defined cross-region inference profile id (`us.anthropic...`: a geography prefix), or an
ARN (foundation model, inference profile, application inference profile). A cross-region profile
sends the call to the foundation model in one of its geography's regions, so IAM must also allow
that model in any region, but only through that profile (`bedrock:InferenceProfileArn`), as the
Bedrock user guide's cross-region inference policy does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from infra.nag import acknowledge, finding_resource

ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
# The geography prefixes of Bedrock's system-defined cross-region inference profiles.
CROSS_REGION_PREFIXES = frozenset({"us", "eu", "apac", "us-gov", "jp", "au", "ca", "global"})


@dataclass(frozen=True)
class BedrockResources:
    direct: tuple[str, ...]  # profiles and models the functions call by name
    via_profiles: tuple[str, ...]  # foundation models (any region) reached through a profile
    profiles: tuple[str, ...]  # the cross-region profiles those go through


def bedrock_resources(
    registry: dict[str, Any], *, partition: str, region: str, account: str
) -> BedrockResources:
    """The ARNs for the Bedrock deployments of `registry` (the deployed JSON)."""
    direct: set[str] = set()
    via: set[str] = set()
    profiles: set[str] = set()
    for spec in registry.get("models", {}).values():
        for deployment in spec.get("deployments", []):
            if deployment.get("provider") != "bedrock":
                continue
            model = str(deployment["model"])
            if model.startswith("arn:"):
                direct.add(model)
                _, _, resource = model.partition(":inference-profile/")
                if resource and resource.split(".", 1)[0] in CROSS_REGION_PREFIXES:
                    profiles.add(model)
                    via.add(_any_region_model(partition, resource.split(".", 1)[1]))
                continue
            geography, _, base = model.partition(".")
            if geography in CROSS_REGION_PREFIXES and base:
                profile = f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model}"
                direct.add(profile)
                profiles.add(profile)
                via.add(_any_region_model(partition, base))
            else:
                direct.add(f"arn:{partition}:bedrock:{region}::foundation-model/{model}")
    return BedrockResources(tuple(sorted(direct)), tuple(sorted(via)), tuple(sorted(profiles)))


def grant_bedrock(
    roles: list[iam.IRole], stack: Stack, registry: dict[str, Any]
) -> BedrockResources | None:
    """Add the invoke statements to each role; None when the registry names no Bedrock model."""
    resources = bedrock_resources(
        registry, partition=stack.partition, region=stack.region, account=stack.account
    )
    if not resources.direct:
        return None
    for role in roles:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=ACTIONS, resources=list(resources.direct))
        )
        if resources.via_profiles:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=ACTIONS,
                    resources=list(resources.via_profiles),
                    conditions={
                        "StringEquals": {"bedrock:InferenceProfileArn": list(resources.profiles)}
                    },
                )
            )
            for arn in resources.via_profiles:
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::{finding_resource(stack, arn)}]",
                    "A cross-region inference profile runs the model in any region of its "
                    "geography; the region wildcard is allowed only through the registry's "
                    "profiles (bedrock:InferenceProfileArn condition).",
                )
    return resources


def _any_region_model(partition: str, model_id: str) -> str:
    return f"arn:{partition}:bedrock:*::foundation-model/{model_id}"
