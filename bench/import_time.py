"""Cold-start proxy: how long importing each Lambda handler takes, next to a bare baseline.

Each figure is the median of several fresh interpreters (`python -c 'import ...'`), measured in the
same run as the baseline (`fastapi` + `mangum` + `boto3` + `pydantic`) and interleaved with it, so
the difference is what our own code adds whatever the machine's load does meanwhile; the ratio of
the median CPU times is printed too (steadier on a shared machine). It also prints which provider
SDKs got imported (there should be none).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
# This tree's package, where Lambda has the layer (/opt/python): not whichever one is installed.
LAYER = str(ROOT / "layers/shared/python")

PROBE = """
import json, sys, time
sys.path[:0] = {paths!r}
t, cpu = time.perf_counter(), time.process_time()
{stmt}
elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
heavy = sorted(m for m in ("openai", "anthropic", "llama_cpp", "moto", "uvicorn") if m in sys.modules)
print(json.dumps({{"ms": elapsed * 1000, "cpu_ms": cpu * 1000, "heavy": heavy}}))
"""

CASES = {
    "baseline: fastapi + mangum + boto3 + pydantic": (
        [],
        "import fastapi, mangum, boto3, pydantic",
    ),
    "functions/api/handler.py": ([str(ROOT / "functions/api"), LAYER], "import handler"),
    "functions/worker/handler.py": ([str(ROOT / "functions/worker"), LAYER], "import handler"),
    "functions/mailer/handler.py": ([str(ROOT / "functions/mailer"), LAYER], "import handler"),
}


def sample(paths: list[str], stmt: str) -> tuple[float, float, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(paths=paths, stmt=stmt)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["ms"], result["cpu_ms"], result["heavy"]


def main() -> None:
    print(
        f"Import time, median of {RUNS} fresh interpreters per case, interleaved"
        f" (Python {sys.version.split()[0]})"
    )
    cases = {
        name: case
        for name, case in CASES.items()
        if not case[0] or Path(case[0][0], "handler.py").exists()
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    heavy: dict[str, list[str]] = {}
    # Round-robin, so that a change in the machine's load hits the baseline and each handler alike.
    for _ in range(RUNS):
        for name, (paths, stmt) in cases.items():
            ms, cpu_ms, heavy[name] = sample(paths, stmt)
            samples[name].append(ms)
            cpu[name].append(cpu_ms)
    base_name = next(iter(cases))
    baseline = statistics.median(samples[base_name])
    base_cpu = statistics.median(cpu[base_name])
    for name in CASES:
        if name not in cases:
            print(f"  {name:48s} (not built yet)")
            continue
        ms = statistics.median(samples[name])
        extra = ""
        if name != base_name:
            ratios = [a / b for a, b in zip(samples[name], samples[base_name], strict=True)]
            cpu_ms = statistics.median(cpu[name])
            extra = (
                f"  (+{ms - baseline:6.1f} ms, {ms / baseline:4.2f}x the baseline, per round"
                f" {min(ratios):4.2f}-{max(ratios):4.2f}x; CPU {cpu_ms / base_cpu:4.2f}x;"
                " goal <= 1.3x)"
            )
        print(f"  {name:48s} {ms:7.1f} ms{extra}  heavy modules loaded: {heavy[name] or 'none'}")


if __name__ == "__main__":
    main()
