"""Alarms exist for what pages someone, and every one of them notifies the alarm topic."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.cfn import ref_id, referenced_ids
from tests.infra.conftest import Synth


def _topic_id(synth: Synth) -> str:
    (topic,) = synth.of_type("AWS::SNS::Topic")
    return topic


def _alarms(synth: Synth) -> list[dict[str, Any]]:
    return [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]


def _metric(alarm: dict[str, Any]) -> tuple[str, str]:
    if "MetricName" in alarm:
        return alarm["Namespace"], alarm["MetricName"]
    (stat,) = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
    return stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]


def alarm_dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    """The dimensions of the one metric an alarm watches (plain, or in its `Metrics` form)."""
    if "Dimensions" in alarm:
        dimensions = alarm["Dimensions"]
    else:
        (stat,) = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
        dimensions = stat["Metric"].get("Dimensions", [])
    return {d["Name"]: d["Value"] for d in dimensions}


# Public names for the other infra test modules.
alarms = _alarms
alarm_metric = _metric


def _dimension_refs(alarm: dict[str, Any]) -> set[str]:
    return referenced_ids(alarm.get("Dimensions", [])) | referenced_ids(alarm.get("Metrics", []))


def test_every_alarm_notifies_the_topic(any_synth):
    topic = _topic_id(any_synth)
    alarms = _alarms(any_synth)
    assert alarms
    for alarm in alarms:
        assert [ref_id(a) for a in alarm["AlarmActions"]] == [topic], alarm["AlarmDescription"]
        assert [ref_id(a) for a in alarm["OKActions"]] == [topic]


def test_api_5xx_rate_and_p99_latency_alarms(any_synth):
    by_metric = {
        (_metric(a), a.get("Statistic") or a.get("ExtendedStatistic")): a
        for a in _alarms(any_synth)
    }
    five_xx = by_metric[(("AWS/ApiGateway", "5XXError"), "Average")]
    assert 0 < five_xx["Threshold"] <= 0.1  # a rate, not a count
    latency = by_metric[(("AWS/ApiGateway", "Latency"), "p99")]
    assert latency["Threshold"] > 0


def test_lambda_errors_and_throttles_alarm_for_every_function(any_synth):
    for fn in any_synth.stack.functions.values():
        fn_id = any_synth.logical_id(fn.function)
        metrics = {_metric(a)[1] for a in _alarms(any_synth) if fn_id in _dimension_refs(a)}
        assert {"Errors", "Throttles"} <= metrics, fn_id


def test_a_dlq_holding_anything_raises_an_alarm(any_synth):
    queues = any_synth.of_type("AWS::SQS::Queue")
    dlqs = {
        ref_id(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    assert len(dlqs) == 2
    for dlq in dlqs:
        (alarm,) = [a for a in _alarms(any_synth) if dlq in _dimension_refs(a)]
        assert _metric(alarm) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_batch_dlq_alarm_says_it_means_a_real_fault(default_synth):
    batch_dlq = default_synth.logical_id(
        default_synth.stack.node.find_child("Batch").queue.dead_letter_queue
    )
    (alarm,) = [a for a in _alarms(default_synth) if batch_dlq in _dimension_refs(a)]
    description = alarm["AlarmDescription"]
    assert "could not process" in description
    assert "error file" in description  # expected line failures are answered, not dead-lettered


def test_a_request_left_unmetered_raises_an_alarm(default_synth):
    (alarm,) = [a for a in _alarms(default_synth) if _metric(a)[1] == "UnmeteredRequests"]
    assert alarm["Threshold"] == 1 and alarm["Statistic"] == "Sum"
    # The namespace and the one dimension (the service) record_unmetered emits with, as the
    # functions are configured: every model's lost settle counts.
    emitted = {
        (env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"])
        for fn in default_synth.of_type("AWS::Lambda::Function").values()
        if "POWERTOOLS_METRICS_NAMESPACE"
        in (env := fn["Properties"].get("Environment", {}).get("Variables", {}))
    }
    assert emitted
    (namespace, service), *_ = emitted
    assert _metric(alarm)[0] == namespace
    assert alarm_dimensions(alarm) == {"service": service}


def test_sagemaker_5xx_alarm_only_with_the_endpoint(default_synth, full_synth):
    assert not [a for a in _alarms(default_synth) if _metric(a)[0] == "AWS/SageMaker"]
    (alarm,) = [
        a for a in _alarms(full_synth) if _metric(a) == ("AWS/SageMaker", "Invocation5XXErrors")
    ]
    assert alarm["Threshold"] >= 1


def test_alarm_subscribers_come_from_context(default_synth, full_synth):
    assert default_synth.of_type("AWS::SNS::Subscription") == {}
    (sub,) = full_synth.of_type("AWS::SNS::Subscription").values()
    assert sub["Properties"]["Protocol"] == "email"
    assert sub["Properties"]["Endpoint"] == "ops@example.com"


def _dashboard_body(synth: Synth) -> str:
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    return json.dumps(dashboard["Properties"]["DashboardBody"])


def test_the_dashboard_shows_the_gateway_the_queues_and_the_model(default_synth, full_synth):
    body = _dashboard_body(default_synth)
    for needle in (
        "4XXError",
        "5XXError",
        "p99",
        "/v1/chat/completions",
        "InputTokens",
        "OutputTokens",
        "CostUSD",
        "CacheHits",
        "Throttles",
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
    ):
        assert needle in body, needle
    assert "GPUUtilization" not in body
    full = _dashboard_body(full_synth)
    assert "GPUUtilization" in full and "ModelLatency" in full and "Invocations" in full


def dashboard_widgets(synth: Synth) -> list[dict[str, Any]]:
    """The dashboard's widgets, parsed (each CloudFormation token inside the body, a region or a
    topic name, stands as `<token>`)."""
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(part if isinstance(part, str) else "<token>" for part in parts)
    widgets: list[dict[str, Any]] = json.loads(body)["widgets"]
    return widgets


def sagemaker_series(synth: Synth) -> dict[str, list[tuple[str, str, dict[str, str]]]]:
    """Per SageMaker widget title: (namespace, metric, dimensions) of each series it draws."""
    series: dict[str, list[tuple[str, str, dict[str, str]]]] = {}
    for widget in dashboard_widgets(synth):
        title = widget["properties"].get("title", "")
        if not title.startswith("SageMaker"):
            continue
        for metric in widget["properties"]["metrics"]:
            namespace, name, *rest = [m for m in metric if not isinstance(m, dict)]
            dimensions = dict(zip(rest[::2], rest[1::2], strict=True))
            series.setdefault(title, []).append((namespace, name, dimensions))
    return series


def test_the_sagemaker_widgets_and_alarm_use_the_endpoint_variants_dimensions(full_synth):
    variant = {"EndpointName": "inference-core-llm", "VariantName": "AllTraffic"}
    series = sagemaker_series(full_synth)
    assert len(series) == 3
    drawn = [s for widget in series.values() for s in widget]
    assert {(ns, name) for ns, name, _ in drawn} == {
        ("AWS/SageMaker", "Invocations"),
        ("AWS/SageMaker", "Invocation5XXErrors"),
        ("AWS/SageMaker", "Invocation4XXErrors"),
        ("AWS/SageMaker", "ModelLatency"),
        ("/aws/sagemaker/Endpoints", "GPUUtilization"),
        ("/aws/sagemaker/Endpoints", "GPUMemoryUtilization"),
    }
    assert all(dimensions == variant for _, _, dimensions in drawn)
    (alarm,) = [
        a for a in _alarms(full_synth) if _metric(a) == ("AWS/SageMaker", "Invocation5XXErrors")
    ]
    assert alarm_dimensions(alarm) == variant
