"""Cold start beyond the import: from a fresh interpreter to the first answered request, and the
deployment package size per function.

The first figures: a fresh `python` imports functions/api/handler.py, builds the app and answers
one governed chat completion through the Mangum handler, against moto's server (started and seeded
beforehand, not timed) and the mock upstream; once as an on-demand cold start, and once with what a
SnapStart init adds (`snapstart.before_snapshot`, whose time a restored instance does not pay: its
first request is the last figure). Sizes: each function's own zip, the shared
layer's zip of `inference_core`, and the layer's third-party dependencies as installed here
(host wheels, so an approximation of the arm64 build), all deflated as Lambda stores them.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _stack import free_port, seeded_stack  # noqa: E402

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {api!r})
import handler
t1 = time.perf_counter()
if {snapshot!r}:
    from inference_core import snapstart
    snapstart.before_snapshot()  # what a SnapStart init adds before the snapshot is taken
t_snap = time.perf_counter()
sys.path.insert(0, {bench!r})
from dynamodb_calls import Context, event
body = {{"model": "bench", "messages": [{{"role": "user", "content": "first"}}]}}
response = handler.handler(event("/v1/chat/completions", body, {key!r}), Context())
t2 = time.perf_counter()
print(json.dumps({{"import_ms": (t1 - t0) * 1000, "snapshot_ms": (t_snap - t1) * 1000,
                  "first_ms": (t2 - t_snap) * 1000, "status": response["statusCode"]}}))
"""


def zipped(paths: list[Path], base: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root in paths:
            files = [root] if root.is_file() else sorted(root.rglob("*"))
            for path in files:
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(base))
    return buffer.tell()


def third_party_files() -> list[Path]:
    files: list[Path] = []
    for line in (ROOT / "layers/shared/requirements.txt").read_text().splitlines():
        name = line.split("==")[0].strip()
        if not name or name.startswith("#"):
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if path.is_file() and path.suffix != ".pyc":
                files.append(path)
    return files


def probe(key: str, snapshot: bool) -> str:
    return PROBE.format(
        api=str(ROOT / "functions/api"), bench=str(ROOT / "bench"), key=key, snapshot=snapshot
    )


def main() -> None:
    mock_port = free_port()
    mock = subprocess.Popen([sys.executable, str(ROOT / "bench/mock_openai.py"), str(mock_port)])
    registry = {"models": {"bench": {"deployments": [{"provider": "openai", "model": "m"}]}}}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "models.json").write_text(json.dumps(registry))
        extra_env = {
            "IC_MODEL_REGISTRY_PATH": str(Path(tmp, "models.json")),
            "IC_OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1",
            "IC_OPENAI_API_KEY": "sk-bench-not-a-real-key",
            "POWERTOOLS_METRICS_DISABLED": "1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        try:
            with seeded_stack(Path(tmp), extra_env) as (_url, key):
                outs = [
                    subprocess.run(
                        [sys.executable, "-c", probe(key, snapshot)],
                        capture_output=True,
                        text=True,
                        env=dict(os.environ),
                        check=False,
                    )
                    for snapshot in (False, True)
                ]
        finally:
            mock.terminate()
            mock.wait()
    print("Fresh interpreter to the first answered request (Mangum handler, moto's server)")
    for label, out in zip(("on-demand init", "SnapStart init"), outs, strict=True):
        try:
            result = json.loads(out.stdout.strip().splitlines()[-1])
            total = result["import_ms"] + result["snapshot_ms"] + result["first_ms"]
            snapshot = (
                f" + before_snapshot {result['snapshot_ms']:7.1f} ms"
                if label.startswith("SnapStart")
                else ""
            )
            print(
                f"  {label}: import handler {result['import_ms']:7.1f} ms{snapshot}"
                f" + app and first request {result['first_ms']:7.1f} ms = {total:7.1f} ms"
                f" (status {result['status']})"
            )
        except (IndexError, ValueError, KeyError):
            print(f"  {label}: probe failed: {out.stderr.strip().splitlines()[-1:]}")
    print("Deployment package size (zip, deflated)")
    package = ROOT / "layers/shared/python"
    layer_own = zipped([package / "inference_core"], package)
    site = Path(str(metadata.distribution("fastapi").locate_file("")))
    layer_deps = zipped(third_party_files(), site)
    for name in ("api", "worker", "mailer"):
        size = zipped([ROOT / "functions" / name], ROOT / "functions")
        print(f"  functions/{name:8s} {size / 1024:8.1f} KiB")
    print(f"  shared layer: inference_core {layer_own / 1024:8.1f} KiB")
    print(f"  shared layer: dependencies   {layer_deps / 1024 / 1024:8.1f} MiB (host wheels)")


if __name__ == "__main__":
    main()
