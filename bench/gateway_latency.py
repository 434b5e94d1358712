"""Latency the gateway adds, next to the Python floor, in one run (the table of issue 12).

Over a mock OpenAI upstream that answers at once (bench/mock_openai.py), on loopback, one client,
interleaved rounds (each round sends a batch to every target in turn, so drift on a shared machine
hits all of them alike):

- the upstream direct (what "added" is measured against);
- the floor: a bare FastAPI + httpx pass-through (bench/floor_app.py);
- the gateway with governance on (auth, every limit level, budget reservation, usage; cache on,
  every request a miss), over moto's server;
- the same gateway with a botocore hook adding BENCH_DYNAMODB_LATENCY_MS (default 4) per DynamoDB
  call (bench/latency_app.py), so round trips on the critical path show as they would on AWS.

After each batch the bench waits 50 ms (untimed), so a batch's last settle is neither charged to
the next target's requests nor missing from its own CPU figure: it prints, per target, the CPU
time (user + system, from /proc) its processes spent per request, the gateway's process next to
the floor's, and moto's server apart (the local AWS).

Then 32 concurrent clients against the floor and the gateway: throughput and p99. Prints; never
fails on a timing.

    BENCH_ROUNDS=10 BENCH_PER_ROUND=20 BENCH_CLIENTS=32 python bench/gateway_latency.py
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _stack import PIDS, VARIANT_URLS, free_port, seeded_stack  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
PER_ROUND = int(os.environ.get("BENCH_PER_ROUND", "20"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
PER_CLIENT = int(os.environ.get("BENCH_PER_CLIENT", "15"))
DYNAMODB_MS = os.environ.get("BENCH_DYNAMODB_LATENCY_MS", "4")
_counter = iter(range(10**9))


def body(stream: bool) -> dict[str, object]:
    # a fresh prompt each time: the cache read is made and misses, as for most traffic
    return {
        "model": "bench",
        "messages": [{"role": "user", "content": f"hello {next(_counter)}"}],
        "max_tokens": 16,
        "stream": stream,
    }


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


FAILURES: dict[str, int] = {}


def one(client: httpx.Client, url: str, headers: dict[str, str], stream: bool) -> float | None:
    """Milliseconds to the whole answer (plain) or to the first content chunk (stream).

    One connection per request, for every target alike: the gateway keeps a response open after
    its last byte while it settles, and on a reused connection the next request would wait for
    that (behind API Gateway every request is its own invocation, so no client ever does)."""
    headers = {**headers, "Connection": "close"}
    start = time.perf_counter()
    if not stream:
        response = client.post(url, json=body(False), headers=headers)
        if response.status_code != 200:
            FAILURES[f"{url} {response.status_code}"] = (
                FAILURES.get(f"{url} {response.status_code}", 0) + 1
            )
            return None
        return (time.perf_counter() - start) * 1000
    first = None
    with client.stream("POST", url, json=body(True), headers=headers) as response:
        if response.status_code != 200:
            FAILURES[f"{url} {response.status_code}"] = (
                FAILURES.get(f"{url} {response.status_code}", 0) + 1
            )
            return None
        for line in response.iter_lines():
            if first is None and '"content":"word' in line.replace(" ", ""):
                first = (time.perf_counter() - start) * 1000
    assert first is not None, "no content chunk arrived"
    return first


async def load(url: str, headers: dict[str, str]) -> tuple[float, float, int]:
    """(requests/s, p99 ms, non-2xx answers) for CLIENTS concurrent clients."""
    samples: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal failures
            for _ in range(PER_CLIENT):
                start = time.perf_counter()
                response = await client.post(url, json=body(False), headers=headers)
                samples.append((time.perf_counter() - start) * 1000)
                failures += not 200 <= response.status_code < 300

        with no_client_gc():
            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CLIENTS)))
            elapsed = time.perf_counter() - began
    return len(samples) / elapsed, percentile(samples, 99), failures


def main() -> None:
    mock_port, floor_port = free_port(), free_port()
    upstream_base = f"http://127.0.0.1:{mock_port}/v1"
    children = [
        subprocess.Popen([sys.executable, str(ROOT / "bench/mock_openai.py"), str(mock_port)]),
        subprocess.Popen(
            [sys.executable, str(ROOT / "bench/floor_app.py"), str(floor_port), upstream_base]
        ),
    ]
    deployment = {
        "provider": "openai",
        "model": "gpt-mock",
        "input_price_per_mtok": 1,
        "output_price_per_mtok": 2,
    }
    registry = {"default_model": "bench", "models": {"bench": {"deployments": [deployment]}}}
    with tempfile.TemporaryDirectory() as tmp:
        registry_path = Path(tmp, "models.json")
        registry_path.write_text(json.dumps(registry))
        extra_env = {
            "IC_MODEL_REGISTRY_PATH": str(registry_path),
            "IC_OPENAI_BASE_URL": upstream_base,
            "IC_OPENAI_API_KEY": "sk-bench-not-a-real-key",
            "IC_CACHE_ENABLED": "1",
            "IC_DEFAULT_RPM": "1000000",
        }
        variants = {"aws": ("latency_app:create_app", {"BENCH_DYNAMODB_LATENCY_MS": DYNAMODB_MS})}
        try:
            with seeded_stack(Path(tmp), extra_env, variants) as (api_url, key):
                auth = {"Authorization": f"Bearer {key}"}
                targets = {
                    "upstream direct": (f"{upstream_base}/chat/completions", {}),
                    "bare FastAPI + httpx pass-through (the floor)": (
                        f"http://127.0.0.1:{floor_port}/v1/chat/completions",
                        {},
                    ),
                    "Inference Core, governance on, moto's server": (
                        f"{api_url}/v1/chat/completions",
                        auth,
                    ),
                    f"  same, + {DYNAMODB_MS} ms per DynamoDB call (modelled AWS)": (
                        f"{VARIANT_URLS['aws']}/v1/chat/completions",
                        auth,
                    ),
                }
                _wait_floor(targets)
                labels = list(targets)
                charged = {  # the processes each target's requests run in (besides the upstream)
                    labels[1]: {"the floor's process": children[1].pid},
                    labels[2]: {"the gateway's process": PIDS["api"], "moto's server": PIDS["aws"]},
                    labels[3]: {
                        "the gateway's process": PIDS["api-aws"],
                        "moto's server": PIDS["aws"],
                    },
                }
                samples = run_rounds(targets, charged)
                concurrent = {
                    label: asyncio.run(load(*targets[label])) for label in list(targets)[1:3]
                }
        finally:
            for child in children:
                child.terminate()
                child.wait()
    report(samples, concurrent)
    report_cpu()


def _wait_floor(targets: dict[str, tuple[str, dict[str, str]]]) -> None:
    with httpx.Client(timeout=30) as client:
        for _ in range(100):
            try:
                client.post(list(targets.values())[1][0], json=body(False))
                return
            except httpx.HTTPError:
                time.sleep(0.1)


@contextlib.contextmanager
def no_client_gc() -> Iterator[None]:
    """The measuring client's own garbage collector off while it times a batch (as `timeit`
    does), and a collection after it: a full collection of this process is tens of milliseconds,
    and it is not the gateway's latency."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


