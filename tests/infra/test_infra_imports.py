"""The CDK app depends on the package's neutral modules, never on the local stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_SYNTH_AND_LIST_MODULES = """
import json, sys
from infra.app import build_app
build_app(context={"skip_layer_install": True}, outdir=sys.argv[1]).synth()
print(json.dumps(sorted(m for m in sys.modules if m.startswith("inference_core"))))
"""


def test_synthesizing_the_app_never_imports_the_local_stack(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SYNTH_AND_LIST_MODULES, str(tmp_path / "cdk.out")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    # The app does use the package (table specs, the registry, the redrive contract)...
    assert "inference_core.redrive" in imported
    # ...but nothing of the local stack (moto, the model server, the pollers).
    assert [m for m in imported if m.startswith("inference_core.local")] == []
