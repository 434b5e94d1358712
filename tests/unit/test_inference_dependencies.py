"""The inference routes resolve their dependencies on the event loop: FastAPI runs a plain `def`
dependency in its thread pool (a thread hop per dependency per request), so every dependency of
the data-plane routes is `async def`, and a warm caller's principal comes from the governance
cache without any DynamoDB read (a miss is resolved in a thread, by the same rules)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from inference_core.auth.api_keys import API_KEY_PREFIX
from inference_core.auth.policy import cached_inference_principal, inference_principal
from inference_core.governance import Governance
from inference_core.settings import Settings

INFERENCE_ROUTES = {
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/completions"),
    ("POST", "/v1/messages"),
    ("POST", "/v1/embeddings"),
}


def _calls(dependant: Any) -> list[Any]:
    found = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found += _calls(sub)
    return found


def test_every_dependency_of_the_inference_routes_runs_on_the_event_loop() -> None:
    from fastapi.routing import APIRoute

    from inference_core.api.app import create_app

    def routes(items: list[Any]) -> list[APIRoute]:
        found: list[APIRoute] = []
        for item in items:
            if isinstance(item, APIRoute):
                found.append(item)
            elif hasattr(item, "original_router"):  # an included router (FastAPI ≥ 0.16x)
                found += routes(item.original_router.routes)
            elif hasattr(item, "routes"):
                found += routes(item.routes)
        return found

    checked = set()
    for route in routes(create_app().routes):
        for method in route.methods or ():
            if (method, route.path) in INFERENCE_ROUTES:
                checked.add((method, route.path))
                sync = [
                    call.__qualname__
                    for call in _calls(route.dependant)
                    if not inspect.iscoroutinefunction(call)
                ]
                assert sync == [], f"{method} {route.path} hops to a thread for {sync}"
    assert checked == INFERENCE_ROUTES


class CountingReads:
    """The governance reads, answered from memory and counted."""

    keys_table, users_table, teams_table = "keys", "users", "teams"

    def __init__(self, key_hash: str) -> None:
        self.calls: list[str] = []
        self.items = {
            "key": {
                "key_hash": {"S": key_hash},
                "owner_id": {"S": "u1"},
                "key_id": {"S": "key_1"},
                "revoked": {"BOOL": False},
            },
            "user": {"user_id": {"S": "u1"}, "is_active": {"BOOL": True}, "role": {"S": "user"}},
        }

    def key(self, key_hash: str) -> dict[str, Any]:
        self.calls.append("key")
        return self.items["key"]

    def user(self, user_id: str) -> dict[str, Any]:
        self.calls.append("user")
        return self.items["user"]

    def team(self, team_id: str) -> None:
        self.calls.append("team")

    def ensure_state_maps(self, *_: Any) -> None:
        return None


def test_a_warm_principal_is_read_from_the_cache_and_a_cold_one_is_not_loaded_inline() -> None:
    from inference_core.auth.api_keys import hash_api_key

    settings = Settings()
    secret = API_KEY_PREFIX + "x" * 40
    reads = CountingReads(hash_api_key(secret))
    governance = Governance(settings=settings, reads=reads)  # type: ignore[arg-type]

    assert cached_inference_principal(secret, settings=settings, governance=governance) is None
    assert reads.calls == []  # a miss reads nothing on the event loop

    loaded = inference_principal(secret, settings=settings, governance=governance)
    assert reads.calls == ["key", "user"]
    warm = cached_inference_principal(secret, settings=settings, governance=governance)
    assert warm == loaded and warm is not None and warm.user_id == "u1"
    assert reads.calls == ["key", "user"]


def test_a_bad_token_is_refused_without_a_read() -> None:
    from inference_core.errors import AuthenticationError

    settings = Settings()
    reads = CountingReads("unused")
    governance = Governance(settings=settings, reads=reads)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError):
        cached_inference_principal("not-a-jwt", settings=settings, governance=governance)
    assert reads.calls == []
