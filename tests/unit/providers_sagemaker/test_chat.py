"""Chat through `invoke_endpoint`: the Messages-API body we send and how the answer is read."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from inference_core.canonical import ChatRequest, CompletionRequest, Deployment
from inference_core.errors import UpstreamBadResponseError
from inference_core.providers.sagemaker import SageMakerProvider

from .fakes import ENDPOINT, FakeRuntime, runtime_client


def completion(content: Any = "Hello!", finish: str = "stop", **extra: Any) -> dict:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "tgi",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
    }
    body.update(extra)
    return body


def test_chat_sends_the_messages_api_body_and_returns_the_containers_answer(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return(
        completion("Hi there", "length", usage={"prompt_tokens": 21, "completion_tokens": 2})
    )
    request = ChatRequest(
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        max_tokens=2,
        temperature=0.5,
        top_p=0.9,
        stop=["\n\n"],
        seed=7,
        response_format={"type": "json_object"},
    )

    result = asyncio.run(provider.chat(request, deployment))

    operation, params = runtime.calls[0]
    assert operation == "invoke_endpoint"
    assert params["EndpointName"] == ENDPOINT
    assert params["ContentType"] == "application/json"
    assert runtime.payload() == {
        "model": "tgi",
        "messages": request.messages,
        "max_tokens": 2,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "seed": 7,
        # TGI's GrammarType: OpenAI's json_object becomes "any JSON object".
        "response_format": {"type": "json", "value": {"type": "object"}},
        "stream": False,
    }
    assert result.content == "Hi there"
    assert result.finish_reason == "length"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (21, 2)


def test_unset_options_are_left_to_the_container(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return(completion())
    asyncio.run(
        provider.chat(ChatRequest(messages=[{"role": "user", "content": "Hi"}]), deployment)
    )
    assert runtime.payload() == {
        "model": "tgi",
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": False,
    }


def test_the_call_is_valid_for_the_real_service_model(deployment: Deployment) -> None:
    # The Stubber checks our parameters against botocore's model of InvokeEndpoint.
    client = runtime_client()
    body = json.dumps(completion()).encode()
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"},
            expected_params={
                "EndpointName": ENDPOINT,
                "Body": ANY,
                "ContentType": "application/json",
                "Accept": "application/json",
            },
        )
        result = asyncio.run(
            SageMakerProvider(client).chat(
                ChatRequest(messages=[{"role": "user", "content": "Hi"}]), deployment
            )
        )
        stubber.assert_no_pending_responses()
    assert result.content == "Hello!"


def test_tgi_tool_calls_are_normalized_to_openais_shape(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    # TGI (before 2.1) gives arguments as an object, numeric-string ids, and "eos_token".
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    runtime.will_return(
        {
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "0",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": {"city": "Oslo"}},
                            }
                        ],
                    },
                    "finish_reason": "eos_token",
                }
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 9},
        }
    )
    request = ChatRequest(
        messages=[{"role": "user", "content": "Weather in Oslo?"}], tools=tools, tool_choice="auto"
    )

    result = asyncio.run(provider.chat(request, deployment))

    assert runtime.payload()["tools"] == tools
    assert runtime.payload()["tool_choice"] == "auto"
    assert result.finish_reason == "tool_calls"
    assert result.content is None
    assert result.tool_calls == [
        {
            "id": "0",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        }
    ]


@pytest.mark.parametrize(
    ("upstream", "ours"),
    [("eos_token", "stop"), ("stop_sequence", "stop"), ("length", "length"), (None, "stop")],
)
def test_finish_reasons_are_openais(
    upstream: str | None,
    ours: str,
    runtime: FakeRuntime,
    provider: SageMakerProvider,
    deployment: Deployment,
) -> None:
    runtime.will_return(completion(finish=upstream))  # type: ignore[arg-type]
    result = asyncio.run(
        provider.chat(ChatRequest(messages=[{"role": "user", "content": "x"}]), deployment)
    )
    assert result.finish_reason == ours


def test_usage_is_estimated_when_the_container_reports_none(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return(completion("word " * 40))
    result = asyncio.run(
        provider.chat(ChatRequest(messages=[{"role": "user", "content": "x" * 400}]), deployment)
    )
    assert 100 <= result.usage.input_tokens <= 120
    assert 40 <= result.usage.output_tokens <= 60


def test_completions_are_chat_with_one_user_message(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return(completion("Paris."))
    result = asyncio.run(
        provider.complete(
            CompletionRequest(prompt="Capital of France?", max_tokens=5, temperature=0), deployment
        )
    )
    payload = runtime.payload()
    assert payload["messages"] == [{"role": "user", "content": "Capital of France?"}]
    assert (payload["max_tokens"], payload["temperature"]) == (5, 0)
    assert result.content == "Paris."


@pytest.mark.parametrize(
    "body",
    [b"<html>Bad gateway</html>", b'{"error": "Request failed during generation"}', b"{}"],
)
def test_a_body_that_is_not_a_chat_completion_is_a_bad_response(
    body: bytes, runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return(body)
    with pytest.raises(UpstreamBadResponseError) as caught:
        asyncio.run(
            provider.chat(ChatRequest(messages=[{"role": "user", "content": "x"}]), deployment)
        )
    assert caught.value.status_code == 502
    assert not caught.value.retryable
