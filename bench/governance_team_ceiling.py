"""How many admissions per second one team item takes: every request of every member writes the
team item twice (admit + settle), in transactions that serialize on it.

Against moto's server (DynamoDB requests serialized, as DynamoDB isolates them), over HTTP, with
T threads of members' keys admitting and settling as fast as they can for a few seconds. Prints
requests/s, p50/p99 admission latency and the retries. moto's figure is a floor set by moto's own
speed, not DynamoDB's: the AWS ceiling is computed in docs/governance.md (≈1,000 WCU/s per item,
2 WCU per KB per transactional write, two writes per request).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _stack import free_port  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
THREADS = [int(t) for t in os.environ.get("BENCH_THREADS", "1,4,16").split(",")]


@dataclass(frozen=True)
class Caller:
    user_id: str
    key_id: str | None
    key_hash: str | None
    session_id: str | None = None
    token_issued_at: float | None = None
    is_anonymous: bool = False


def main() -> None:
    import boto3

    from inference_core.db.models import ApiKeyModel, TeamModel, UserModel, configure_models
    from inference_core.db.tables import create_tables
    from inference_core.governance import Governance
    from inference_core.local.moto_server import SerializedMotoServer
    from inference_core.settings import Settings

    port = free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        IC_AWS_ENDPOINT_URL=endpoint,
        IC_LOCAL_MODE="true",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    settings = Settings()
    create_tables(boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint))
    configure_models(settings)
    TeamModel("team_bench", name="bench", created_at=1, rpm_limit=10**9).save()
    callers = []
    for _ in range(max(THREADS)):
        user_id = "usr_" + uuid.uuid4().hex
        UserModel(
            user_id,
            email=f"{user_id}@example.com",
            password_hash="x",
            created_at=1,
            updated_at=1,
            team_id="team_bench",
            rpm_limit=10**9,
        ).save()
        key_hash = uuid.uuid4().hex
        ApiKeyModel(
            key_hash,
            key_id="key_" + key_hash[:8],
            owner_id=user_id,
            prefix="sk-ic-b",
            created_at=1,
        ).save()
        callers.append(Caller(user_id, "key_" + key_hash[:8], key_hash))
    governance = Governance(settings=settings)
    print(f"{'threads':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'lost':>6}")
    for threads in THREADS:
        latencies: list[float] = []
        lost = 0
        lock = threading.Lock()
        stop = time.monotonic() + SECONDS

        def run(
            caller: Caller,
            stop: float = stop,
            lock: threading.Lock = lock,
            latencies: list[float] = latencies,
        ) -> None:
            nonlocal lost
            governance.resolve(caller)
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    admission = governance.admit(
                        caller, request_id="b", tokens=100, cost_usd=0.0001
                    )
                except Exception:  # a 503 after the conflict retries
                    with lock:
                        lost += 1
                    continue
                elapsed = time.perf_counter() - started
                assert admission is not None
                governance.settle(
                    admission,
                    input_tokens=50,
                    output_tokens=20,
                    cost_usd=0.00005,
                    cached=False,
                    model="bench",
                    ledger=None,
                    cache_entry=None,
                )
                with lock:
                    latencies.append(elapsed)

        workers = [threading.Thread(target=run, args=(callers[i],)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        latencies.sort()
        p50 = statistics.median(latencies) * 1000 if latencies else 0.0
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
        print(f"{threads:>8} {len(latencies) / SECONDS:>8.1f} {p50:>8.1f} {p99:>8.1f} {lost:>6}")
    server.stop()


if __name__ == "__main__":
    main()
