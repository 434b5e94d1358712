"""The batch worker builds its inference service from `inference_core.wiring` without FastAPI,
and no module of `inference_core.batch` imports FastAPI or `inference_core.api`.

Run in a fresh interpreter, so modules another test imported cannot hide an import of FastAPI or
of `inference_core.api` (the worker Lambda ships without needing either on its cold-start path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import handler  # the worker Lambda's module, as Lambda imports it
import inference_core.batch
from inference_core import wiring
from inference_core.batch.runtime import get_batch_runtime

for module in pkgutil.walk_packages(inference_core.batch.__path__, "inference_core.batch."):
    importlib.import_module(module.name)

service = get_batch_runtime().inference()
print(json.dumps({
    "service": type(service).__name__,
    "router": type(service.router).__name__,
    "shared": service is wiring.get_inference_service(),
    "leaked": sorted(
        name for name in sys.modules
        if name.split(".")[0] in ("fastapi", "starlette") or name.startswith("inference_core.api")
    ),
}))
"""


def test_worker_and_batch_code_build_the_inference_service_without_fastapi_or_the_api() -> None:
    env = {**os.environ, "IC_LOCAL_MODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions" / "worker")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["leaked"] == []
    assert (probe["service"], probe["router"], probe["shared"]) == (
        "InferenceService",
        "Router",
        True,
    )
