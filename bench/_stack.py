"""Helpers for benchmarks: moto's server + the API under uvicorn, with a seeded user and key."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from inference_core.local.stack import LocalStack, StackConfig, _wait_http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def seeded_stack(state_dir: Path, extra_env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Yields (api_url, api_key). No model server: benchmarks route to a mock upstream."""
    os.environ.update(extra_env)
    stack = LocalStack(
        StackConfig(
            api_port=free_port(),
            moto_port=free_port(),
            model_port=free_port(),
            state_dir=state_dir,
            pollers=False,
            quiet=True,
        )
    )
    try:
        stack._spawn(
            "aws",
            [
                sys.executable,
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                str(stack.config.moto_port),
            ],
            state_dir / "moto.log",
        )
        _wait_http(f"{stack.aws_url}/moto-api/", "embedded AWS", stack.children)
        os.environ.update(stack.environment({}))
        env = stack.environment(stack.provision())
        os.environ.update(env)
        stack._spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "inference_core.api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(stack.config.api_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            state_dir / "api.log",
            env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"},
        )
        _wait_http(f"{stack.api_url}/health", "API", stack.children)
        seed = stack.seed()
        yield stack.api_url, seed["api_key"]
    finally:
        stack.stop()
