"""Helpers for benchmarks: moto's server + the API under uvicorn, with a seeded user and key."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from inference_core.local.stack import API_PROCESS_ENV, LocalStack, StackConfig, _wait_http

VARIANT_URLS: dict[str, str] = {}
PIDS: dict[str, int] = {}  # child name ("aws": moto's server, "api", "api-<variant>") -> pid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def seeded_stack(
    state_dir: Path,
    extra_env: dict[str, str],
    variants: dict[str, tuple[str, dict[str, str]]] | None = None,
) -> Iterator[tuple[str, str]]:
    """Yields (api_url, api_key). No model server: benchmarks route to a mock upstream.

    `variants` (name -> (uvicorn factory in bench/, extra env)) start more API processes over the
    same moto and key; their URLs are in `VARIANT_URLS[name]`, and every child's pid in `PIDS`."""
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
                # our moto server: DynamoDB serialized as DynamoDB isolates it, and transactions
                # rolled back by item (inference_core.local.moto_transactions)
                "inference_core.local.moto_server",
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
            env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", **API_PROCESS_ENV},
        )
        _wait_http(f"{stack.api_url}/health", "API", stack.children)
        for name, (factory, env) in (variants or {}).items():
            port = free_port()
            stack._spawn(
                f"api-{name}",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    factory,
                    "--factory",
                    "--app-dir",
                    str(Path(__file__).resolve().parent),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                state_dir / f"api-{name}.log",
                env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", **API_PROCESS_ENV, **env},
            )
            VARIANT_URLS[name] = f"http://127.0.0.1:{port}"
            _wait_http(f"{VARIANT_URLS[name]}/health", f"API {name}", stack.children)
        seed = stack.seed()
        PIDS.update({name: proc.pid for name, proc in stack.children})
        yield stack.api_url, seed["api_key"]
    finally:
        stack.stop()
