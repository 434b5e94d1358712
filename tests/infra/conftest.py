"""Synthesize the CDK app once per session (synth takes seconds) and hand out its template.

Every synth here is offline: `skip_layer_install` bundles only the inference_core package into the
shared layer (no pip, no network), and the account and region are cdk.json's dummies.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before aws_cdk starts its jsii runtime: Node 20 works, its end-of-life banner is noise.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
for _var in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", "CDK_CONTEXT_JSON", "CDK_OUTDIR"):
    os.environ.pop(_var, None)

# A deployment with every optional part switched on, to synthesize the branches the default skips.
FULL_CONTEXT: dict[str, Any] = {
    "sagemaker": True,
    "cors_origins": ["https://app.example.com"],
    "alarm_emails": ["ops@example.com"],
    "domain_name": "llm.example.com",
    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0000-example",
    "hosted_zone_id": "Z0000000000000000000",
    "hosted_zone_name": "example.com",
    "ses_identity": "example.com",
    "worker_batch_size": 25,
    "removal_policy": "destroy",
}


@dataclass
class Synth:
    """One synthesized app: the raw template, the assertions helper, the cloud assembly."""

    app: Any
    stack: Any
    outdir: Path
    template: dict[str, Any]
    assertions: Any  # aws_cdk.assertions.Template

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == cfn_type}

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


def synthesize(outdir: Path, **context: Any) -> Synth:
    from aws_cdk.assertions import Template
    from infra.app import build_app

    app = build_app(
        context={
            "skip_layer_install": True,
            # Let synth finish with findings so the tests can report them, not just crash.
            "@aws-cdk/core:failSynthOnValidationErrors": False,
            **context,
        },
        outdir=str(outdir),
    )
    assembly = app.synth()
    (stack_artifact,) = assembly.stacks
    stack = app.node.find_child(stack_artifact.stack_name)
    template = json.loads(Path(assembly.directory, stack_artifact.template_file).read_text())
    return Synth(
        app=app,
        stack=stack,
        outdir=Path(assembly.directory),
        template=template,
        assertions=Template.from_json(template),
    )


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """cdk.json's defaults: what `cdk synth` gives a new user."""
    yield synthesize(tmp_path_factory.mktemp("cdk-default"))


@pytest.fixture(scope="session")
def full_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """Every option on: SageMaker endpoint, CORS, custom domain, alarm subscribers, destroy."""
    yield synthesize(tmp_path_factory.mktemp("cdk-full"), **FULL_CONTEXT)


@pytest.fixture(scope="session")
def unacknowledged_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """The full app with cdk-nag acknowledgments recorded but not applied: every raw finding."""
    yield synthesize(
        tmp_path_factory.mktemp("cdk-raw"), **FULL_CONTEXT, nag_ignore_acknowledgments=True
    )


@pytest.fixture(params=["default", "full"], scope="session")
def any_synth(request: pytest.FixtureRequest) -> Synth:
    return request.getfixturevalue(f"{request.param}_synth")
