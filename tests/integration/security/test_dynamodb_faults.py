"""Faults never become 500s: every route (the table below must cover the whole OpenAPI document)
is called once cleanly to see which DynamoDB calls it makes, then once per call with THAT call
answered `ThrottlingException` or `ProvisionedThroughputExceededException` (alternately; one call
at a time, through a botocore event hook). Every answer is a 503 with `Retry-After` in the
endpoint's own error format, or a success (the route degraded: see the README's Security section).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from inference_core.canonical import ChatRequest, ChatResult, Deployment, Usage
from tests.integration.conftest import PASSWORD, AwsEnv
from tests.integration.security.conftest import DynamoFaults

CODES = ("ThrottlingException", "ProvisionedThroughputExceededException")
MODEL = "scripted"
BATCH_LINE = (
    json.dumps(
        {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
        }
    ).encode()
    + b"\n"
)
INGEST_SECRET = "whsec_" + "aW5nZXN0LXNlY3JldC1mb3ItdGVzdHMtMDEyMzQ1Njc="


@dataclass
class World:
    """What the requests need; `fresh_*` make a new one per call for routes that consume it."""

    client: TestClient
    service: Any
    aws: AwsEnv
    upstream: Any
    counter: list[int] = field(default_factory=lambda: [0])
    _shared: dict[str, Any] = field(default_factory=dict)

    def email(self) -> str:
        self.counter[0] += 1
        return f"f{self.counter[0]}-{uuid.uuid4().hex[:6]}@example.com"

    def fresh_user(self, *, verified: bool = True) -> tuple[Any, dict[str, Any]]:
        email = self.email()
        user = self.service.create_user(email, PASSWORD, email_verified=verified)
        login = self.client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return user, login.json()

    def shared(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._shared:
            self._shared[name] = make()
        return self._shared[name]

    def jwt(self) -> dict[str, str]:
        tokens = self.shared("account", self.fresh_user)[1]
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    def key(self) -> dict[str, str]:
        def make() -> str:
            created = self.client.post("/v1/auth/api-keys", json={}, headers=self.jwt())
            assert created.status_code == 201, created.text
            return str(created.json()["key"])

        return {"Authorization": f"Bearer {self.shared('key', make)}"}

    def file_id(self) -> str:
        def make() -> str:
            return self.upload()

        return str(self.shared("file", make))

    def upload(self) -> str:
        response = self.client.post(
            "/v1/files",
            files={"file": ("in.jsonl", BATCH_LINE)},
            data={"purpose": "batch"},
            headers=self.jwt(),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def response_id(self, *, fresh: bool = False) -> str:
        def make() -> str:
            response = self.client.post(
                "/v1/responses",
                json={"model": MODEL, "input": _unique("remember this")},
                headers=self.key(),
            )
            assert response.status_code == 200, response.text
            return str(response.json()["id"])

        return make() if fresh else str(self.shared("response", make))

    def batch_id(self) -> str:
        def make() -> str:
            response = self.client.post(
                "/v1/batches",
                json={
                    "input_file_id": self.file_id(),
                    "endpoint": "/v1/chat/completions",
                    "completion_window": "24h",
                },
                headers=self.jwt(),
            )
            assert response.status_code == 200, response.text
            return str(response.json()["id"])

        return str(self.shared("batch", make))

    def one_time_token(self, purpose: str) -> str:
        user, _ = self.fresh_user(verified=purpose != "verify_email")
        return str(self.service._new_one_time_token(user, purpose, 3600))

    # ---- the admin routes: a superuser, and targets it changes ----

    def admin(self) -> dict[str, str]:
        def make() -> dict[str, Any]:
            email = self.email()
            self.service.create_user(email, PASSWORD, superuser=True, email_verified=True)
            login = self.client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            return dict(login.json())

        return {"Authorization": f"Bearer {self.shared('admin', make)['access_token']}"}

    def bare_user(self) -> str:
        """A user who never signs in (no password hashing: these are targets of admin calls)."""
        user = self.service._new_user(
            self.email(), "not-a-hash", name=None, role="user", verified=True
        )
        self.service.users.create(user)
        return str(user.user_id)

    def target_user(self) -> str:
        return str(self.shared("target_user", self.bare_user))

    def new_team(self) -> str:
        created = self.client.post("/v1/admin/teams", json={"name": "t"}, headers=self.admin())
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def team_id(self) -> str:
        return str(self.shared("team", self.new_team))

    def member_of_new_team(self) -> tuple[str, str]:
        team_id, user_id = self.new_team(), self.bare_user()
        added = self.client.post(
            f"/v1/admin/teams/{team_id}/members", json={"user_id": user_id}, headers=self.admin()
        )
        assert added.status_code == 200, added.text
        return team_id, user_id

    def new_key_id(self) -> str:
        """A key of its own account (admin revocations must not eat the shared account's cap)."""

        def owner() -> dict[str, str]:
            tokens = self.fresh_user()[1]
            return {"Authorization": f"Bearer {tokens['access_token']}"}

        created = self.client.post(
            "/v1/auth/api-keys", json={}, headers=self.shared("key_owner", owner)
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def key_id(self) -> str:
        return str(self.shared("key_id", self.new_key_id))

    def answer_in_json(self) -> None:
        """The upstream answers every chat with a sentiment verdict (what text operations parse)."""

        async def chat(request: ChatRequest, deployment: Deployment) -> ChatResult:
            return ChatResult('{"label": "positive", "confidence": 0.8}', "stop", Usage(30, 8))

        self.upstream.chat = chat


Request = tuple[str, str, dict[str, Any]]


def _unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"  # a cache miss: read, then fill


def _chat_session(w: World) -> str:
    def make() -> str:
        first = w.client.post("/v1/chat", json={"message": "hi", "max_tokens": 5}, headers=w.key())
        assert first.status_code == 200, first.text
        return str(first.json()["session_id"])

    return str(w.shared("chat", make))


def _signed_ingest(w: World) -> Request:
    from inference_core.webhooks.signing import secret_bytes, sign

    body = {
        "requests": [
            {
                "custom_id": "a",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
            }
        ]
    }
    raw = json.dumps(body).encode()
    headers = sign(secret_bytes(INGEST_SECRET), f"msg_{uuid.uuid4().hex}", raw)
    headers = {**headers, "x-ic-integration": "crm", "content-type": "application/json"}
    return "POST", "/webhooks/ingest", {"content": raw, "headers": headers}


def _text_operation(w: World, *, batch: bool) -> Request:
    w.answer_in_json()
    item = {"operation": "sentiment", "text": _unique("I like it")}
    if batch:
        other = {"operation": "sentiment", "text": _unique("I do not")}
        return (
            "POST",
            "/v1/text_processing/batch_process",
            {
                "json": {"items": [item, other]},
                "headers": w.key(),
            },
        )
    return "POST", "/v1/text_processing/process", {"json": item, "headers": w.key()}


ROUTES: dict[tuple[str, str], Callable[[World], Request]] = {
    ("GET", "/health"): lambda w: ("GET", "/health", {}),
    ("GET", "/ready"): lambda w: ("GET", "/ready", {}),
    # ---- auth ----
    ("POST", "/v1/auth/register"): lambda w: (
        "POST",
        "/v1/auth/register",
        {"json": {"email": w.email(), "password": "a long enough passphrase"}},
    ),
    ("POST", "/v1/auth/login"): lambda w: (
        "POST",
        "/v1/auth/login",
        {"json": {"email": w.shared("account", w.fresh_user)[0].email, "password": PASSWORD}},
    ),
    ("POST", "/v1/auth/refresh"): lambda w: (
        "POST",
        "/v1/auth/refresh",
        {"json": {"refresh_token": w.fresh_user()[1]["refresh_token"]}},
    ),
    ("POST", "/v1/auth/logout"): lambda w: (
        "POST",
        "/v1/auth/logout",
        {"headers": {"Authorization": f"Bearer {w.fresh_user()[1]['access_token']}"}},
    ),
    ("GET", "/v1/auth/me"): lambda w: ("GET", "/v1/auth/me", {"headers": w.jwt()}),
    ("PUT", "/v1/auth/me"): lambda w: (
        "PUT",
        "/v1/auth/me",
        {"json": {"name": "Ada"}, "headers": w.jwt()},
    ),
    ("POST", "/v1/auth/change-password"): lambda w: (
        "POST",
        "/v1/auth/change-password",
        {
            "json": {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
            "headers": {"Authorization": f"Bearer {w.fresh_user()[1]['access_token']}"},
        },
    ),
    ("POST", "/v1/auth/forgot-password"): lambda w: (
        "POST",
        "/v1/auth/forgot-password",
        {"json": {"email": w.fresh_user()[0].email}},
    ),
    ("POST", "/v1/auth/reset-password"): lambda w: (
        "POST",
        "/v1/auth/reset-password",
        {
            "json": {
                "token": w.one_time_token("password_reset"),
                "new_password": "a brand new passphrase",
            }
        },
    ),
    ("POST", "/v1/auth/verify-email/request"): lambda w: (
        "POST",
        "/v1/auth/verify-email/request",
        {"headers": {"Authorization": f"Bearer {w.fresh_user(verified=False)[1]['access_token']}"}},
    ),
    ("POST", "/v1/auth/verify-email"): lambda w: (
        "POST",
        "/v1/auth/verify-email",
        {"json": {"token": w.one_time_token("verify_email")}},
    ),
    ("POST", "/v1/auth/api-keys"): lambda w: (
        "POST",
        "/v1/auth/api-keys",
        {"json": {}, "headers": w.jwt()},
    ),
    ("GET", "/v1/auth/api-keys"): lambda w: ("GET", "/v1/auth/api-keys", {"headers": w.jwt()}),
    ("DELETE", "/v1/auth/api-keys/{key_id}"): lambda w: (
        "DELETE",
        "/v1/auth/api-keys/"
        + w.client.post("/v1/auth/api-keys", json={}, headers=w.jwt()).json()["id"],
        {"headers": w.jwt()},
    ),
    # ---- inference ----
    ("POST", "/v1/chat/completions"): lambda w: (
        "POST",
        "/v1/chat/completions",
        {
            "json": {"model": MODEL, "messages": [{"role": "user", "content": _unique("hi")}]},
            "headers": w.key(),
        },
    ),
    ("POST", "/v1/responses"): lambda w: (
        "POST",
        "/v1/responses",
        {"json": {"model": MODEL, "input": _unique("hello")}, "headers": w.key()},
    ),
    ("GET", "/v1/responses/{response_id}"): lambda w: (
        "GET",
        f"/v1/responses/{w.response_id()}",
        {"headers": w.key()},
    ),
    ("GET", "/v1/responses/{response_id}/input_items"): lambda w: (
        "GET",
        f"/v1/responses/{w.response_id()}/input_items",
        {"headers": w.key()},
    ),
    ("DELETE", "/v1/responses/{response_id}"): lambda w: (
        "DELETE",
        f"/v1/responses/{w.response_id(fresh=True)}",
        {"headers": w.key()},
    ),
    ("POST", "/v1/completions"): lambda w: (
        "POST",
        "/v1/completions",
        {"json": {"model": MODEL, "prompt": _unique("once")}, "headers": w.key()},
    ),
    ("POST", "/v1/embeddings"): lambda w: (
        "POST",
        "/v1/embeddings",
        {"json": {"model": MODEL, "input": [_unique("a")]}, "headers": w.key()},
    ),
    ("POST", "/v1/messages"): lambda w: (
        "POST",
        "/v1/messages",
        {
            "json": {
                "model": MODEL,
                "max_tokens": 5,
                "messages": [{"role": "user", "content": _unique("hi")}],
            },
            "headers": {"x-api-key": w.key()["Authorization"].removeprefix("Bearer ")},
        },
    ),
    ("POST", "/v1/messages/count_tokens"): lambda w: (
        "POST",
        "/v1/messages/count_tokens",
        {
            "json": {"model": MODEL, "messages": [{"role": "user", "content": "count me"}]},
            "headers": {"x-api-key": w.key()["Authorization"].removeprefix("Bearer ")},
        },
    ),
    ("POST", "/v1/generate"): lambda w: (
        "POST",
        "/v1/generate",
        {"json": {"prompt": _unique("once"), "max_tokens": 5}, "headers": w.key()},
    ),
    ("POST", "/v1/chat"): lambda w: (
        "POST",
        "/v1/chat",
        {
            "json": {"message": _unique("again"), "session_id": _chat_session(w), "max_tokens": 5},
            "headers": w.key(),
        },
    ),
    ("GET", "/v1/models"): lambda w: ("GET", "/v1/models", {"headers": w.key()}),
    ("GET", "/v1/models/{model_id}"): lambda w: (
        "GET",
        f"/v1/models/{MODEL}",
        {"headers": w.key()},
    ),
    # ---- files, batches, webhooks ----
    ("POST", "/v1/files"): lambda w: (
        "POST",
        "/v1/files",
        {
            "files": {"file": ("in.jsonl", BATCH_LINE)},
            "data": {"purpose": "batch"},
            "headers": w.jwt(),
        },
    ),
    ("GET", "/v1/files"): lambda w: ("GET", "/v1/files", {"headers": w.jwt()}),
    ("GET", "/v1/files/{file_id}"): lambda w: (
        "GET",
        f"/v1/files/{w.file_id()}",
        {"headers": w.jwt()},
    ),
    ("GET", "/v1/files/{file_id}/content"): lambda w: (
        "GET",
        f"/v1/files/{w.file_id()}/content",
        {"headers": w.jwt()},
    ),
    ("DELETE", "/v1/files/{file_id}"): lambda w: (
        "DELETE",
        f"/v1/files/{w.upload()}",
        {"headers": w.jwt()},
    ),
    ("POST", "/v1/batches"): lambda w: (
        "POST",
        "/v1/batches",
        {
            "json": {
                "input_file_id": w.file_id(),
                "endpoint": "/v1/chat/completions",
                "completion_window": "24h",
            },
            "headers": w.jwt(),
        },
    ),
    ("GET", "/v1/batches"): lambda w: ("GET", "/v1/batches", {"headers": w.jwt()}),
    ("GET", "/v1/batches/{batch_id}"): lambda w: (
        "GET",
        f"/v1/batches/{w.batch_id()}",
        {"headers": w.jwt()},
    ),
    ("POST", "/v1/batches/{batch_id}/cancel"): lambda w: (
        "POST",
        f"/v1/batches/{w.batch_id()}/cancel",
        {"headers": w.jwt()},
    ),
    ("POST", "/v1/batch/jobs"): lambda w: (
        "POST",
        "/v1/batch/jobs",
        {
            "json": {
                "items": [
                    {
                        "custom_id": "a",
                        "model": MODEL,
                        "messages": [{"role": "user", "content": "hi"}],
                    }
                ]
            },
            "headers": w.jwt(),
        },
    ),
    ("GET", "/v1/usage"): lambda w: ("GET", "/v1/usage", {"headers": w.key()}),
    ("GET", "/v1/webhooks/secret"): lambda w: ("GET", "/v1/webhooks/secret", {"headers": w.jwt()}),
    ("POST", "/webhooks/ingest"): _signed_ingest,
    # ---- admin (a superuser's session) ----
    ("GET", "/v1/admin/users"): lambda w: ("GET", "/v1/admin/users", {"headers": w.admin()}),
    ("GET", "/v1/admin/users/{user_id}"): lambda w: (
        "GET",
        f"/v1/admin/users/{w.target_user()}",
        {"headers": w.admin()},
    ),
    ("PATCH", "/v1/admin/users/{user_id}"): lambda w: (
        "PATCH",
        f"/v1/admin/users/{w.target_user()}",
        {"json": {"tpm_limit": 100_000}, "headers": w.admin()},
    ),
    ("POST", "/v1/admin/teams"): lambda w: (
        "POST",
        "/v1/admin/teams",
        {"json": {"name": "a team", "rpm_limit": 600}, "headers": w.admin()},
    ),
    ("GET", "/v1/admin/teams"): lambda w: ("GET", "/v1/admin/teams", {"headers": w.admin()}),
    ("GET", "/v1/admin/teams/{team_id}"): lambda w: (
        "GET",
        f"/v1/admin/teams/{w.team_id()}",
        {"headers": w.admin()},
    ),
    ("PATCH", "/v1/admin/teams/{team_id}"): lambda w: (
        "PATCH",
        f"/v1/admin/teams/{w.team_id()}",
        {"json": {"name": "renamed"}, "headers": w.admin()},
    ),
    ("DELETE", "/v1/admin/teams/{team_id}"): lambda w: (
        "DELETE",
        f"/v1/admin/teams/{w.member_of_new_team()[0]}",
        {"headers": w.admin()},
    ),
    ("POST", "/v1/admin/teams/{team_id}/members"): lambda w: (
        "POST",
        f"/v1/admin/teams/{w.team_id()}/members",
        {"json": {"user_id": w.bare_user()}, "headers": w.admin()},
    ),
    ("DELETE", "/v1/admin/teams/{team_id}/members/{user_id}"): lambda w: (
        "DELETE",
        "/v1/admin/teams/{}/members/{}".format(*w.member_of_new_team()),
        {"headers": w.admin()},
    ),
    ("GET", "/v1/admin/keys"): lambda w: ("GET", "/v1/admin/keys", {"headers": w.admin()}),
    ("PATCH", "/v1/admin/keys/{key_id}"): lambda w: (
        "PATCH",
        f"/v1/admin/keys/{w.key_id()}",
        {"json": {"name": "renamed", "rpm_limit": 100}, "headers": w.admin()},
    ),
    ("DELETE", "/v1/admin/keys/{key_id}"): lambda w: (
        "DELETE",
        f"/v1/admin/keys/{w.new_key_id()}",
        {"headers": w.admin()},
    ),
    ("GET", "/v1/admin/usage"): lambda w: (
        "GET",
        "/v1/admin/usage",
        {"params": {"group_by": "model"}, "headers": w.admin()},
    ),
    ("GET", "/v1/admin/cache"): lambda w: ("GET", "/v1/admin/cache", {"headers": w.admin()}),
    ("POST", "/v1/admin/cache/invalidate"): lambda w: (
        "POST",
        "/v1/admin/cache/invalidate",
        {"json": {"model": MODEL}, "headers": w.admin()},
    ),
    ("GET", "/v1/admin/providers"): lambda w: (
        "GET",
        "/v1/admin/providers",
        {"headers": w.admin()},
    ),
    ("GET", "/v1/admin/resilience"): lambda w: (
        "GET",
        "/v1/admin/resilience",
        {"headers": w.admin()},
    ),
    ("GET", "/v1/admin/audit"): lambda w: (
        "GET",
        "/v1/admin/audit",
        {"headers": w.admin()},
    ),
    # ---- text processing (the upstream answers in JSON) ----
    ("GET", "/v1/text_processing/operations"): lambda w: (
        "GET",
        "/v1/text_processing/operations",
        {"headers": w.key()},
    ),
    ("POST", "/v1/text_processing/process"): lambda w: _text_operation(w, batch=False),
    ("POST", "/v1/text_processing/batch_process"): lambda w: _text_operation(w, batch=True),
}


# Routes that never touch DynamoDB.
NO_DYNAMODB = {
    ("GET", "/health"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{model_id}"),
    ("POST", "/webhooks/ingest"),  # signed by its integration's secret; straight to the queue
}

CACHED_AFTER_FIRST = {("POST", "/v1/messages/count_tokens")}


def test_the_route_table_covers_every_route() -> None:
    from inference_core.api.openapi import openapi_document

    documented = {
        (method.upper(), path)
        for path, methods in openapi_document()["paths"].items()
        for method in methods
    }
    assert documented - set(ROUTES) == set(), "add the new routes to ROUTES"
    assert set(ROUTES) - documented == set(), "a route in ROUTES is gone from the API"


@pytest.fixture
def world(
    aws: AwsEnv,
    upstream: Any,
    client: TestClient,
    auth_service: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    from pydantic import SecretStr

    from inference_core.api.batch_deps import reset_batch_dependencies
    from inference_core.local.resources import create_bucket, create_queues
    from inference_core.settings import get_settings

    aws.sqs.delete_queue(QueueUrl=aws.mail_queue_url)  # re-created with its DLQ and redrive
    urls = create_queues(aws.sqs)
    for setting, url in urls.items():
        monkeypatch.setenv(f"IC_{setting.upper()}", url)
    aws.mail_queue_url = urls["mail_queue_url"]
    get_settings.cache_clear()
    create_bucket(boto3.client("s3", region_name="us-east-1"), get_settings().queues.files_bucket)
    reset_batch_dependencies()
    w = World(client=client, service=auth_service, aws=aws, upstream=upstream)
    # The webhook integration's user never signs in (and costs no password hashing).
    config = {"crm": {"secret": INGEST_SECRET, "user_id": w.bare_user()}}
    monkeypatch.setattr(
        get_settings().webhooks, "webhook_ingest_secrets", SecretStr(json.dumps(config))
    )
    return w


def _assert_not_a_500(path: str, response: Any, what: str) -> None:
    assert response.status_code != 500, f"{what}: 500 {response.text}"
    if response.status_code == 503:
        assert response.headers.get("retry-after"), f"{what}: 503 without Retry-After"
        body = response.json()
        if path == "/ready":
            assert body["status"] == "not_ready", what
        elif path.startswith("/v1/messages"):
            assert body["type"] == "error" and body["error"]["type"] == "overloaded_error", what
        else:
            assert body["error"]["message"] and body["error"]["type"], what
    else:
        assert response.status_code < 400, f"{what}: {response.status_code} {response.text}"
    if path.endswith("/batch_process") and response.status_code == 200:
        # Each item answers on its own: an item whose store call failed says 503, never 500.
        for result in response.json()["results"]:
            if result["status"] == "error":
                assert result["error"]["status"] == 503, f"{what}: item {result}"


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_a_throttled_dynamodb_call_is_a_503_or_degrades_never_a_500(
    world: World, dynamo_faults: DynamoFaults, route: tuple[str, str]
) -> None:
    build = ROUTES[route]
    # The clean call: it must work, and it tells which DynamoDB calls the route makes.
    method, path, kwargs = build(world)
    dynamo_faults.clear()
    response = world.client.request(method, path, **kwargs)
    assert response.status_code < 400, f"{route}: {response.status_code} {response.text}"
    clean_calls = list(dynamo_faults.seen)
    if route not in NO_DYNAMODB:
        assert clean_calls, f"{route} made no DynamoDB call: is the hook in place?"
    # Build each request (which may itself call DynamoDB) before arming the fault.
    fired = 0
    for position in range(len(clean_calls)):
        dynamo_faults.clear()
        method, path, kwargs = build(world)
        code = CODES[position % 2]
        dynamo_faults.clear()
        dynamo_faults.fail_call(position, code)
        response = world.client.request(method, path, **kwargs)
        # A run may make fewer calls than the clean one (its rate window is already open): then
        # nothing fires, and the answer is checked all the same.
        hit = dynamo_faults.injected[0] if dynamo_faults.injected else "nothing"
        what = f"{route} with call {position} ({hit}) {code}"
        fired += len(dynamo_faults.injected)
        _assert_not_a_500(path, response, what)
        if dynamo_faults.injected and response.status_code < 400:
            print(f"DEGRADED {what} -> {response.status_code}")  # the README's list
    # And each operation failing on every call of it (a table that throttles all its writes).
    for operation in sorted(set(clean_calls)):
        dynamo_faults.clear()
        method, path, kwargs = build(world)
        dynamo_faults.clear()
        dynamo_faults.fail(operation, "ProvisionedThroughputExceededException")
        response = world.client.request(method, path, **kwargs)
        what = f"{route} with every {operation} throttled"
        fired += len(dynamo_faults.injected)
        _assert_not_a_500(path, response, what)
        if dynamo_faults.injected and response.status_code < 400:
            print(f"DEGRADED {what} -> {response.status_code}")
    # count_tokens reads only the key's resolution, cached after the clean call (governance).
    assert fired or not clean_calls or route in CACHED_AFTER_FIRST, f"{route}: no fault fired"
    dynamo_faults.clear()
