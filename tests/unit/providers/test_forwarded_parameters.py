"""The newly forwarded chat parameters: each reaches OpenAI, TGI gets the ones it honours, the rest
are a 400 naming the parameter; cached and reasoning token counts come back and are priced."""

from __future__ import annotations

from typing import Any

import pytest

from inference_core.canonical import ChatRequest, Deployment, Usage
from inference_core.errors import InvalidRequestError
from inference_core.openai_bodies import usage_body
from inference_core.parameters import check_supported
from inference_core.schemas.openai import ChatCompletionRequest
from inference_core.translation.tgi import chat_payload, usage_from

from .conftest import FakeUpstream, json_reply
from .test_openai_provider import GPT, WEATHER_TOOL, completion, provider_for

HI = [{"role": "user", "content": "hi"}]
OPENAI = Deployment(provider="openai", model="gpt-5")
TGI = Deployment(provider="sagemaker", model="tgi-endpoint")
CLAUDE = Deployment(provider="anthropic", model="claude")

# Each parameter with a non-default value, as a client sends it to /v1/chat/completions.
FORWARDED: dict[str, Any] = {
    "reasoning_effort": "low",
    "presence_penalty": 0.5,
    "frequency_penalty": -0.5,
    "logit_bias": {"50256": -100},
    "parallel_tool_calls": False,
    "prompt_cache_key": "conversation-42",
    "logprobs": True,
    "top_logprobs": 2,
}


def chat_request(**fields: Any) -> ChatRequest:
    body: dict[str, Any] = {"model": "m", "messages": HI, **fields}
    if "top_logprobs" in fields:
        body["logprobs"] = True
    return ChatCompletionRequest.model_validate(body).to_chat_request()


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(FORWARDED))
async def test_each_parameter_reaches_openai(name: str) -> None:
    upstream = FakeUpstream(json_reply(completion({"role": "assistant", "content": "ok"})))
    request = chat_request(**{name: FORWARDED[name]}, tools=[WEATHER_TOOL])
    await provider_for(upstream).chat(request, GPT)
    assert upstream.body()[name] == FORWARDED[name]


@pytest.mark.parametrize("name", ["presence_penalty", "frequency_penalty"])
def test_tgi_gets_the_penalties(name: str) -> None:
    request = chat_request(**{name: FORWARDED[name]})
    check_supported(request, [TGI], alias="m")
    assert chat_payload(request, stream=False)[name] == FORWARDED[name]


@pytest.mark.parametrize(
    ("deployment", "name"),
    [(TGI, n) for n in FORWARDED if "penalty" not in n]
    + [(CLAUDE, n) for n in FORWARDED if n != "parallel_tool_calls"],
)
def test_a_parameter_a_deployment_cannot_honour_is_a_400_naming_it(
    deployment: Deployment, name: str
) -> None:
    request = chat_request(**{name: FORWARDED[name]})
    with pytest.raises(InvalidRequestError) as caught:
        check_supported(request, [deployment], alias="m")
    # (top_logprobs travels with logprobs, which is named first)
    expected = "logprobs" if name == "top_logprobs" else name
    assert caught.value.param == expected and f"'{expected}'" in caught.value.message


def test_a_fallback_that_cannot_honour_it_refuses_too() -> None:
    with pytest.raises(InvalidRequestError):
        check_supported(chat_request(logprobs=True), [OPENAI, TGI], alias="m")
    check_supported(chat_request(logprobs=True), [OPENAI], alias="m")


def test_default_values_are_accepted_everywhere() -> None:
    request = chat_request(
        presence_penalty=0, frequency_penalty=0, logprobs=False, parallel_tool_calls=True
    )
    check_supported(request, [TGI, CLAUDE], alias="m")


@pytest.mark.parametrize(
    "fields",
    [
        {"reasoning_effort": "extreme"},
        {"top_logprobs": 3},  # without logprobs
        {"logit_bias": {"1": 101}},
        {"presence_penalty": 3},
    ],
)
def test_out_of_range_values_are_refused_by_the_schema(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ChatCompletionRequest.model_validate({"model": "m", "messages": HI, **fields})


@pytest.mark.anyio
async def test_openai_usage_details_and_logprobs_come_back() -> None:
    body = completion({"role": "assistant", "content": "ok"})
    body["usage"]["prompt_tokens_details"] = {"cached_tokens": 8}
    body["usage"]["completion_tokens_details"] = {"reasoning_tokens": 2}
    logprobs = {
        "content": [{"token": "ok", "logprob": -0.1, "bytes": [111, 107], "top_logprobs": []}]
    }
    body["choices"][0]["logprobs"] = logprobs
    upstream = FakeUpstream(json_reply(body))
    result = await provider_for(upstream).chat(chat_request(logprobs=True), GPT)
    assert result.usage == Usage(12, 3, cached_input_tokens=8, reasoning_tokens=2)
    assert result.logprobs is not None and result.logprobs["content"][0]["token"] == "ok"
    assert usage_body(result.usage) == {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 8},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }


def test_usage_without_details_reports_none_and_tgi_details_are_read() -> None:
    assert "prompt_tokens_details" not in usage_body(Usage(1, 1))
    usage = usage_from(
        {"prompt_tokens": 5, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 4}}
    )
    assert usage == Usage(5, 1, cached_input_tokens=4)


def test_cached_tokens_cost_the_cached_input_price() -> None:
    priced = Deployment(
        provider="openai",
        model="gpt",
        input_price_per_mtok=2.0,
        output_price_per_mtok=8.0,
        cached_input_price_per_mtok=0.5,
    )
    usage = Usage(1_000_000, 100_000, cached_input_tokens=400_000)
    assert priced.cost(usage) == pytest.approx(0.6 * 2.0 + 0.4 * 0.5 + 0.1 * 8.0)
    # Without a cached price, cached tokens cost the input price; no details, no discount.
    unpriced = Deployment(provider="openai", model="gpt", input_price_per_mtok=2.0)
    assert unpriced.cost(usage) == pytest.approx(2.0)
    assert priced.cost(Usage(1_000_000, 0)) == pytest.approx(2.0)


def test_the_registry_reads_the_cached_input_price() -> None:
    from inference_core.registry import ModelRegistry

    registry = ModelRegistry.from_dict(
        {
            "models": {
                "gpt": {
                    "deployments": [
                        {
                            "provider": "openai",
                            "model": "gpt-5",
                            "input_price_per_mtok": 1.25,
                            "cached_input_price_per_mtok": 0.125,
                        }
                    ]
                }
            }
        }
    )
    [deployment] = registry.resolve("gpt").deployments
    assert deployment.cached_input_price_per_mtok == 0.125


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        (None, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", {"type": "any", "disable_parallel_tool_use": True}),
        ("none", {"type": "none"}),
    ],
)
def test_anthropic_gets_parallel_tool_calls_false_as_disable_parallel_tool_use(
    tool_choice: Any, expected: dict[str, Any]
) -> None:
    from inference_core.translation.anthropic_upstream import chat_request_to_anthropic

    request = chat_request(parallel_tool_calls=False, tools=[WEATHER_TOOL], tool_choice=tool_choice)
    check_supported(request, [CLAUDE], alias="m")
    assert chat_request_to_anthropic(request, "claude", 256)["tool_choice"] == expected
