"""API Gateway: streaming routes to the data plane, everything else to the control plane, and the
stage's tracing, access logs, throttling, CORS and custom domain."""

from __future__ import annotations

import json

import pytest
from infra.api import STREAMING_ROUTES

from tests.infra.cfn import methods_by_route, referenced_ids
from tests.infra.conftest import Synth


def _alias_id(synth: Synth, name: str) -> str:
    return synth.logical_id(synth.stack.functions[name].alias)


def _stage(synth: Synth) -> dict:
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    return stage["Properties"]


@pytest.mark.parametrize("route", STREAMING_ROUTES)
def test_each_inference_route_streams_from_the_data_plane_alias(any_synth, route):
    method = methods_by_route(any_synth.resources)[(route, "POST")]
    integration = method["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert integration["ResponseTransferMode"] == "STREAM"
    uri = json.dumps(integration["Uri"])
    assert "/response-streaming-invocations" in uri
    assert _alias_id(any_synth, "DataPlane") in referenced_ids(integration["Uri"])
    # Longer than REST's 29 s buffered limit: a generation can take minutes.
    assert integration["TimeoutInMillis"] == 300_000


def test_everything_else_goes_buffered_to_the_control_plane(any_synth):
    routes = methods_by_route(any_synth.resources)
    control = _alias_id(any_synth, "ControlPlane")
    for key in [("/", "ANY"), ("/{proxy+}", "ANY"), ("/v1", "ANY"), ("/v1/{proxy+}", "ANY")] + [
        (f"{route}/{{proxy+}}", "ANY") for route in STREAMING_ROUTES
    ]:
        integration = routes[key]["Integration"]
        assert integration.get("ResponseTransferMode", "BUFFERED") == "BUFFERED", key
        assert control in referenced_ids(integration["Uri"]), key
    # Only the five inference routes stream.
    streaming = {
        k
        for k, m in routes.items()
        if m.get("Integration", {}).get("ResponseTransferMode") == "STREAM"
    }
    assert streaming == {(route, "POST") for route in STREAMING_ROUTES}


def test_api_gateway_may_invoke_only_the_aliases(any_synth):
    targets = {
        next(iter(referenced_ids(p["Properties"]["FunctionName"])))
        for p in any_synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    assert targets == {_alias_id(any_synth, "ControlPlane"), _alias_id(any_synth, "DataPlane")}


def test_the_stage_traces_logs_json_and_throttles(any_synth):
    stage = _stage(any_synth)
    assert stage["TracingEnabled"] is True
    access_log = json.loads(stage["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "resourcePath", "responseLatency", "xrayTraceId"} <= set(
        access_log
    )
    assert ref_id_of(stage["AccessLogSetting"]["DestinationArn"]) in any_synth.of_type(
        "AWS::Logs::LogGroup"
    )
    (settings,) = stage["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 50 and settings["ThrottlingBurstLimit"] == 100
    assert settings["MetricsEnabled"] is True
    assert settings["DataTraceEnabled"] is False
    assert settings["LoggingLevel"] == "ERROR"


def ref_id_of(value: dict) -> str:
    return next(iter(referenced_ids(value)))


def test_binary_uploads_reach_the_app_as_bytes(default_synth):
    (api,) = default_synth.of_type("AWS::ApiGateway::RestApi").values()
    assert "multipart/form-data" in api["Properties"]["BinaryMediaTypes"]
    # Mangum base64-encodes images (the console's icon); API Gateway must send them as bytes.
    assert "image/*" in api["Properties"]["BinaryMediaTypes"]
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_gateway_errors_use_openai_error_bodies(default_synth):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in default_synth.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"} <= set(responses)
    body = responses["THROTTLED"]["ResponseTemplates"]["application/json"]
    assert '"type":"rate_limit_error"' in body and body.startswith('{"error":')


def test_cors_preflight_only_when_origins_are_configured(default_synth, full_synth):
    def options(synth: Synth) -> dict:
        return {k: m for k, m in methods_by_route(synth.resources).items() if k[1] == "OPTIONS"}

    assert options(default_synth) == {}
    preflight = options(full_synth)
    assert ("/v1/chat/completions", "OPTIONS") in preflight
    headers = preflight[("/v1/chat/completions", "OPTIONS")]["Integration"]["IntegrationResponses"][
        0
    ]["ResponseParameters"]
    assert (
        headers["method.response.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
    )


def test_the_custom_domain_maps_to_the_stage_and_gets_a_dns_record(default_synth, full_synth):
    assert default_synth.of_type("AWS::ApiGateway::DomainName") == {}
    (domain,) = full_synth.of_type("AWS::ApiGateway::DomainName").values()
    assert domain["Properties"]["DomainName"] == "llm.example.com"
    assert domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
    assert full_synth.of_type("AWS::ApiGateway::BasePathMapping")
    (record,) = full_synth.of_type("AWS::Route53::RecordSet").values()
    assert record["Properties"]["Name"] == "llm.example.com."
    env = full_synth.resources[full_synth.logical_id(full_synth.stack.functions["Mailer"].function)]
    assert (
        env["Properties"]["Environment"]["Variables"]["IC_PUBLIC_BASE_URL"]
        == "https://llm.example.com"
    )
