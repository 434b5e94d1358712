"""Which optional chat parameters each provider honours, and the refusal for those it cannot.

The gateway never drops a parameter silently: a request that sets one of `OPTIONAL_PARAMETERS`
to anything but its default is refused (400, naming the parameter) unless every deployment that
may serve the request (fallbacks included, since any of them may answer) forwards it. A value that asks for
the default behaviour (`presence_penalty: 0`, `logprobs: false`, `parallel_tool_calls: true`)
is what every provider does anyway, so it is accepted everywhere. Checked before the cache and
before any provider is called.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inference_core.canonical import ChatRequest, CompletionRequest, Deployment
from inference_core.errors import InvalidRequestError

# Each parameter and the value that means "the provider's default behaviour".
OPTIONAL_PARAMETERS: dict[str, Any] = {
    "reasoning_effort": None,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "logit_bias": None,
    "parallel_tool_calls": True,
    "prompt_cache_key": None,
    "logprobs": False,
    "top_logprobs": None,
}

# What each provider adapter forwards. A provider missing here (a new one) forwards none.
SUPPORTED_PARAMETERS: dict[str, frozenset[str]] = {
    "openai": frozenset(OPTIONAL_PARAMETERS),
    # TGI's Messages API (and the local model server) take the two penalties.
    "sagemaker": frozenset({"presence_penalty", "frequency_penalty"}),
    # As `tool_choice.disable_parallel_tool_use`.
    "anthropic": frozenset({"parallel_tool_calls"}),
    "bedrock": frozenset(),
}


def requested_parameters(request: ChatRequest | CompletionRequest) -> list[str]:
    """The optional parameters `request` sets to something other than the default."""
    if isinstance(request, CompletionRequest):
        return []
    asked = []
    for name, default in OPTIONAL_PARAMETERS.items():
        value = getattr(request, name)
        if value is not None and value != default and value != {}:
            asked.append(name)
    return asked


def check_supported(
    request: ChatRequest | CompletionRequest, deployments: Iterable[Deployment], *, alias: str
) -> None:
    """Raise InvalidRequestError naming the first parameter some deployment cannot honour."""
    asked = requested_parameters(request)
    if not asked:
        return
    for deployment in deployments:
        supported = SUPPORTED_PARAMETERS.get(deployment.provider, frozenset())
        for name in asked:
            if name not in supported:
                raise InvalidRequestError(
                    f"The parameter '{name}' is not supported by the model '{alias}' "
                    f"(its '{deployment.provider}' deployment cannot honour it); remove it.",
                    code="unsupported_parameter",
                    param=name,
                )
