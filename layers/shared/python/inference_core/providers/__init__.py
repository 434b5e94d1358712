"""Model providers behind one adapter interface; each SDK is imported only when its provider is used."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inference_core.providers.base import Provider
    from inference_core.settings import Settings

PROVIDER_NAMES = ("openai", "anthropic", "sagemaker", "bedrock")


def create_provider(name: str, settings: Settings) -> Provider:
    """Build the adapter for `name`, importing its module (and its SDK) only now."""
    if name == "openai":
        from inference_core.providers.openai import OpenAIProvider

        return OpenAIProvider.from_settings(settings)
    if name == "anthropic":
        from inference_core.providers.anthropic import AnthropicProvider

        return AnthropicProvider.from_settings(settings)
    if name == "sagemaker":
        from inference_core.providers.sagemaker import SageMakerProvider

        return SageMakerProvider.from_settings(settings)
    if name == "bedrock":
        from inference_core.providers.bedrock import BedrockProvider

        return BedrockProvider.from_settings(settings)
    raise ValueError(f"unknown provider {name!r}")
