"""cdk-nag (AwsSolutions + Serverless) with justified acknowledgments only, cfn-lint, the asset
metadata `sam local invoke` needs, and outputs with stable logical ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.nag import ACK_METADATA, NAG_PACKS

from tests.infra.conftest import Synth


def _violations(synth: Synth) -> list[dict[str, Any]]:
    return [
        v
        for report in synth.validation_report()["pluginReports"]
        for v in report.get("violations", [])
    ]


def _acknowledgments(synth: Synth) -> list[tuple[str, str, str]]:
    """(construct path, rule, reason) for every acknowledgment in the app."""
    found = []
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACK_METADATA:
                found.append((construct.node.path, entry.data["rule"], entry.data["reason"]))
    return found


def test_cdk_nag_runs_both_packs_and_finds_nothing_unacknowledged(any_synth):
    report = any_synth.validation_report()
    failures = [
        f"{v['ruleName']} at {[c['constructPath'] for c in v['violatingConstructs']]}"
        for v in _violations(any_synth)
    ]
    assert failures == []
    assert report["title"] == "Validation Report"


def test_without_acknowledgments_the_packs_do_report(unacknowledged_synth):
    """The check above is not vacuous: both packs ran and found what we acknowledge."""
    packs = {v["ruleName"].split("-")[0] for v in _violations(unacknowledged_synth)}
    assert packs == set(NAG_PACKS)


def test_every_acknowledgment_gives_a_reason_and_matches_a_real_finding(unacknowledged_synth):
    findings: dict[str, set[str]] = {}
    for violation in _violations(unacknowledged_synth):
        for construct in violation["violatingConstructs"]:
            findings.setdefault(violation["ruleName"], set()).add(construct["constructPath"])
    acknowledgments = _acknowledgments(unacknowledged_synth)
    assert acknowledgments
    stale = []
    for path, rule, reason in acknowledgments:
        assert len(reason.split()) >= 8, (path, rule)
        if not any(p == path or p.startswith(path + "/") for p in findings.get(rule, ())):
            stale.append((path, rule))
    assert stale == [], "acknowledged rules that no longer fire; remove them"


def test_cfn_lint_finds_no_errors(any_synth):
    from cfnlint.api import ManualArgs, lint_file

    template = any_synth.outdir / f"{any_synth.stack.stack_name}.template.json"
    matches = lint_file(template, config=ManualArgs(regions=["us-east-1"]))
    errors = [str(m) for m in matches if m.rule.severity == "error" or m.rule.id.startswith("E")]
    assert errors == []


def test_functions_and_layers_carry_the_asset_metadata_sam_uses(any_synth):
    assets = {
        **any_synth.of_type("AWS::Lambda::Function"),
        **any_synth.of_type("AWS::Lambda::LayerVersion"),
    }
    assert len(assets) >= 6
    for logical_id, resource in assets.items():
        metadata = resource["Metadata"]
        expected_property = "Code" if resource["Type"] == "AWS::Lambda::Function" else "Content"
        assert metadata["aws:asset:property"] == expected_property, logical_id
        staged = any_synth.outdir / metadata["aws:asset:path"]
        assert staged.is_dir(), logical_id


def test_the_layer_asset_holds_the_package_under_python(default_synth):
    (layer,) = [
        r
        for r in default_synth.of_type("AWS::Lambda::LayerVersion").values()
        if r["Properties"]["Description"].startswith("inference_core")
    ]
    staged = default_synth.outdir / layer["Metadata"]["aws:asset:path"]
    assert (staged / "python" / "inference_core" / "__init__.py").is_file()
    assert not list(Path(staged).rglob("__pycache__"))


def test_the_api_function_asset_is_functions_api(default_synth):
    fn = default_synth.resources[
        default_synth.logical_id(default_synth.stack.functions["DataPlane"].function)
    ]
    staged = default_synth.outdir / fn["Metadata"]["aws:asset:path"]
    assert (staged / "handler.py").is_file() and (staged / "run.sh").is_file()


STABLE_OUTPUTS = {
    "ApiUrl",
    "PublicBaseUrl",
    "UsersTableName",
    "ApiKeysTableName",
    "SessionsTableName",
    "CacheTableName",
    "UsageTableName",
    "IdempotencyTableName",
    "BatchQueueUrl",
    "BatchDeadLetterQueueUrl",
    "MailQueueUrl",
    "MailDeadLetterQueueUrl",
    "FilesBucketName",
    "JwtSecretArn",
    "ProviderKeysSecretArn",
    "SesIdentity",
    "SesConfigurationSet",
    "ControlPlaneFunctionName",
    "DataPlaneFunctionName",
    "WorkerFunctionName",
    "MailerFunctionName",
    "CliEnvironment",
}


def test_the_cli_environment_output_exports_every_table_and_the_jwt_secret(default_synth):
    from inference_core.db.tables import table_specs

    rendered = json.dumps(default_synth.template["Outputs"]["CliEnvironment"]["Value"])
    for spec in table_specs():
        assert f"export IC_{spec.setting.upper()}=" in rendered, spec.setting
    for name in ("IC_REGION", "IC_JWT_SECRET_ARN", "IC_MAIL_QUEUE_URL", "IC_FILES_BUCKET"):
        assert f"export {name}=" in rendered, name


def test_outputs_have_stable_logical_ids(default_synth, full_synth):
    assert STABLE_OUTPUTS <= set(default_synth.template["Outputs"])
    assert STABLE_OUTPUTS | {
        "SageMakerEndpointName",
        "SageMakerImageUri",
        "CustomDomainTarget",
        "SesDkim1Name",
        "SesDkim1Value",
    } <= set(full_synth.template["Outputs"])
