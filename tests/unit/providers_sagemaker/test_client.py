"""The default boto3 client: built lazily from settings, with the SDK's own retries off."""

from __future__ import annotations

import pytest

from inference_core.providers import create_provider
from inference_core.providers.sagemaker import SageMakerProvider
from inference_core.settings import get_settings


def test_the_client_is_built_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IC_REGION", "eu-west-1")
    monkeypatch.setenv("IC_SAGEMAKER_ENDPOINT_URL", "http://127.0.0.1:8081")
    monkeypatch.setenv("IC_UPSTREAM_TIMEOUT_SECONDS", "12.5")
    provider = create_provider("sagemaker", get_settings())
    assert isinstance(provider, SageMakerProvider)

    client = provider.client

    assert client.meta.service_model.service_name == "sagemaker-runtime"
    assert client.meta.endpoint_url == "http://127.0.0.1:8081"
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client.meta.config.read_timeout == 12.5
    assert provider.client is client  # built once


def test_without_an_endpoint_url_the_regional_endpoint_is_used() -> None:
    provider = SageMakerProvider(region="us-west-2")
    assert provider.client.meta.endpoint_url == "https://runtime.sagemaker.us-west-2.amazonaws.com"
    assert provider.is_configured()
