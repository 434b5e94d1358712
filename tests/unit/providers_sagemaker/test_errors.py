"""botocore's failures → our `ProviderError`s, as the router needs them (Stubber-raised)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from inference_core.canonical import ChatRequest, Deployment
from inference_core.errors import (
    ContextWindowExceededError,
    InferenceCoreError,
    ProviderError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from inference_core.providers.sagemaker import SageMakerProvider
from inference_core.upstream_errors import REQUEST_REJECTED

from .fakes import ENDPOINT, FakeRuntime, runtime_client

REQUEST = ChatRequest(messages=[{"role": "user", "content": "Hi"}])
URL = "https://runtime.sagemaker.us-east-1.amazonaws.com"
ACCOUNT_MESSAGE = f"Endpoint {ENDPOINT} of account 123456789012 not found."


def chat_error(deployment: Deployment, **client_error: Any) -> InferenceCoreError:
    client = runtime_client()
    with Stubber(client) as stubber:
        stubber.add_client_error("invoke_endpoint", **client_error)
        with pytest.raises(InferenceCoreError) as caught:
            asyncio.run(SageMakerProvider(client).chat(REQUEST, deployment))
    return caught.value


def stream_error(deployment: Deployment, **client_error: Any) -> InferenceCoreError:
    client = runtime_client()

    async def run() -> None:
        async for _ in SageMakerProvider(client).chat_stream(REQUEST, deployment):
            pass

    with Stubber(client) as stubber:
        stubber.add_client_error("invoke_endpoint_with_response_stream", **client_error)
        with pytest.raises(InferenceCoreError) as caught:
            asyncio.run(run())
    return caught.value


def model_error(status: int, message: str = '{"error": "Input validation error"}') -> dict:
    return {
        "service_error_code": "ModelError",
        "service_message": f"Received client error ({status}) from primary",
        "http_status_code": 424,
        "modeled_fields": {"OriginalStatusCode": status, "OriginalMessage": message},
    }


@pytest.mark.parametrize("raise_error", [chat_error, stream_error])
def test_an_unknown_endpoint_is_a_non_retryable_bad_response(
    raise_error: Any, deployment: Deployment
) -> None:
    error = raise_error(
        deployment,
        service_error_code="ValidationError",
        service_message=ACCOUNT_MESSAGE,
        http_status_code=400,
    )
    assert isinstance(error, UpstreamBadResponseError)
    assert (error.status_code, error.retryable) == (502, False)
    assert error.code != REQUEST_REJECTED  # a fault of this deployment: the next one may serve
    assert "123456789012" not in error.message


def test_a_container_4xx_rejects_the_request_outright(deployment: Deployment) -> None:
    error = chat_error(deployment, **model_error(422))
    assert isinstance(error, UpstreamBadResponseError)
    assert (error.status_code, error.retryable, error.code) == (502, False, REQUEST_REJECTED)


def test_a_prompt_too_long_for_the_model_is_the_clients_400(deployment: Deployment) -> None:
    message = (
        '{"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. '
        'Given: 2100 `inputs` tokens and 16 `max_new_tokens`", "error_type": "validation"}'
    )
    error = chat_error(deployment, **model_error(422, message))
    assert isinstance(error, ContextWindowExceededError)
    assert error.status_code == 400


@pytest.mark.parametrize("status", [429, 503])
def test_an_overloaded_container_is_retryable(status: int, deployment: Deployment) -> None:
    error = chat_error(deployment, **model_error(status))
    assert isinstance(error, UpstreamUnavailableError)
    assert error.retryable


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("ServiceUnavailable", 503),
        ("InternalFailure", 500),
        ("ModelNotReadyException", 429),
        ("InternalDependencyException", 530),
    ],
)
def test_transient_sagemaker_errors_are_retryable_503s(
    code: str, status: int, deployment: Deployment
) -> None:
    error = chat_error(deployment, service_error_code=code, http_status_code=status)
    assert isinstance(error, UpstreamUnavailableError)
    assert (error.status_code, error.retryable) == (503, True)


def test_retry_after_is_passed_to_the_router(deployment: Deployment) -> None:
    error = chat_error(
        deployment,
        service_error_code="ThrottlingException",
        http_status_code=400,
        response_meta={"HTTPHeaders": {"retry-after": "2"}},
    )
    assert isinstance(error, ProviderError)
    assert error.retry_after == 2


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ReadTimeoutError(endpoint_url="https://runtime.sagemaker"), UpstreamTimeoutError),
        (ConnectTimeoutError(endpoint_url="https://runtime.sagemaker"), UpstreamTimeoutError),
        (
            EndpointConnectionError(endpoint_url="https://runtime.sagemaker"),
            UpstreamUnavailableError,
        ),
    ],
)
def test_network_failures_are_retryable(
    exc: Exception, expected: type[ProviderError], deployment: Deployment
) -> None:
    for call in ("chat", "stream"):
        runtime = FakeRuntime().will_raise(exc)
        provider = SageMakerProvider(runtime)

        async def run() -> None:
            if call == "chat":
                await provider.chat(REQUEST, deployment)
            else:
                async for _ in provider.chat_stream(REQUEST, deployment):
                    pass

        with pytest.raises(expected) as caught:
            asyncio.run(run())
        assert caught.value.retryable
        assert caught.value.__cause__ is exc
        assert "runtime.sagemaker" not in caught.value.message  # never the upstream URL


def test_missing_credentials_are_a_configuration_error(deployment: Deployment) -> None:
    provider = SageMakerProvider(FakeRuntime().will_raise(NoCredentialsError()))
    with pytest.raises(ProviderError) as caught:
        asyncio.run(provider.chat(REQUEST, deployment))
    assert caught.value.code == "provider_not_configured"
    assert not caught.value.retryable
