"""A Bedrock alias answers through `/v1/chat/completions` and `/v1/messages` (the real handler,
router and Bedrock adapter over a recorded-shape `bedrock-runtime` client whose calls are checked
against botocore's service model), and provider keys re-read from Secrets Manager (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from inference_core.providers.bedrock import BedrockProvider

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
REGISTRY = {
    "default_model": "claude-bedrock",
    "models": {
        "claude-bedrock": {
            "deployments": [
                {
                    "provider": "bedrock",
                    "model": MODEL,
                    "input_price_per_mtok": 0.8,
                    "output_price_per_mtok": 4.0,
                    "context_window": 200000,
                }
            ]
        }
    },
}


class RecordedBedrock:
    """`bedrock-runtime` with recorded Converse answers; every call's parameters are validated
    against botocore's real service model (as the Stubber does), and throttling can be scripted."""

    def __init__(self) -> None:
        self._model = boto3.client("bedrock-runtime", region_name="us-east-1").meta.service_model
        self.calls: list[dict[str, Any]] = []
        self.throttle = 0

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        validate_parameters(kwargs, self._model.operation_model("Converse").input_shape)
        self.calls.append(kwargs)
        if self.throttle:
            self.throttle -= 1
            error: Any = {
                "Error": {"Code": "ThrottlingException", "Message": "Too many requests"},
                "ResponseMetadata": {"HTTPStatusCode": 429},
            }
            raise ClientError(error, "Converse")
        return {
            "output": {
                "message": {"role": "assistant", "content": [{"text": "Hello from Bedrock"}]}
            },
            "stopReason": "end_turn",
            "usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13},
            "metrics": {"latencyMs": 80},
        }

    def converse_stream(self, **kwargs: Any) -> dict[str, Any]:
        validate_parameters(kwargs, self._model.operation_model("ConverseStream").input_shape)
        self.calls.append(kwargs)
        events: list[dict[str, Any]] = [{"messageStart": {"role": "assistant"}}]
        for piece in ("Hello", " from", " Bedrock"):
            events.append({"contentBlockDelta": {"delta": {"text": piece}, "contentBlockIndex": 0}})
        events += [
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {
                "contentBlockStart": {
                    "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}},
                    "contentBlockIndex": 1,
                }
            },
            {
                "contentBlockDelta": {
                    "delta": {"toolUse": {"input": '{"city": "Oslo"}'}},
                    "contentBlockIndex": 1,
                }
            },
            {"contentBlockStop": {"contentBlockIndex": 1}},
            {"messageStop": {"stopReason": "tool_use"}},
            {
                "metadata": {
                    "usage": {"inputTokens": 9, "outputTokens": 6, "totalTokens": 15},
                    "metrics": {"latencyMs": 80},
                }
            },
        ]
        return {"stream": iter(events)}


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def bedrock(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[RecordedBedrock]:
    from inference_core.api.deps import reset_dependencies
    from inference_core.settings import get_settings

    registry = tmp_path / "models.json"
    registry.write_text(json.dumps(REGISTRY))
    monkeypatch.setenv("IC_MODEL_REGISTRY_PATH", str(registry))
    monkeypatch.setenv("IC_RETRY_BASE_DELAY_SECONDS", "0.001")
    monkeypatch.setenv("IC_RETRY_MAX_DELAY_SECONDS", "0.002")
    get_settings.cache_clear()
    reset_dependencies()
    client = RecordedBedrock()
    monkeypatch.setattr(
        "inference_core.providers.create_provider",
        lambda name, settings: BedrockProvider.from_settings(settings, client=client),
    )
    yield client
    reset_dependencies()


@pytest.fixture
def key(make_account: Any, gateway: Any) -> str:
    account = make_account()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "t"}, token=account.access_token)
    assert created.status == 201, created.text
    return str(created.json()["key"])


def test_a_bedrock_alias_answers_chat_completions(
    gateway: Any, bedrock: RecordedBedrock, key: str
) -> None:
    response = gateway.call(
        "POST",
        "/v1/chat/completions",
        {
            "model": "claude-bedrock",
            "messages": [
                {"role": "system", "content": "Be kind."},
                {"role": "user", "content": "Hi"},
            ],
            "max_tokens": 50,
        },
        token=key,
    )
    assert response.status == 200, response.text
    body = response.json()
    assert body["choices"][0]["message"]["content"] == "Hello from Bedrock"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] == 9 and body["usage"]["completion_tokens"] == 4
    (call,) = bedrock.calls
    assert call["modelId"] == MODEL and call["system"] == [{"text": "Be kind."}]


