"""Bedrock: the inference functions may invoke exactly the models and inference profiles the
deployed registry names (and, for a cross-region profile, its model only through that profile)."""

from __future__ import annotations

from typing import Any

from infra.bedrock_access import bedrock_resources

from .cfn import actions_of, policy_statements

INVOKE = {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
PROFILE = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"


def _rendered(resource: Any) -> str:
    if isinstance(resource, str):
        return resource
    separator, parts = resource["Fn::Join"]
    return separator.join(
        p if isinstance(p, str) else {"AWS::Partition": "aws"}[p["Ref"]] for p in parts
    )


def _bedrock_statements(synth: Any, name: str) -> list[dict[str, Any]]:
    role = synth.logical_id(synth.stack.functions[name].role)
    return [
        s
        for s in policy_statements(synth.resources, role)
        if any(a.startswith("bedrock:") for a in actions_of([s]))
    ]


def test_inference_functions_invoke_only_the_registrys_bedrock_models(default_synth):
    for name in ("ControlPlane", "DataPlane", "Worker", "Mailer"):
        statements = _bedrock_statements(default_synth, name)
        if name == "Mailer":
            assert statements == []
            continue
        direct, via = sorted(statements, key=lambda s: "Condition" in s)
        assert set(actions_of([direct])) == INVOKE == set(actions_of([via]))
        resources = (
            direct["Resource"] if isinstance(direct["Resource"], list) else [direct["Resource"]]
        )
        assert sorted(_rendered(r) for r in resources) == sorted(
            ["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", PROFILE]
        )
        assert _rendered(via["Resource"]) == (
            "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"
        )
        condition = via["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]
        assert [
            _rendered(c) for c in (condition if isinstance(condition, list) else [condition])
        ] == [PROFILE]


def test_resources_for_ids_profiles_and_arns():
    registry = {
        "models": {
            "a": {
                "deployments": [
                    {"provider": "bedrock", "model": "eu.meta.llama3-2-3b-instruct-v1:0"},
                    {"provider": "bedrock", "model": "anthropic.claude-v2"},
                    {
                        "provider": "bedrock",
                        "model": "arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/abc123",
                    },
                    {"provider": "openai", "model": "gpt-4o"},
                ]
            }
        }
    }
    resources = bedrock_resources(
        registry, partition="aws", region="eu-west-1", account="111122223333"
    )
    assert resources.direct == (
        "arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/abc123",
        "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.meta.llama3-2-3b-instruct-v1:0",
        "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-v2",
    )
    assert resources.via_profiles == (
        "arn:aws:bedrock:*::foundation-model/meta.llama3-2-3b-instruct-v1:0",
    )
    assert bedrock_resources({"models": {}}, partition="aws", region="r", account="a").direct == ()
