"""The admin API over moto (in-process): a superuser, an ordinary user, and the scripted upstream
for the requests whose usage the admin API reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.governance.conftest import items, upstream

__all__ = ["items", "upstream"]


@dataclass
class Admin:
    client: TestClient
    headers: dict[str, str]
    user_id: str

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/v1/admin{path}", params=params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(f"/v1/admin{path}", json=body, headers=self.headers)

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(f"/v1/admin{path}", json=body, headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/v1/admin{path}", headers=self.headers)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def admin(client: TestClient, make_account: Callable[..., Any]) -> Admin:
    account = make_account("root@example.com", superuser=True)
    return Admin(client, account.auth, account.user_id)


@pytest.fixture
def make_key(client: TestClient) -> Callable[..., dict[str, Any]]:
    def make(account: Any, **fields: Any) -> dict[str, Any]:
        response = client.post("/v1/auth/api-keys", json=fields, headers=account.auth)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return make


CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}


def chat(client: TestClient, token: str, model: str = "scripted", cache: bool = False) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if not cache:
        headers["Cache-Control"] = "no-cache"
    return client.post("/v1/chat/completions", json={**CHAT, "model": model}, headers=headers)