CPU: dict[str, dict[str, float]] = {}  # target -> process -> CPU seconds over its timed batches
SENT: dict[str, int] = {}  # target -> requests timed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, its ended threads included (/proc, 10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_rounds(
    targets: dict[str, tuple[str, dict[str, str]]],
    charged: dict[str, dict[str, int]],
) -> dict[tuple[str, bool], list[float]]:
    """Interleaved rounds; also the CPU time each target's processes spend on its batches (a
    tick's rounding per batch, unbiased, averages out over the rounds)."""
    samples: dict[tuple[str, bool], list[float]] = {}
    with httpx.Client(timeout=30) as client:
        for url, headers in targets.values():  # warm up every path (imports, pools, key levels)
            for stream in (False, True, False, True, False):
                one(client, url, headers, stream)
        for _ in range(ROUNDS):
            for stream in (False, True):
                for label, (url, headers) in targets.items():
                    bucket = samples.setdefault((label, stream), [])
                    pids = charged.get(label, {})
                    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                    with no_client_gc():
                        got = [one(client, url, headers, stream) for _ in range(PER_ROUND)]
                        time.sleep(0.05)  # the last settle, after its response, is this batch's
                    spent = CPU.setdefault(label, {})
                    for name, pid in pids.items():
                        spent[name] = spent.get(name, 0.0) + cpu_seconds(pid) - before[name]
                    SENT[label] = SENT.get(label, 0) + PER_ROUND
                    bucket += [ms for ms in got if ms is not None]
    return samples


def report_cpu() -> None:
    print("\nCPU time per request over the timed rounds (plain and stream; user + system)")
    for label, spent in CPU.items():
        if not spent:
            continue
        cells = ", ".join(
            f"{name} {seconds * 1000 / SENT[label]:.2f} ms" for name, seconds in spent.items()
        )
        print(f"  {label.strip():60s} {cells}")
    print(
        "  (the gateway's own work is its process's CPU next to the floor's; moto's server is the"
        " local AWS)"
    )


def report(
    samples: dict[tuple[str, bool], list[float]],
    concurrent: dict[str, tuple[float, float, int]],
) -> None:
    n = ROUNDS * PER_ROUND
    print(
        f"Added latency over a mock OpenAI upstream on loopback, one client, {ROUNDS} interleaved"
        f" rounds x {PER_ROUND} requests per target and mode ({n} samples each)"
    )
    print(f"  {'':60s} {'added p50 / p99, plain':>24s} {'added TTFT p50 / p99, stream':>30s}")
    base = {s: samples[("upstream direct", s)] for s in (False, True)}
    direct = {s: (percentile(base[s], 50), percentile(base[s], 99)) for s in (False, True)}
    print(
        f"  {'upstream direct (absolute, not added)':60s}"
        f" {direct[False][0]:9.2f} / {direct[False][1]:6.2f} ms"
        f" {direct[True][0]:15.2f} / {direct[True][1]:6.2f} ms"
    )
    for label in dict.fromkeys(label for label, _ in samples):
        if label == "upstream direct":
            continue
        cells = []
        for stream in (False, True):
            got = samples[(label, stream)]
            p50 = percentile(got, 50) - direct[stream][0]
            p99 = percentile(got, 99) - direct[stream][1]
            cells.append((p50, p99))
        print(
            f"  {label:60s} {cells[0][0]:9.2f} / {cells[0][1]:6.2f} ms"
            f" {cells[1][0]:15.2f} / {cells[1][1]:6.2f} ms"
        )
    for where, count in FAILURES.items():
        print(f"  non-200 answers (left out of the figures): {count} from {where}")
    print(f"\n{CLIENTS} concurrent clients x {PER_CLIENT} plain requests each")
    for label, (rps, p99, failures) in concurrent.items():
        print(f"  {label:60s} {rps:8.1f} req/s   p99 {p99:8.2f} ms   {failures} non-2xx")
    print(
        "  (moto's server answers DynamoDB on one lock, so the gateway's figure under load is"
        " bounded by it; on AWS each call runs in parallel)"
    )


if __name__ == "__main__":
    main()
