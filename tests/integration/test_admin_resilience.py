"""`GET /v1/admin/resilience` over moto: superusers see the active preset and each deployment's
breaker state; anyone else is refused in the OpenAI error format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import ApiGateway, reconfigure

PATH = "/v1/admin/resilience"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, aws: Any) -> Iterator[None]:
    from inference_core.api.deps import reset_dependencies

    reconfigure(monkeypatch, IC_RESILIENCE_PRESET="production")
    reset_dependencies()
    yield
    reset_dependencies()


def test_a_superuser_sees_the_preset_and_each_deployments_breaker(
    production: None, client: TestClient, gateway: ApiGateway, make_account: Any
) -> None:
    from inference_core.wiring import get_registry, get_router

    admin = make_account(superuser=True)
    deployment = get_registry().resolve("smollm2").deployments[0]
    for _ in range(10):  # production opens the circuit after 10 consecutive failures
        get_router().breaker.record_failure(deployment)

    response = gateway.call("GET", PATH, headers=admin.auth)

    assert response.status == 200, response.text
    body = response.json()
    assert body["preset"] == "production"
    assert body["policy"]["retries"] == 5
    assert body["policy"]["breaker_failures"] == 10
    assert body["policy"]["breaker_recovery_seconds"] == 120
    smollm2 = {d["deployment"]: d for d in body["models"]["smollm2"]}
    breaker = smollm2[deployment.label]["breaker"]
    assert breaker["state"] == "open"
    assert breaker["consecutive_failures"] == 10
    assert 0 < breaker["seconds_until_trial"] <= 120


def test_a_plain_user_is_refused_and_an_anonymous_caller_is_asked_to_sign_in(
    production: None, client: TestClient, make_account: Any
) -> None:
    user = make_account()

    refused = client.get(PATH, headers=user.auth)
    anonymous = client.get(PATH)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "superuser_required"
    assert anonymous.status_code == 401
