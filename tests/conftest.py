"""Fixtures shared by every suite: an isolated environment (no real AWS, settings re-read per test)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Tests never talk to a real AWS account, whatever the developer's shell has.
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_var, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "InferenceCoreTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "inference-core")
# EMF blobs on stdout would drown test output; tests/unit/test_observability.py turns them on.
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")

# The local AWS's expression fix, as our moto server runs it (moto answers the same, on less CPU):
# the in-process moto of the unit and integration suites gets it too.
from inference_core.local import moto_expressions  # noqa: E402

moto_expressions.install()

TEST_JWT_SECRET = "test-signing-secret-0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from local-mode settings and a fresh settings cache."""
    for name in list(os.environ):
        if name.startswith("IC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IC_LOCAL_MODE", "1")
    monkeypatch.setenv("IC_JWT_SECRET", TEST_JWT_SECRET)
    from inference_core.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
