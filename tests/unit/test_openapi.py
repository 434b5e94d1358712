"""The checked-in OpenAPI document matches the app (regenerate with `make openapi`)."""

from __future__ import annotations

import json
from pathlib import Path

from inference_core.api.openapi import render

CHECKED_IN = Path(__file__).resolve().parents[2] / "openapi.json"


def test_openapi_document_has_not_drifted() -> None:
    assert CHECKED_IN.exists(), "run `make openapi` and commit openapi.json"
    assert json.loads(CHECKED_IN.read_text()) == json.loads(render()), (
        "the API changed: run `make openapi` and commit openapi.json"
    )


def test_every_documented_inference_route_is_present() -> None:
    paths = json.loads(render())["paths"]
    for path in (
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/embeddings",
        "/v1/models",
        "/v1/messages",
        "/v1/generate",
        "/v1/chat",
        "/v1/auth/login",
        "/v1/auth/api-keys",
        "/health",
        "/ready",
    ):
        assert path in paths, path
