"""Fixtures for the integration suites over moto (in-process): the tables and the mail queue, the app driven through
the real Mangum handler with API Gateway REST proxy events (or Starlette's TestClient), a probe app
for the inference dependency, a DynamoDB call counter, and helpers to register and sign in.

moto in-process is not thread-safe: these tests run serially.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from moto import mock_aws

# Module level, not inside the fixture: the probe route's annotations are resolved by name.
from inference_core.auth.deps import get_inference_principal
from inference_core.auth.principal import Principal
from tests.factories import api_gateway_event, lambda_context

REPO = Path(__file__).resolve().parents[2]
API_HANDLER_PATH = REPO / "functions" / "api" / "handler.py"
REGION = "us-east-1"
PASSWORD = "correct horse battery staple"


# The event factories live in tests/factories.py (re-exported here for the suites).
__all__ = ["api_gateway_event", "lambda_context"]


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


def _load_api_handler() -> ModuleType:
    # Lambda puts the handler at the root of its zip, so it is not a package: load it by path.
    name = "api_lambda_handler"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, API_HANDLER_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class ApiGateway:
    """Invoke the real control-plane Lambda handler (Mangum) with API Gateway REST events."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]]):
        self._handler = handler

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> GatewayResponse:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        result = self._handler(api_gateway_event(method, path, body, all_headers), lambda_context())
        text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        headers_out = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers_out.setdefault(k.lower(), values[-1])
        return GatewayResponse(status=result["statusCode"], headers=headers_out, text=text)


# ---- AWS (moto) ----


@dataclass
class AwsEnv:
    dynamodb: Any
    sqs: Any
    mail_queue_url: str

    def mail(self) -> list[dict[str, Any]]:
        """Every message on the mail queue (received and deleted)."""
        messages: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.mail_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not got:
                return messages
            for m in got:
                messages.append(json.loads(m["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.mail_queue_url, ReceiptHandle=m["ReceiptHandle"]
                )

    def scan(self, table: str) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=table)["Items"])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEnv]:
    from inference_core import mailqueue
    from inference_core.auth.deps import reset_auth_dependencies
    from inference_core.db.tables import create_tables
    from inference_core.settings import get_settings

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="ic-mail")["QueueUrl"]
        monkeypatch.setenv("IC_MAIL_QUEUE_URL", url)
        get_settings.cache_clear()
        create_tables(dynamodb, get_settings().tables.model_dump())
        reset_auth_dependencies()
        mailqueue._sqs_client.cache_clear()
        try:
            yield AwsEnv(dynamodb=dynamodb, sqs=sqs, mail_queue_url=url)
        finally:
            reset_auth_dependencies()
            mailqueue._sqs_client.cache_clear()


def reconfigure(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    """Change settings mid-test (e.g. the inference access mode) and drop cached dependencies."""
    from inference_core.auth.deps import reset_auth_dependencies
    from inference_core.settings import get_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_auth_dependencies()


# ---- the app ----


@pytest.fixture(scope="session")
def api_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    module = _load_api_handler()
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.handler
    return handler


@pytest.fixture
def gateway(aws: AwsEnv, api_handler: Any) -> ApiGateway:
    return ApiGateway(api_handler)


@pytest.fixture
def app(aws: AwsEnv) -> Iterator[FastAPI]:
    from inference_core.api.app import create_app

    application = create_app()
    yield application
    application.dependency_overrides.clear()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def probe(aws: AwsEnv) -> Iterator[TestClient]:
    """A one-route app behind the data-plane dependency: what an inference request sees of auth."""
    from inference_core.api.errors import install_error_handlers

    application = FastAPI()
    install_error_handlers(application)

    @application.post("/v1/probe")
    def whoami(principal: Annotated[Principal, Depends(get_inference_principal)]) -> dict[str, Any]:
        return {
            "user_id": principal.user_id,
            "role": principal.role,
            "key_id": principal.key_id,
            "allowed_models": sorted(principal.allowed_models)
            if principal.allowed_models is not None
            else None,
            "rpm_limit": principal.rpm_limit,
        }

    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client


class FrozenClock:
    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def freeze_inference_clock(probe: TestClient, start: float) -> FrozenClock:
    from inference_core.auth.deps import get_clock

    clock = FrozenClock(start)
    probe.app.dependency_overrides[get_clock] = lambda: clock  # type: ignore[attr-defined]
    return clock


# ---- counting DynamoDB calls ----


@dataclass
class DynamoCalls:
    operations: list[str] = field(default_factory=list)

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def reset(self) -> None:
        self.operations.clear()


@pytest.fixture
def dynamodb_calls(aws: AwsEnv) -> DynamoCalls:
    """Every DynamoDB API call made through the PynamoDB models' botocore clients."""
    from inference_core.auth.deps import get_auth_settings
    from inference_core.db.models import ApiKeyModel, SessionModel, UserModel

    get_auth_settings()  # bind the models before hooking their clients
    calls = DynamoCalls()
    seen: set[int] = set()
    for model in (UserModel, ApiKeyModel, SessionModel):
        client = model._get_connection().connection.client
        if id(client) not in seen:
            seen.add(id(client))
            client.meta.events.register("before-call.dynamodb", calls)
    return calls


# ---- users ----


@dataclass
class Account:
    email: str
    password: str
    access_token: str
    refresh_token: str
    user_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def token_from_mail(message: dict[str, Any]) -> str:
    return parse_qs(urlsplit(message["context"]["link"]).query)["token"][0]


@pytest.fixture
def auth_service(aws: AwsEnv) -> Any:
    from inference_core.auth.deps import (
        get_api_keys_repo,
        get_auth_settings,
        get_sessions_repo,
        get_users_repo,
    )
    from inference_core.auth.service import AuthService

    return AuthService(
        settings=get_auth_settings(),
        users=get_users_repo(),
        keys=get_api_keys_repo(),
        sessions=get_sessions_repo(),
        min_response_seconds=0,
    )


@pytest.fixture
def make_account(client: TestClient, auth_service: Any) -> Callable[..., Account]:
    """Create a user directly (no mail, no response floor) and sign them in over HTTP."""
    counter = iter(range(10_000))

    def make(
        email: str | None = None, *, superuser: bool = False, rpm_limit: int | None = None
    ) -> Account:
        email = email or f"user{next(counter)}@example.com"
        user = auth_service.create_user(email, PASSWORD, superuser=superuser, rpm_limit=rpm_limit)
        response = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        body = response.json()
        return Account(email, PASSWORD, body["access_token"], body["refresh_token"], user.user_id)

    return make
