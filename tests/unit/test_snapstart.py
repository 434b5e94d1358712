"""SnapStart hooks, called directly: after a restore `random` is re-seeded, the pooled provider
clients and PynamoDB connections are rebuilt, and the hook is registered with the runtime."""

from __future__ import annotations

import random
import sys
import types
from typing import Any

import pytest


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


def test_register_hands_the_hook_to_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    from inference_core import snapstart

    assert snapstart.register() is False  # off Lambda: no runtime module, nothing registered
    registered: list[Any] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert snapstart.register() is True
    assert registered == [snapstart.after_restore]
