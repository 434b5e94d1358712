"""The optional SageMaker endpoint: TGI image, GPU instance, autoscaling, and the registry alias."""

from __future__ import annotations

import json
import tomllib

import pytest
from infra.config import PROJECT_ROOT, SageMakerConfig
from infra.model_endpoint import tgi_image_uri

from tests.infra.cfn import actions_of, policy_statements, ref_id
from tests.infra.conftest import Synth, synthesize


def test_off_by_default(default_synth):
    for cfn_type in (
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::Model",
        "AWS::ApplicationAutoScaling::ScalableTarget",
    ):
        assert default_synth.of_type(cfn_type) == {}, cfn_type
    for name in default_synth.stack.functions:
        role = default_synth.logical_id(default_synth.stack.functions[name].role)
        assert not {
            a
            for a in actions_of(policy_statements(default_synth.resources, role))
            if a.startswith("sagemaker:")
        }


def test_the_endpoint_runs_the_tgi_container_on_a_gpu_instance(full_synth):
    (model,) = full_synth.of_type("AWS::SageMaker::Model").values()
    container = model["Properties"]["PrimaryContainer"]
    assert container["Image"] == tgi_image_uri(region="us-east-1", version="3.0.1")
    assert container["Image"].startswith(
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
        "2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04"
    )
    assert container["Environment"]["HF_MODEL_ID"] == SageMakerConfig().model_id
    assert container["Environment"]["MESSAGES_API_ENABLED"] == "true"
    (config,) = full_synth.of_type("AWS::SageMaker::EndpointConfig").values()
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["InstanceType"] == "ml.g5.xlarge"
    (endpoint,) = full_synth.of_type("AWS::SageMaker::Endpoint").values()
    assert endpoint["Properties"]["EndpointName"] == "inference-core-llm"


def test_the_execution_role_pulls_only_the_tgi_repository(full_synth):
    (model,) = full_synth.of_type("AWS::SageMaker::Model").values()
    role = ref_id(model["Properties"]["ExecutionRoleArn"])
    statements = policy_statements(full_synth.resources, role)
    (pull,) = [s for s in statements if "ecr:BatchGetImage" in actions_of([s])]
    assert pull["Resource"] == (
        "arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"
    )


def test_target_tracking_on_invocations_per_instance(full_synth):
    (target,) = full_synth.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values()
    props = target["Properties"]
    assert props["ResourceId"] == "endpoint/inference-core-llm/variant/AllTraffic"
    assert props["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert props["RoleARN"].endswith(
        ":role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
    )
    assert 1 <= props["MinCapacity"] <= props["MaxCapacity"]
    (policy,) = full_synth.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )


def test_inference_functions_may_invoke_the_endpoint_buffered_and_streamed(full_synth):
    for name in ("ControlPlane", "DataPlane", "Worker", "Mailer"):
        role = full_synth.logical_id(full_synth.stack.functions[name].role)
        statements = policy_statements(full_synth.resources, role)
        invoke = [
            s for s in statements if "sagemaker:InvokeEndpointWithResponseStream" in actions_of([s])
        ]
        if name == "Mailer":
            assert invoke == []
            continue
        (statement,) = invoke
        assert "sagemaker:InvokeEndpoint" in actions_of([statement])
        assert (
            statement["Resource"]
            == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/inference-core-llm"
        )


def _registry(synth: Synth) -> dict:
    (layer,) = [
        r
        for r in synth.of_type("AWS::Lambda::LayerVersion").values()
        if "model registry" in r["Properties"]["Description"]
    ]
    staged = synth.outdir / layer["Metadata"]["aws:asset:path"] / "registry" / "models.json"
    return json.loads(staged.read_text())


def test_the_deployed_registry_routes_an_alias_to_the_endpoint(default_synth, full_synth):
    alias = SageMakerConfig().model_alias
    registry = _registry(full_synth)
    (deployment,) = registry["models"][alias]["deployments"]
    assert deployment == {
        "provider": "sagemaker",
        "model": "inference-core-llm",
        "input_price_per_mtok": 0.0,
        "output_price_per_mtok": 0.0,
        "context_window": SageMakerConfig().max_total_tokens,
    }
    # Without the endpoint, nothing routes to it.
    without = _registry(default_synth)
    assert alias not in without["models"]
    for entry in without["models"].values():
        assert all(d["model"] != "inference-core-llm" for d in entry["deployments"])
    assert without["default_model"] in without["models"]


@pytest.mark.parametrize(
    ("region", "account", "domain"),
    [
        ("eu-west-1", "763104351884", "amazonaws.com"),
        ("af-south-1", "626614931356", "amazonaws.com"),
        ("ap-southeast-3", "907027046896", "amazonaws.com"),
        ("cn-north-1", "727897471807", "amazonaws.com.cn"),
    ],
)
def test_the_image_is_the_sagemaker_sdks_for_the_region(region, account, domain):
    from sagemaker.core import image_uris

    expected = image_uris.retrieve(
        "huggingface-llm",
        region=region,
        version="3.0.1",
        image_scope="inference",
        instance_type="ml.g5.xlarge",
    )
    uri = tgi_image_uri(region=region, version="3.0.1")
    assert uri == expected
    assert uri.startswith(f"{account}.dkr.ecr.{region}.{domain}/huggingface-pytorch-tgi-inference:")
    assert "tgi3.0.1" in uri


def test_sagemaker_image_uri_overrides_the_sdk(tmp_path):
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-tgi:1.0"
    synth = synthesize(tmp_path, sagemaker=True, sagemaker_image_uri=image)
    (model,) = synth.of_type("AWS::SageMaker::Model").values()
    assert model["Properties"]["PrimaryContainer"]["Image"] == image


def test_the_sdk_is_not_a_lambda_dependency():
    """It resolves the image at synth time only: neither the layer's pins nor the package's
    runtime dependencies carry it."""
    pins = (PROJECT_ROOT / "layers" / "shared" / "requirements.txt").read_text().lower()
    assert "sagemaker" not in pins
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    runtime = project["dependencies"] + project["optional-dependencies"]["providers"]
    assert not [r for r in runtime if r.lower().startswith("sagemaker")]
    assert any(r.startswith("sagemaker-core") for r in project["optional-dependencies"]["dev"])
