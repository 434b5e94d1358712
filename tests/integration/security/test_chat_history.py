"""`/v1/chat` history: bounded in turns and bytes (oldest trimmed, never outgrowing an item), a
failed save after the model answered returns the answer with a warning header (never a 500), and
concurrent turns of one session all land (threads over HTTP, against moto's real server)."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from tests.integration.conftest import PASSWORD, ApiGateway, AwsEnv, reconfigure
from tests.integration.inference.conftest import REGISTRY, ScriptedUpstream
from tests.integration.security.conftest import DynamoFaults, LiveApi


@pytest.fixture
def key(gateway: ApiGateway, make_account: Any) -> str:
    account = make_account()
    created = gateway.call("POST", "/v1/auth/api-keys", {"name": "t"}, token=account.access_token)
    assert created.status == 201, created.text
    return str(created.json()["key"])


def _turn(gateway: ApiGateway, key: str, message: str, session_id: str | None = None) -> Any:
    body: dict[str, Any] = {"message": message, "max_tokens": 5}
    if session_id:
        body["session_id"] = session_id
    return gateway.call("POST", "/v1/chat", body, token=key)


def _stored(aws: AwsEnv, session_id: str) -> list[dict[str, Any]]:
    item = aws.dynamodb.get_item(TableName="ic-sessions", Key={"pk": {"S": f"chat#{session_id}"}})
    messages: list[dict[str, Any]] = json.loads(item["Item"]["messages"]["S"])
    return messages


def test_history_keeps_the_newest_turns_within_the_turn_cap(
    gateway: ApiGateway, upstream: Any, key: str, aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconfigure(monkeypatch, IC_CHAT_HISTORY_MAX_TURNS="3")
    from inference_core.api.deps import reset_dependencies

    reset_dependencies()
    first = _turn(gateway, key, "turn 0")
    session_id = first.json()["session_id"]
    for i in range(1, 5):
        response = _turn(gateway, key, f"turn {i}", session_id)
        assert response.status == 200, response.text
    assert response.json()["history_length"] == 6
    assert response.headers["x-history-warning"] == "trimmed"
    users = [m["content"] for m in _stored(aws, session_id) if m["role"] == "user"]
    assert users == ["turn 2", "turn 3", "turn 4"]


def test_a_long_conversation_of_big_turns_never_outgrows_an_item(
    gateway: ApiGateway, upstream: Any, key: str, aws: AwsEnv, make_account: Any
) -> None:
    # 84 turns of 4.8 KB already stored (almost 400 KB): turn 85 used to fail with a 500 after
    # the model had answered (DynamoDB refuses items over 400 KB).
    owner = gateway.call("GET", "/v1/auth/me", token=key).json()["id"]
    big = "x" * 4_800
    pair = [
        {"role": "user", "content": big},
        {"role": "assistant", "content": "Hello from primary"},
    ]
    history: list[dict[str, Any]] = []
    # As many turns as one item holds: the next one would not fit.
    while len(json.dumps([*history, *pair])) < 400_000 - 300:
        history += pair
    aws.dynamodb.put_item(
        TableName="ic-sessions",
        Item={
            "pk": {"S": "chat#long"},
            "kind": {"S": "chat"},
            "user_id": {"S": owner},
            "created_at": {"N": "1"},
            "expires_at": {"N": "9999999999"},
            "messages": {"S": json.dumps(history)},
        },
    )
    response = _turn(gateway, key, big, "long")
    assert response.status == 200, response.text
    assert response.json()["reply"] == "Hello from primary"
    stored = _stored(aws, "long")
    assert len(json.dumps(stored)) <= 256 * 1024
    assert stored[-1] == {"role": "assistant", "content": "Hello from primary"}


def test_a_failed_history_save_still_returns_the_answer_with_a_warning(
    gateway: ApiGateway, upstream: Any, key: str, dynamo_faults: DynamoFaults
) -> None:
    first = _turn(gateway, key, "hello")
    dynamo_faults.fail("PutItem", "ProvisionedThroughputExceededException")
    response = _turn(gateway, key, "again", first.json()["session_id"])
    assert response.status == 200, response.text
    assert response.json()["reply"] == "Hello from primary"
    assert response.headers["x-history-warning"] == "not-saved"
    assert "PutItem" in dynamo_faults.injected


def test_concurrent_turns_of_one_session_all_land(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from inference_core.api.deps import reset_dependencies
    from inference_core.settings import get_settings

    registry = tmp_path / "models.json"
    registry.write_text(json.dumps(REGISTRY))
    monkeypatch.setenv("IC_MODEL_REGISTRY_PATH", str(registry))
    fake = ScriptedUpstream()
    monkeypatch.setattr("inference_core.providers.create_provider", lambda name, settings: fake)
    get_settings.cache_clear()
    reset_dependencies()
    live_api.auth_service.create_user("talker@example.com", PASSWORD)
    http = httpx.Client(base_url=live_api.base_url, timeout=60)
    token = http.post(
        "/v1/auth/login", json={"email": "talker@example.com", "password": PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    first = http.post("/v1/chat", json={"message": "start", "max_tokens": 5}, headers=auth)
    assert first.status_code == 200, first.text
    session_id = first.json()["session_id"]

    callers = 4
    barrier = threading.Barrier(callers)
    statuses: list[int] = []

    def turn(i: int) -> None:
        with httpx.Client(base_url=live_api.base_url, timeout=60) as own:
            barrier.wait()
            body = {"message": f"tab {i}", "session_id": session_id, "max_tokens": 5}
            statuses.append(own.post("/v1/chat", json=body, headers=auth).status_code)

    threads = [threading.Thread(target=turn, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * callers

    from inference_core.wiring import get_chat_history

    stored = get_chat_history().load(session_id, http.get("/v1/auth/me", headers=auth).json()["id"])
    users = sorted(m["content"] for m in stored if m["role"] == "user")
    assert users == sorted(["start", *(f"tab {i}" for i in range(callers))])
    assert len(stored) == 2 * (callers + 1)
    http.close()
