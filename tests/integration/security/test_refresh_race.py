"""Concurrent refreshes of one refresh token (two tabs, a retry after a timeout) do not sign the
user out: within the grace window every caller gets the pair the winner got and the family stays
alive; a replay after the window is a reuse and still revokes the family. Real concurrency:
threads over HTTP against the app under uvicorn, over moto's real server."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from tests.integration.conftest import PASSWORD
from tests.integration.security.conftest import LiveApi

CALLERS = 6


def _sign_in(live: LiveApi, email: str) -> dict[str, Any]:
    live.auth_service.create_user(email, PASSWORD)
    response = httpx.post(
        f"{live.base_url}/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _refresh_all_at_once(live: LiveApi, token: str) -> list[httpx.Response]:
    barrier = threading.Barrier(CALLERS)
    results: list[httpx.Response | None] = [None] * CALLERS

    def refresh(i: int) -> None:
        with httpx.Client(base_url=live.base_url, timeout=30) as http:
            barrier.wait()
            results[i] = http.post("/v1/auth/refresh", json={"refresh_token": token})

    threads = [threading.Thread(target=refresh, args=(i,)) for i in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_concurrent_refreshes_share_one_new_pair_and_a_late_replay_revokes(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IC_REFRESH_REUSE_GRACE_SECONDS", "3")
    from inference_core.api.deps import reset_dependencies
    from inference_core.settings import get_settings

    get_settings.cache_clear()
    reset_dependencies()
    pair = _sign_in(live_api, "tabs@example.com")

    responses = _refresh_all_at_once(live_api, pair["refresh_token"])
    assert [r.status_code for r in responses] == [200] * CALLERS, [r.text for r in responses]
    refresh_tokens = {r.json()["refresh_token"] for r in responses}
    assert len(refresh_tokens) == 1  # everyone holds the winner's refresh token
    (new_refresh,) = refresh_tokens
    assert new_refresh != pair["refresh_token"]
    for response in responses:
        me = httpx.get(
            f"{live_api.base_url}/v1/auth/me",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        )
        assert me.status_code == 200  # the family is alive for every tab

    # After the window, the old token again is a replay: the family dies.
    time.sleep(3.5)
    replay = httpx.post(
        f"{live_api.base_url}/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "token_reused"
    dead = httpx.post(f"{live_api.base_url}/v1/auth/refresh", json={"refresh_token": new_refresh})
    assert dead.status_code == 401


def test_a_token_two_rotations_old_is_a_reuse_even_inside_the_window(live_api: LiveApi) -> None:
    pair = _sign_in(live_api, "thief@example.com")
    url = f"{live_api.base_url}/v1/auth/refresh"
    second = httpx.post(url, json={"refresh_token": pair["refresh_token"]}).json()
    third = httpx.post(url, json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200
    # The first token is no longer the one just replaced: a copied token, at once.
    replay = httpx.post(url, json={"refresh_token": pair["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "token_reused"
    assert httpx.post(url, json={"refresh_token": third.json()["refresh_token"]}).status_code == 401
