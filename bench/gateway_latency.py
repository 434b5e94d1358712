"""Latency the gateway adds over a mock OpenAI upstream on loopback (p50, p99), non-streaming and
time to first token, printed next to the same requests sent straight to the upstream.

Starts moto's server, the mock upstream and the API (uvicorn) as subprocesses; the cache is off so
every request takes the full miss path (authorize + count, cache read, route, usage record).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _stack import free_port, seeded_stack  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
BODY = {"model": "bench", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 16}


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed_posts(
    client: httpx.Client, url: str, headers: dict[str, str], stream: bool
) -> list[float]:
    samples = []
    for _ in range(REQUESTS):
        body = {**BODY, "stream": stream}
        start = time.perf_counter()
        if stream:
            with client.stream("POST", url, json=body, headers=headers) as response:
                first = None
                for line in response.iter_lines():
                    if (
                        first is None
                        and line.startswith("data: ")
                        and '"content":"word' in line.replace(" ", "")
                    ):
                        first = (time.perf_counter() - start) * 1000
                assert first is not None, "no content chunk arrived"
                samples.append(first)
        else:
            response = client.post(url, json=body, headers=headers)
            response.raise_for_status()
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    mock_port = free_port()
    mock = subprocess.Popen([sys.executable, str(ROOT / "bench/mock_openai.py"), str(mock_port)])
    registry = {
        "default_model": "bench",
        "models": {
            "bench": {
                "deployments": [
                    {
                        "provider": "openai",
                        "model": "gpt-mock",
                        "input_price_per_mtok": 1,
                        "output_price_per_mtok": 2,
                    }
                ]
            }
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        registry_path = Path(tmp, "models.json")
        registry_path.write_text(json.dumps(registry))
        extra_env = {
            "IC_MODEL_REGISTRY_PATH": str(registry_path),
            "IC_OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1",
            "IC_OPENAI_API_KEY": "sk-bench-not-a-real-key",
            "IC_CACHE_ENABLED": "0",
            "IC_DEFAULT_RPM": "100000",
        }
        try:
            with seeded_stack(Path(tmp), extra_env) as (api_url, key):
                upstream = f"http://127.0.0.1:{mock_port}/v1/chat/completions"
                gateway = f"{api_url}/v1/chat/completions"
                auth = {"Authorization": f"Bearer {key}"}
                with httpx.Client(timeout=30) as client:
                    for url, headers in ((upstream, {}), (gateway, auth)):  # warm up both paths
                        for _ in range(5):
                            client.post(url, json=BODY, headers=headers)
                    rows = []
                    for label, stream in (("non-streaming", False), ("time to first token", True)):
                        direct = timed_posts(client, upstream, {}, stream)
                        via = timed_posts(client, gateway, auth, stream)
                        rows.append((label, direct, via))
        finally:
            mock.terminate()
            mock.wait()
    print(
        f"Gateway-added latency over a mock OpenAI upstream on loopback ({REQUESTS} sequential requests each)"
    )
    print(
        f"  {'':22s} {'direct p50':>11s} {'direct p99':>11s} {'gateway p50':>12s} {'gateway p99':>12s} {'added p50':>10s}"
    )
    for label, direct, via in rows:
        d50, d99, g50, g99 = (
            percentile(direct, 50),
            percentile(direct, 99),
            percentile(via, 50),
            percentile(via, 99),
        )
        print(
            f"  {label:22s} {d50:9.2f}ms {d99:9.2f}ms {g50:10.2f}ms {g99:10.2f}ms {g50 - d50:8.2f}ms"
        )
    print(
        f"  (median of all gateway samples: {statistics.median(rows[0][2]):.2f} ms; DynamoDB is moto's server on loopback)"
    )


if __name__ == "__main__":
    main()