def test_a_bedrock_alias_answers_messages(gateway: Any, bedrock: RecordedBedrock, key: str) -> None:
    response = gateway.call(
        "POST",
        "/v1/messages",
        {
            "model": "claude-bedrock",
            "max_tokens": 50,
            "system": "Be kind.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        },
        headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
    )
    assert response.status == 200, response.text
    body = response.json()
    assert body["type"] == "message" and body["stop_reason"] == "end_turn"
    assert body["content"] == [{"type": "text", "text": "Hello from Bedrock"}]
    assert body["usage"]["input_tokens"] == 9 and body["usage"]["output_tokens"] == 4


def test_a_bedrock_alias_streams_chat_completions_with_a_tool_call(
    client: Any, bedrock: RecordedBedrock, key: str
) -> None:
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "claude-bedrock",
            "messages": [{"role": "user", "content": "Weather in Oslo?"}],
            "tools": [WEATHER],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        headers={"Authorization": f"Bearer {key}"},
    ) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("content") or "" for d in deltas) == "Hello from Bedrock"
    calls = [t for d in deltas for t in d.get("tool_calls") or []]
    assert calls[0]["id"] == "tooluse_1" and calls[0]["function"]["name"] == "get_weather"
    assert json.loads("".join(t["function"].get("arguments", "") for t in calls)) == {
        "city": "Oslo"
    }
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "tool_calls"
    assert chunks[-1]["usage"]["completion_tokens"] == 6
    assert bedrock.calls[0]["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"


def test_a_bedrock_alias_streams_messages(client: Any, bedrock: RecordedBedrock, key: str) -> None:
    with client.stream(
        "POST",
        "/v1/messages",
        json={
            "model": "claude-bedrock",
            "max_tokens": 50,
            "stream": True,
            "messages": [{"role": "user", "content": "Weather in Oslo?"}],
            "tools": [
                {
                    "name": "get_weather",
                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
                }
            ],
        },
        headers={"x-api-key": key},
    ) as response:
        assert response.status_code == 200
        lines = list(response.iter_lines())
    events = [line[7:] for line in lines if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    starts = [d["content_block"] for d in data if d["type"] == "content_block_start"]
    assert [b["type"] for b in starts] == ["text", "tool_use"]
    assert starts[1]["name"] == "get_weather"
    (delta,) = [d for d in data if d["type"] == "message_delta"]
    assert delta["delta"]["stop_reason"] == "tool_use"


def test_bedrock_throttling_is_retried_then_reported_as_a_clean_503(
    gateway: Any, bedrock: RecordedBedrock, key: str
) -> None:
    chat = {"model": "claude-bedrock", "messages": [{"role": "user", "content": "Hi"}]}
    bedrock.throttle = 1
    retried = gateway.call(
        "POST", "/v1/chat/completions", chat, token=key, headers={"Cache-Control": "no-cache"}
    )
    assert retried.status == 200, retried.text
    bedrock.throttle = 10
    refused = gateway.call(
        "POST", "/v1/chat/completions", chat, token=key, headers={"Cache-Control": "no-cache"}
    )
    assert refused.status == 503
    assert "Too many requests" not in refused.text
    assert refused.json()["error"]["message"]


def test_provider_keys_follow_the_secret_in_secrets_manager(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference_core.provider_keys import reset_provider_keys
    from inference_core.settings import get_settings

    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="ic/provider-keys", SecretString="{}")["ARN"]
    monkeypatch.setenv("IC_PROVIDER_KEYS_SECRET_ARN", arn)
    monkeypatch.setenv("IC_PROVIDER_KEYS_MAX_AGE_SECONDS", "0")  # re-read on every use
    get_settings.cache_clear()
    reset_provider_keys()
    try:
        settings = get_settings()
        assert settings.provider_api_key("openai") is None  # started before the secret was filled
        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"openai": "sk-first"}))
        assert settings.provider_api_key("openai") == "sk-first"
        secrets.put_secret_value(
            SecretId=arn, SecretString=json.dumps({"openai": "sk-rotated", "vllm": "sk-v"})
        )
        assert settings.provider_api_key("openai") == "sk-rotated"
        assert settings.provider_api_key("vllm") == "sk-v"
    finally:
        reset_provider_keys()


def test_ready_checks_the_keys_each_deployment_names(
    aws: Any, gateway: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from inference_core.provider_keys import reset_provider_keys
    from inference_core.settings import get_settings
    from inference_core.wiring import reset_wiring

    registry = tmp_path / "models.json"
    registry.write_text(
        json.dumps(
            {
                "models": {
                    "llama": {
                        "deployments": [
                            {
                                "provider": "openai",
                                "model": "llama",
                                "base_url": "http://vllm.internal:8000/v1",
                                "api_key": "vllm",
                            },
                            {"provider": "bedrock", "model": MODEL},
                        ]
                    }
                }
            }
        )
    )
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="ic/keys", SecretString=json.dumps({"openai": "sk-x"}))["ARN"]
    monkeypatch.setenv("IC_MODEL_REGISTRY_PATH", str(registry))
    monkeypatch.setenv("IC_PROVIDER_KEYS_SECRET_ARN", arn)
    monkeypatch.setenv("IC_PROVIDER_KEYS_MAX_AGE_SECONDS", "0")
    get_settings.cache_clear()
    reset_wiring()
    reset_provider_keys()
    try:
        missing = gateway.call("GET", "/ready")
        assert missing.status == 503
        # The default `openai` key is there, but the only openai deployment names `vllm`.
        assert missing.json()["checks"]["provider:openai"] == {
            "ok": False,
            "error": "not configured",
        }
        assert missing.json()["checks"]["provider:bedrock"] == {"ok": True}
        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"vllm": "token"}))
        filled = gateway.call("GET", "/ready")
        assert filled.json()["checks"]["provider:openai"] == {"ok": True}
    finally:
        reset_provider_keys()
        reset_wiring()
