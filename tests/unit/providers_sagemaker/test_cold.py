"""A SageMaker deployment on an inference component: the component is named on every call, and
"no copy yet" (scaled to zero, still loading) is the router's `COLD`, for plain and streamed calls."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from inference_core.canonical import ChatRequest, Deployment
from inference_core.errors import UpstreamUnavailableError
from inference_core.providers.sagemaker import SageMakerProvider
from inference_core.registry import ModelRegistry
from inference_core.upstream_errors import COLD

from .fakes import ENDPOINT, FakeRuntime, runtime_client
from .test_errors import chat_error, stream_error

REQUEST = ChatRequest(messages=[{"role": "user", "content": "Hi"}])
NO_CAPACITY = (
    "Inference Component has no capacity to process this request. ApplicationAutoScaling may be "
    "in-progress (if configured) or try to increase the capacity by invoking "
    "UpdateInferenceComponentRuntimeConfig API."
)


@pytest.mark.parametrize("raise_error", [chat_error, stream_error])
@pytest.mark.parametrize(
    ("code", "message", "status"),
    [("ValidationError", NO_CAPACITY, 400), ("ModelNotReadyException", "Model not ready", 429)],
)
def test_no_copy_of_the_model_is_cold(
    raise_error: Any, code: str, message: str, status: int, deployment: Deployment
) -> None:
    error = raise_error(
        deployment, service_error_code=code, service_message=message, http_status_code=status
    )
    assert isinstance(error, UpstreamUnavailableError)
    assert (error.status_code, error.code) == (503, COLD)
    assert "ApplicationAutoScaling" not in error.message  # SageMaker's wording is not passed on


def test_another_validation_error_is_not_cold(deployment: Deployment) -> None:
    error = chat_error(
        deployment,
        service_error_code="ValidationError",
        service_message="Endpoint x not found.",
        http_status_code=400,
    )
    assert error.code != COLD


def test_the_inference_component_is_named_on_each_call(runtime: FakeRuntime) -> None:
    deployment = Deployment(
        provider="sagemaker", model=ENDPOINT, inference_component="smollm2-component"
    )
    runtime.will_return(
        {"choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
    )

    asyncio.run(SageMakerProvider(runtime).chat(REQUEST, deployment))

    _, params = runtime.calls[0]
    assert params["EndpointName"] == ENDPOINT
    assert params["InferenceComponentName"] == "smollm2-component"


def test_a_plain_endpoint_names_no_component(runtime: FakeRuntime, deployment: Deployment) -> None:
    client = SageMakerProvider(runtime)
    runtime.will_return(
        {"choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
    )
    asyncio.run(client.chat(REQUEST, dataclasses.replace(deployment, inference_component=None)))
    assert "InferenceComponentName" not in runtime.calls[0][1]


def test_the_registry_reads_the_inference_component() -> None:
    registry = ModelRegistry.from_dict(
        {
            "models": {
                "m": {
                    "deployments": [
                        {"provider": "sagemaker", "model": "ep", "inference_component": "ic-1"}
                    ]
                }
            }
        }
    )
    assert registry.resolve("m").deployments[0].inference_component == "ic-1"


def test_the_stubbed_client_accepts_the_component_parameter() -> None:
    # botocore validates parameters against the real API model: the name must be accepted.
    client = runtime_client()
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "invoke_endpoint",
            service_error_code="ValidationError",
            service_message=NO_CAPACITY,
            http_status_code=400,
            expected_params={
                "EndpointName": ENDPOINT,
                "InferenceComponentName": "ic-1",
                "Body": ANY,
                "ContentType": "application/json",
                "Accept": "application/json",
            },
        )
        deployment = Deployment(provider="sagemaker", model=ENDPOINT, inference_component="ic-1")
        with pytest.raises(UpstreamUnavailableError) as raised:
            asyncio.run(SageMakerProvider(client).chat(REQUEST, deployment))
    assert raised.value.code == COLD
