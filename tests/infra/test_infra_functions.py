"""Every Lambda function: runtime, architecture, layer, tracing, logs, environment, its own role."""

from __future__ import annotations

from infra.lambda_function import RUNTIME

from inference_core.db.tables import table_specs
from tests.infra.cfn import ref_id
from tests.infra.conftest import Synth

FUNCTION_NAMES = ("ControlPlane", "DataPlane", "Worker", "Mailer")

# What the app reads on AWS (inference_core.settings); jobs and files join when their models do.
REQUIRED_IC_VARIABLES = {
    "IC_USERS_TABLE",
    "IC_API_KEYS_TABLE",
    "IC_SESSIONS_TABLE",
    "IC_CACHE_TABLE",
    "IC_USAGE_TABLE",
    "IC_IDEMPOTENCY_TABLE",
    "IC_MAIL_QUEUE_URL",
    "IC_BATCH_QUEUE_URL",
    "IC_FILES_BUCKET",
    "IC_JWT_SECRET_ARN",
    "IC_PROVIDER_KEYS_SECRET_ARN",
    "IC_MODEL_REGISTRY_PATH",
    "IC_REGION",
}


def _functions(synth: Synth) -> dict[str, dict]:
    return {
        name: synth.resources[synth.logical_id(fn.function)]["Properties"]
        for name, fn in synth.stack.functions.items()
    }


def test_the_stack_has_exactly_the_four_entry_points(default_synth):
    assert set(default_synth.stack.functions) == set(FUNCTION_NAMES)
    assert len(default_synth.of_type("AWS::Lambda::Function")) == len(FUNCTION_NAMES)


def test_every_function_runs_the_current_python_on_arm64_with_tracing(any_synth):
    for name, props in _functions(any_synth).items():
        assert props["Runtime"] == RUNTIME.name == "python3.14", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["MemorySize"] >= 128 and props["Timeout"] > 3, name
        assert "ZipFile" not in props["Code"] and "ImageUri" not in props["Code"], name


def test_the_shared_layer_is_attached_to_every_function(any_synth):
    (shared_layer_id,) = [
        k
        for k, r in any_synth.of_type("AWS::Lambda::LayerVersion").items()
        if r["Properties"]["Description"].startswith("inference_core and its pinned dependencies")
    ]
    for name, props in _functions(any_synth).items():
        assert shared_layer_id in {ref_id(layer) for layer in props["Layers"]}, name


def test_the_layer_is_built_for_arm64_and_the_runtime(default_synth):
    for layer in default_synth.of_type("AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Properties"]["CompatibleRuntimes"] == [RUNTIME.name]


def test_every_function_logs_to_its_own_group_with_a_retention(any_synth):
    log_groups = any_synth.of_type("AWS::Logs::LogGroup")
    seen = set()
    for name, props in _functions(any_synth).items():
        group = ref_id(props["LoggingConfig"]["LogGroup"])
        assert group in log_groups, name
        assert log_groups[group]["Properties"]["RetentionInDays"] > 0, name
        seen.add(group)
    assert len(seen) == len(FUNCTION_NAMES)


def test_every_function_has_its_own_role(any_synth):
    roles = {name: ref_id(props["Role"]) for name, props in _functions(any_synth).items()}
    assert len(set(roles.values())) == len(roles)
    for role in roles.values():
        trust = any_synth.resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust[0]["Principal"] == {"Service": "lambda.amazonaws.com"}
        # No AWS-managed policy (AWSLambdaBasicExecutionRole would allow every log group).
        assert "ManagedPolicyArns" not in any_synth.resources[role]["Properties"]


def test_every_function_gets_the_settings_and_powertools_environment(any_synth):
    tables = {f"IC_{spec.setting.upper()}" for spec in table_specs()}
    for name, props in _functions(any_synth).items():
        env = props["Environment"]["Variables"]
        assert REQUIRED_IC_VARIABLES | tables <= set(env), name
        assert env["IC_MODEL_REGISTRY_PATH"] == "/opt/registry/models.json"
        assert env["POWERTOOLS_SERVICE_NAME"] == "inference-core"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "InferenceCore"
        assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
        # Secrets arrive as ARNs, never as values.
        assert not {"IC_JWT_SECRET", "IC_OPENAI_API_KEY", "IC_ANTHROPIC_API_KEY"} & set(env), name
        assert ref_id(env["IC_JWT_SECRET_ARN"]) in any_synth.of_type("AWS::SecretsManager::Secret")


def test_the_mailer_sends_from_the_configured_identity(default_synth):
    env = _functions(default_synth)["Mailer"]["Environment"]["Variables"]
    assert env["IC_MAIL_FROM"] == "noreply@example.com"
    assert ref_id(env["IC_MAIL_CONFIGURATION_SET"]) in default_synth.of_type(
        "AWS::SES::ConfigurationSet"
    )


def test_handlers_match_the_entry_points(default_synth):
    props = _functions(default_synth)
    assert props["ControlPlane"]["Handler"] == "handler.handler"
    assert props["DataPlane"]["Handler"] == "run.sh"
    assert props["Worker"]["Handler"] == "handler.handler"
    assert props["Mailer"]["Handler"] == "handler.handler"


def test_snapstart_on_both_api_functions_behind_a_live_alias(any_synth):
    aliases = any_synth.of_type("AWS::Lambda::Alias")
    versions = any_synth.of_type("AWS::Lambda::Version")
    for name in ("ControlPlane", "DataPlane"):
        fn = any_synth.stack.functions[name]
        fn_id = any_synth.logical_id(fn.function)
        assert any_synth.resources[fn_id]["Properties"]["SnapStart"] == {
            "ApplyOn": "PublishedVersions"
        }
        alias = aliases[any_synth.logical_id(fn.alias)]["Properties"]
        assert alias["Name"] == "live"
        version = versions[ref_id(alias["FunctionVersion"])]["Properties"]
        assert ref_id(version["FunctionName"]) == fn_id


def test_the_data_plane_runs_under_the_lambda_web_adapter_in_streaming_mode(any_synth):
    props = _functions(any_synth)["DataPlane"]
    env = props["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/health"
    # SnapStart is on: after a restore the adapter calls the app's restore hook
    from inference_core.snapstart import LWA_AFTER_RESTORE_PATH

    assert env["AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH"] == LWA_AFTER_RESTORE_PATH
    adapter = [
        layer
        for layer in props["Layers"]
        if isinstance(layer, str) and ":753240598075:layer:LambdaAdapterLayerArm64:" in layer
    ]
    assert len(adapter) == 1
    assert adapter[0].startswith("arn:aws:lambda:us-east-1:")
