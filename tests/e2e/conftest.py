"""The real local stack, started once per test session as subprocesses (moto's server, the model
server with SmolLM2, the API under uvicorn, the SQS pollers), driven over HTTP by the official
SDKs. Every test in this folder is marked `e2e`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.recorded_anthropic import RecordedAnthropic
from tests.e2e.recorded_anthropic import start as start_recorded_anthropic

HERE = Path(__file__).parent
START_TIMEOUT = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def recorded_anthropic() -> Iterator[RecordedAnthropic]:
    """The recorded-shape Anthropic API behind the stack's `claude` alias."""
    recorded, server = start_recorded_anthropic()
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def local_stack(
    tmp_path_factory: pytest.TempPathFactory, recorded_anthropic: RecordedAnthropic
) -> Iterator[dict[str, Any]]:
    """`inference-core dev` on free ports; yields its state (api_url, api_key, email, password, env)."""
    state_dir = tmp_path_factory.mktemp("stack")
    registry = state_dir / "models.json"
    registry.write_text(json.dumps(E2E_REGISTRY))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IC_")}
    env.update(
        {
            "IC_MODEL_REGISTRY_PATH": str(registry),
            "IC_DEFAULT_RPM": "600",
            # Input checks only: output checks would hold back the first streamed characters.
            "IC_GUARDRAILS_POLICY": json.dumps({"injection": "detect", "secrets": "block"}),
            "IC_ANTHROPIC_BASE_URL": recorded_anthropic.url,
            "IC_ANTHROPIC_API_KEY": "sk-ant-e2e-recorded-upstream",
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "inference_core.cli",
        "--state-dir",
        str(state_dir),
        "dev",
        "--port",
        str(_free_port()),
        "--aws-port",
        str(_free_port()),
        "--model-port",
        str(_free_port()),
        "--quiet",
    ]
    log = open(state_dir / "dev.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    state_file = state_dir / "stack.json"
    deadline = time.monotonic() + START_TIMEOUT
    while not state_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(
                "the local stack did not start:\n" + (state_dir / "dev.log").read_text()[-4000:]
            )
        time.sleep(0.5)
    time.sleep(0.5)  # the state file is written last; let the writer finish
    state = json.loads(state_file.read_text())
    state["state_dir"] = str(state_dir)
    try:
        yield state
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# The local model, an alias whose endpoint does not exist (to see upstream failures), and an
# Anthropic alias served by the recorded-shape upstream (`recorded_anthropic`).
E2E_REGISTRY = {
    "default_model": "smollm2",
    "models": {
        "smollm2": {
            "owned_by": "huggingfacetb",
            "embeddings": True,
            "deployments": [
                {
                    "provider": "sagemaker",
                    "model": "smollm2-local",
                    "input_price_per_mtok": 0.05,
                    "output_price_per_mtok": 0.1,
                    "context_window": 2048,
                }
            ],
        },
        "broken": {
            "deployments": [
                {"provider": "sagemaker", "model": "no-such-endpoint", "context_window": 2048}
            ]
        },
        "claude": {
            "match": ["claude-e2e-*"],
            "deployments": [
                {
                    "provider": "anthropic",
                    "model": "claude-e2e-1",
                    "context_window": 200000,
                    "max_output_tokens": 64000,
                }
            ],
        },
    },
}


@pytest.fixture(scope="session")
def openai_client(local_stack: dict[str, Any]) -> Any:
    from openai import OpenAI

    return OpenAI(
        base_url=local_stack["api_url"] + "/v1",
        api_key=local_stack["api_key"],
        max_retries=0,
        timeout=120,
    )


@pytest.fixture(scope="session")
def anthropic_client(local_stack: dict[str, Any]) -> Any:
    from anthropic import Anthropic

    return Anthropic(
        base_url=local_stack["api_url"], api_key=local_stack["api_key"], max_retries=0, timeout=120
    )
