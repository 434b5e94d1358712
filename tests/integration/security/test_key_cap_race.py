"""The cap on live API keys per user holds under concurrency: many clients creating keys for one
user at the same instant get exactly `cap` keys between them, the rest a 403
`api_key_limit_reached`; concurrent revocations of one key count it off once. Real concurrency:
threads over HTTP against the app under uvicorn, over moto's real server."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from tests.integration.conftest import PASSWORD
from tests.integration.security.conftest import LiveApi

CAP = 4
CALLERS = 16


def _all_at_once(live: LiveApi, method: str, path: str, auth: dict[str, str]) -> list[Any]:
    barrier = threading.Barrier(CALLERS)
    results: list[httpx.Response | None] = [None] * CALLERS

    def call(i: int) -> None:
        with httpx.Client(base_url=live.base_url, timeout=60, headers=auth) as http:
            barrier.wait()
            results[i] = http.request(method, path, json={} if method == "POST" else None)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None for r in results)
    return [(r.status_code, r.json()) for r in results if r is not None]


def _live_keys(live: LiveApi, user_id: str) -> tuple[int, int]:
    """(live keys in the keys table, the user item's count), read from the tables themselves."""
    from inference_core.db.models import ApiKeyModel, UserModel

    keys = [k for k in ApiKeyModel.scan(ApiKeyModel.owner_id == user_id) if not k.revoked]
    user = UserModel.get(user_id, consistent_read=True)
    return len(keys), int(user.live_api_keys or 0)


def test_concurrent_creations_never_pass_the_cap(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IC_MAX_API_KEYS_PER_USER", str(CAP))
    from inference_core.api.deps import reset_dependencies
    from inference_core.settings import get_settings

    get_settings.cache_clear()
    reset_dependencies()
    user = live_api.auth_service.create_user("many-keys@example.com", PASSWORD)
    login = httpx.post(
        f"{live_api.base_url}/v1/auth/login",
        json={"email": "many-keys@example.com", "password": PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

    answers = _all_at_once(live_api, "POST", "/v1/auth/api-keys", auth)
    created = [body for status, body in answers if status == 201]
    refused = [body for status, body in answers if status != 201]
    assert len(created) == CAP, answers
    assert all(body["error"]["code"] == "api_key_limit_reached" for body in refused), refused
    assert _live_keys(live_api, user.user_id) == (CAP, CAP)

    # Every client revokes the same key at once: it is taken off the count once.
    victim = created[0]["id"]
    answers = _all_at_once(live_api, "DELETE", f"/v1/auth/api-keys/{victim}", auth)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [404] * (CALLERS - 1), answers
    assert _live_keys(live_api, user.user_id) == (CAP - 1, CAP - 1)

    # And the freed place goes to exactly one of the next crowd.
    answers = _all_at_once(live_api, "POST", "/v1/auth/api-keys", auth)
    assert sorted(status for status, _ in answers) == [201] + [403] * (CALLERS - 1), answers
    assert _live_keys(live_api, user.user_id) == (CAP, CAP)
