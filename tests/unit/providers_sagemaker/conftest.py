from __future__ import annotations

import pytest

from inference_core.canonical import Deployment
from inference_core.providers.sagemaker import SageMakerProvider

from .fakes import ENDPOINT, FakeRuntime


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def provider(runtime: FakeRuntime) -> SageMakerProvider:
    return SageMakerProvider(runtime)


@pytest.fixture
def deployment() -> Deployment:
    return Deployment(provider="sagemaker", model=ENDPOINT, context_window=4096)
