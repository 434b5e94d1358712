"""Embeddings through `invoke_endpoint` with TEI's `{"inputs": [...]}` body."""

from __future__ import annotations

import asyncio

import pytest

from inference_core.canonical import Deployment
from inference_core.errors import UpstreamBadResponseError
from inference_core.providers.sagemaker import SageMakerProvider

from .fakes import FakeRuntime


def test_tei_vectors_come_back_in_order(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    result = asyncio.run(provider.embed(["first text", "second"], deployment))
    assert runtime.payload() == {"inputs": ["first text", "second"]}
    assert result.vectors == [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
    assert result.usage.input_tokens == 3 + 2  # estimated: TEI reports no usage


def test_token_level_features_are_mean_pooled(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return([[[1.0, 2.0], [3.0, 4.0]]])
    result = asyncio.run(provider.embed(["two tokens"], deployment))
    assert result.vectors == [[2.0, 3.0]]


def test_an_openai_shaped_answer_and_its_usage_are_used(
    runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return(
        {
            "data": [{"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": [1.0]}],
            "usage": {"prompt_tokens": 9, "total_tokens": 9},
        }
    )
    result = asyncio.run(provider.embed(["a", "b"], deployment))
    assert result.vectors == [[1.0], [2.0]]
    assert result.usage.input_tokens == 9


@pytest.mark.parametrize("body", [[[0.1]], {"embeddings": []}, {"unexpected": True}, [[]]])
def test_a_wrong_number_of_vectors_is_a_bad_response(
    body: object, runtime: FakeRuntime, provider: SageMakerProvider, deployment: Deployment
) -> None:
    runtime.will_return(body)
    with pytest.raises(UpstreamBadResponseError):
        asyncio.run(provider.embed(["a", "b"], deployment))
