"""SnapStart hooks, called directly: importing the API handler leaves the heavy first-use modules
out and the before-snapshot hook loads them (and only the SDKs the registry uses); after a restore
`random` is re-seeded, the pooled provider clients and PynamoDB connections are rebuilt; both hooks
are registered with the runtime."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from inference_core import snapstart
watched = (*snapstart.DEFERRED_MODULES, "cryptography", "openai", "anthropic", "moto", "uvicorn")
loaded = lambda: sorted(m for m in watched if m in sys.modules)
import handler  # the control-plane Lambda's module, as Lambda imports it
at_import = loaded()
snapstart.before_snapshot()
from inference_core.auth import passwords
print(json.dumps({
    "at_import": at_import,
    "at_snapshot": loaded(),
    "dummy_hash": passwords._dummy_hash.cache_info().currsize,
}))
"""


def test_the_handler_import_defers_the_heavy_modules_and_the_snapshot_loads_them(
    tmp_path: Path,
) -> None:
    from inference_core.snapstart import DEFERRED_MODULES

    registry = {"models": {"m": {"deployments": [{"provider": "openai", "model": "gpt-x"}]}}}
    (tmp_path / "models.json").write_text(json.dumps(registry))
    env = {
        **os.environ,
        "IC_LOCAL_MODE": "1",
        "IC_MODEL_REGISTRY_PATH": str(tmp_path / "models.json"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions" / "api")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["at_import"] == []
    # before the snapshot: every deferred module, the SDK the registry uses, and no other SDK
    assert set(DEFERRED_MODULES) | {"cryptography", "openai"} == set(probe["at_snapshot"])
    assert probe["dummy_hash"] == 1


def test_after_restore_reseeds_random() -> None:
    from inference_core.snapstart import after_restore

    random.seed(1234)  # what every instance restored from one snapshot would share
    shared = [random.random() for _ in range(4)]
    random.seed(1234)
    after_restore()
    assert [random.random() for _ in range(4)] != shared


def test_after_restore_rebuilds_pooled_clients_and_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inference_core import wiring
    from inference_core.db.models import ALL_MODELS
    from inference_core.snapstart import after_restore

    monkeypatch.setenv("IC_LOCAL_MODE", "1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    wiring.reset_wiring()
    router, governance = wiring.get_router(), wiring.get_governance()
    model = ALL_MODELS[0]
    model._get_connection()
    assert model._connection is not None
    after_restore()
    assert model._connection is None
    assert wiring.get_router() is not router
    assert wiring.get_governance() is not governance
    wiring.reset_wiring()


def test_register_hands_the_restore_hook_to_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    from inference_core import snapstart

    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    primed: list[str] = []
    monkeypatch.setattr(snapstart, "before_snapshot", lambda: primed.append("now"))
    assert snapstart.register() is False  # off Lambda: no runtime module, nothing registered
    assert primed == []  # and nothing loaded ahead of use
    registered: list[Any] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert snapstart.register() is True
    assert registered == [snapstart.after_restore]
    assert primed == []  # an on-demand cold start loads on first use only


@pytest.mark.parametrize("runtime_module", [True, False])
def test_a_snapshot_init_preloads_before_the_snapshot(
    monkeypatch: pytest.MonkeyPatch, runtime_module: bool
) -> None:
    from inference_core import snapstart

    primed: list[str] = []
    monkeypatch.setattr(snapstart, "before_snapshot", lambda: primed.append("now"))
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    registered: list[Any] = []
    if runtime_module:  # the Lambda Python runtime; under the Web Adapter there may be none
        runtime = types.ModuleType("snapshot_restore_py")
        runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert snapstart.register() is runtime_module
    assert primed == ["now"]  # init is before the snapshot: loaded into it
    assert registered == ([snapstart.after_restore] if runtime_module else [])


def test_the_web_adapter_runs_the_restore_hook_on_the_data_plane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The adapter POSTs to the hook path after a restore (no invocation, so no request-context
    header); a request that came from an invocation is refused, and the path is not documented."""
    from fastapi.testclient import TestClient

    from inference_core import snapstart
    from inference_core.api.app import create_app

    calls: list[str] = []
    monkeypatch.setattr(snapstart, "after_restore", lambda: calls.append("restored"))
    client = TestClient(create_app())
    path = snapstart.LWA_AFTER_RESTORE_PATH
    assert client.post(path).status_code == 204
    assert calls == ["restored"]
    forwarded = client.post(path, headers={"x-amzn-request-context": '{"stage": "prod"}'})
    assert forwarded.status_code == 404
    assert calls == ["restored"]
    assert path not in client.get("/openapi.json").json()["paths"]


@pytest.fixture
def thawed() -> Any:
    """Whatever a test freezes is thawed after it (this process is pytest's, not Lambda's)."""
    import gc

    from inference_core import snapstart

    gc.unfreeze()
    yield gc
    gc.unfreeze()
    snapstart._warm_freezes[0] = 0


@pytest.mark.parametrize(
    "variable", ["AWS_LAMBDA_RUNTIME_API", "IC_GC_FREEZE", "AWS_LAMBDA_FUNCTION_NAME", None]
)
def test_a_lambda_init_freezes_the_heap_it_built(
    monkeypatch: pytest.MonkeyPatch, thawed: Any, variable: str | None
) -> None:
    from inference_core import snapstart

    for name in ("AWS_LAMBDA_RUNTIME_API", "IC_GC_FREEZE", "AWS_LAMBDA_INITIALIZATION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    if variable:
        monkeypatch.setenv(variable, "127.0.0.1:9001" if variable.startswith("AWS") else "1")
    snapstart.register()
    # Only Lambda's runtime (or the local stack's opt-in) freezes: a test process that merely
    # names a function (AWS_LAMBDA_FUNCTION_NAME) is not frozen.
    freezes = variable in ("AWS_LAMBDA_RUNTIME_API", "IC_GC_FREEZE")
    assert (thawed.get_freeze_count() > 0) is freezes
    assert snapstart._warm_freezes[0] == (snapstart.WARM_FREEZES if freezes else 0)


def test_the_first_requests_freeze_what_they_built_then_no_more(
    monkeypatch: pytest.MonkeyPatch, thawed: Any
) -> None:
    from inference_core import snapstart

    monkeypatch.setenv("IC_GC_FREEZE", "1")
    snapstart.register()
    counts = []
    for _ in range(snapstart.WARM_FREEZES):
        built_to_last = [object() for _ in range(10)]  # a client, a service model...
        garbage = [[] for _ in range(100)]
        for item in garbage:
            item.append(garbage)  # cycles the collector would have to walk
        snapstart.freeze_when_warm()
        counts.append(thawed.get_freeze_count())
        del garbage
    assert counts == sorted(counts) and counts[-1] > counts[0]  # each of them froze more
    assert built_to_last
    before = thawed.get_freeze_count()
    [[] for _ in range(1000)]
    snapstart.freeze_when_warm()
    assert thawed.get_freeze_count() == before  # after the first WARM_FREEZES: never again


def test_every_request_through_the_app_counts_towards_the_warm_freezes(
    monkeypatch: pytest.MonkeyPatch, thawed: Any
) -> None:
    from fastapi.testclient import TestClient

    from inference_core import snapstart
    from inference_core.api.app import create_app

    monkeypatch.setenv("IC_GC_FREEZE", "1")
    with TestClient(create_app()) as client:
        assert snapstart._warm_freezes[0] == snapstart.WARM_FREEZES
        assert client.get("/health").status_code == 200
        assert client.get("/health").status_code == 200
    assert snapstart._warm_freezes[0] == snapstart.WARM_FREEZES - 2
