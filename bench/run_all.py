"""Run every benchmark in turn and print its figures (`make bench`). Nothing here fails a build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "gateway_latency.py",
    "dynamodb_calls.py",
    "profile_phases.py",
    "import_time.py",
    "cold_start.py",
    "cost.py",
    "batch_throughput.py",
]

for script in SCRIPTS:
    path = HERE / script
    if not path.exists():
        continue
    print(f"\n=== {script} ===", flush=True)
    subprocess.run([sys.executable, str(path)], check=False)
