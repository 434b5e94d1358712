"""cdk-nag wiring: the rule packs the app runs, and the one way constructs acknowledge a rule.

cdk-nag 3 is a CDK policy-validation plugin: it runs during synthesis, and any unacknowledged
finding fails `cdk synth` (the report lands in `validation-report.json` in the cloud assembly).
Every acknowledgment names its rule (with the finding, for rules such as IAM5 that report one per
wildcard) and a reason a reviewer can check. Each one is also recorded as construct metadata
(`ACK_METADATA`), so tests can list them and prove that each still matches a real finding: with
context `nag_ignore_acknowledgments=true` they are recorded but not applied.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stage, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

NAG_PACKS = ("AwsSolutions", "Serverless")
ACK_METADATA = "inference-core:nag-acknowledgment"
IGNORE_ACKNOWLEDGMENTS = "nag_ignore_acknowledgments"


def add_nag_checks(scope: Stage) -> None:
    Validations.of(scope).add_plugins(
        AwsSolutionsChecks(scope, verbose=True),
        ServerlessChecks(scope, verbose=True),
    )


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Suppress one cdk-nag finding on `construct` and everything under it, with its reason."""
    if not rule.startswith(tuple(f"{pack}-" for pack in NAG_PACKS)):
        raise ValueError(f"{rule}: not a rule of {NAG_PACKS}")
    if len(reason) < 40:
        raise ValueError(f"the reason for acknowledging {rule} must say why")
    construct.node.add_metadata(ACK_METADATA, {"rule": rule, "reason": reason})
    if str(construct.node.try_get_context(IGNORE_ACKNOWLEDGMENTS)).lower() == "true":
        return
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def finding_resource(scope: IConstruct, value: str) -> str:
    """How cdk-nag's IAM5 spells a resource in a finding id (`Resource::<this>`).

    Literals stay as they are; `GetAtt` becomes `<LogicalId.Attr>`, `Ref` to a pseudo parameter
    `<AWS::Region>` and similar, and `Join` concatenates its parts.
    """
    from aws_cdk import Stack

    def render(node: object) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            logical_id, attribute = node["Fn::GetAtt"]
            return f"<{logical_id}.{attribute}>"
        if isinstance(node, dict) and "Ref" in node:
            return f"<{node['Ref']}>"
        if isinstance(node, dict) and "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return separator.join(render(part) for part in parts)
        raise ValueError(f"cannot render {node!r} as a cdk-nag finding")

    return render(Stack.of(scope).resolve(value))
