"""The per-request EMF blob and the structured log line carry usage, per model and provider."""

from __future__ import annotations

import json

import pytest

from inference_core.observability import RequestUsage, emit_request_metrics


def test_emf_blob_has_usage_metrics_with_model_and_provider_dimensions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "0")
    usage = RequestUsage(
        request_id="r",
        tenant_id="t",
        key_id="k",
        endpoint="chat.completions",
        model="smollm2",
        provider="sagemaker",
        input_tokens=12,
        output_tokens=34,
        cost_usd=0.5,
        latency_ms=7.0,
    )
    emit_request_metrics(usage)
    blob = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    directives = blob["_aws"]["CloudWatchMetrics"][0]
    names = {m["Name"] for m in directives["Metrics"]}
    assert {
        "Requests",
        "Latency",
        "InputTokens",
        "OutputTokens",
        "CostUSD",
        "CacheHits",
        "Errors",
    } <= names
    assert ["model", "provider"] in [sorted(d) for d in directives["Dimensions"]] or any(
        set(d) >= {"model", "provider"} for d in directives["Dimensions"]
    )
    assert blob["model"] == "smollm2" and blob["provider"] == "sagemaker"
    assert blob["InputTokens"] in (12, [12]) and blob["OutputTokens"] in (34, [34])


def test_usage_log_fields_name_every_figure() -> None:
    fields = RequestUsage(
        request_id="r", tenant_id="t", key_id=None, endpoint="e", model="m"
    ).as_log_fields()
    assert {
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_ms",
        "cache_hit",
        "model",
        "provider",
    } <= set(fields)
