"""`sagemaker_scale_to_zero`: the model as an inference component that scales to zero copies when
idle and back on the first request that finds none (SageMaker's documented alarm and step policy),
with the registry naming the component and cdk-nag clean."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from infra.config import InfraConfig, SageMakerConfig

from tests.infra.cfn import actions_of, policy_statements, ref_id, referenced_ids
from tests.infra.conftest import FULL_CONTEXT, Synth, synthesize
from tests.infra.test_infra_compliance import _violations
from tests.infra.test_infra_observability import (
    alarm_dimensions,
    alarm_metric,
    alarms,
    sagemaker_series,
)
from tests.infra.test_infra_sagemaker import _registry

COMPONENT = "inference-core-llm-model"


@pytest.fixture(scope="module")
def cold_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(
        tmp_path_factory.mktemp("cdk-scale-to-zero"),
        **FULL_CONTEXT,
        sagemaker_scale_to_zero=True,
        sagemaker_idle_minutes=20,
    )


def _alarm(synth: Synth, metric: str) -> dict[str, Any]:
    (alarm,) = [
        a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == metric
    ]
    return alarm


def _step_policy(synth: Synth, alarm: dict[str, Any]) -> dict[str, Any]:
    (action,) = alarm["AlarmActions"]
    (policy_id,) = referenced_ids(action)
    return synth.resources[policy_id]["Properties"]["StepScalingPolicyConfiguration"]


def test_the_model_is_an_inference_component_on_an_endpoint_that_can_have_no_instance(
    cold_synth: Synth,
) -> None:
    (component,) = cold_synth.of_type("AWS::SageMaker::InferenceComponent").values()
    props = component["Properties"]
    assert props["InferenceComponentName"] == COMPONENT
    assert props["VariantName"] == "AllTraffic"
    (model_id,) = cold_synth.of_type("AWS::SageMaker::Model")
    assert ref_id(props["Specification"]["ModelName"]) == model_id
    assert (
        props["Specification"]["ComputeResourceRequirements"]["NumberOfAcceleratorDevicesRequired"]
        == SageMakerConfig().num_gpus
    )
    (config,) = cold_synth.of_type("AWS::SageMaker::EndpointConfig").values()
    (variant,) = config["Properties"]["ProductionVariants"]
    assert "ModelName" not in variant  # the component carries the model
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 0,
        "MaxInstanceCount": SageMakerConfig().max_instances,
    }
    assert "ExecutionRoleArn" in config["Properties"]


def test_copies_scale_down_to_the_minimum(cold_synth: Synth) -> None:
    (target,) = cold_synth.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values()
    props = target["Properties"]
    assert props["ResourceId"] == f"inference-component/{COMPONENT}"
    assert props["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert props["MinCapacity"] == 0
    tracking = [
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        for p in cold_synth.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if p["Properties"]["PolicyType"] == "TargetTrackingScaling"
    ]
    assert tracking[0]["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "SageMakerInferenceComponentInvocationsPerCopy"
    )


def test_the_idle_period_without_a_request_sets_the_minimum_copy_count(cold_synth: Synth) -> None:
    idle = _alarm(cold_synth, "Invocations")
    assert idle["Dimensions"] == [{"Name": "InferenceComponentName", "Value": COMPONENT}]
    assert (idle["Period"], idle["EvaluationPeriods"]) == (60, 20)
    assert idle["ComparisonOperator"] == "LessThanThreshold" and idle["Threshold"] == 1
    assert idle["TreatMissingData"] == "breaching"  # no traffic reports no data at all
    step = _step_policy(cold_synth, idle)
    assert step["AdjustmentType"] == "ExactCapacity"
    assert [s["ScalingAdjustment"] for s in step["StepAdjustments"]] == [0]


def test_a_request_that_finds_no_copy_adds_one(cold_synth: Synth) -> None:
    cold = _alarm(cold_synth, "NoCapacityInvocationFailures")
    assert cold["Namespace"] == "AWS/SageMaker"
    assert cold["Dimensions"] == [{"Name": "InferenceComponentName", "Value": COMPONENT}]
    assert cold["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (cold["Threshold"], cold["EvaluationPeriods"]) == (1, 1)
    step = _step_policy(cold_synth, cold)
    assert step["AdjustmentType"] == "ChangeInCapacity"
    assert [s["ScalingAdjustment"] for s in step["StepAdjustments"]] == [1]


def test_the_registry_names_the_component_and_functions_may_invoke_it(cold_synth: Synth) -> None:
    alias = SageMakerConfig().model_alias
    (deployment,) = _registry(cold_synth)["models"][alias]["deployments"]
    assert deployment["model"] == "inference-core-llm"
    assert deployment["inference_component"] == COMPONENT
    role = cold_synth.logical_id(cold_synth.stack.functions["DataPlane"].role)
    statements = policy_statements(cold_synth.resources, role)
    (invoke,) = [s for s in statements if "sagemaker:InvokeEndpoint" in actions_of([s])]
    assert invoke["Resource"] == [
        "arn:aws:sagemaker:us-east-1:123456789012:endpoint/inference-core-llm",
        f"arn:aws:sagemaker:us-east-1:123456789012:inference-component/{COMPONENT}",
    ]


def test_cdk_nag_finds_nothing_unacknowledged(cold_synth: Synth) -> None:
    failures = [
        f"{v['ruleName']} at {[c['constructPath'] for c in v['violatingConstructs']]}"
        for v in _violations(cold_synth)
    ]
    assert failures == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("min_copies", 3, "sagemaker_min_copies"), ("idle_minutes", 0, "sagemaker_idle_minutes")],
)
def test_bad_scale_to_zero_settings_refuse_to_synth(field: str, value: Any, message: str) -> None:
    sagemaker = dataclasses.replace(
        SageMakerConfig(enabled=True, scale_to_zero=True), **{field: value}
    )
    config = InfraConfig(sagemaker=sagemaker)
    with pytest.raises(ValueError, match=message):
        config.validate()


def test_cfn_lint_finds_no_errors(cold_synth: Synth) -> None:
    from tests.infra.test_infra_compliance import test_cfn_lint_finds_no_errors as lint

    lint(cold_synth)


def test_the_dashboard_and_the_5xx_alarm_follow_the_inference_component(cold_synth: Synth) -> None:
    # SageMaker publishes an inference component's invocation metrics under
    # `InferenceComponentName` and its utilization in `/aws/sagemaker/InferenceComponents`;
    # the endpoint-variant series stay empty in this mode.
    component = {"InferenceComponentName": COMPONENT}
    series = sagemaker_series(cold_synth)
    drawn = [s for widget in series.values() for s in widget]
    assert {(ns, name) for ns, name, _ in drawn} == {
        ("AWS/SageMaker", "Invocations"),
        ("AWS/SageMaker", "Invocation5XXErrors"),
        ("AWS/SageMaker", "Invocation4XXErrors"),
        ("AWS/SageMaker", "NoCapacityInvocationFailures"),
        ("AWS/SageMaker", "ModelLatency"),
        ("/aws/sagemaker/InferenceComponents", "GPUUtilizationNormalized"),
        ("/aws/sagemaker/InferenceComponents", "GPUMemoryUtilizationNormalized"),
    }
    assert all(dimensions == component for _, _, dimensions in drawn)
    (five_xx,) = [
        a for a in alarms(cold_synth) if alarm_metric(a) == ("AWS/SageMaker", "Invocation5XXErrors")
    ]
    assert alarm_dimensions(five_xx) == component
