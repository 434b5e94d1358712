"""Fixtures of the security suite: the inference suite's scripted upstream (the one stand-in),
DynamoDB fault injection through a botocore event hook, and a live API (uvicorn in a thread) over
a real moto server (DynamoDB serialized, as in `make dev`), for tests that need real concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from tests.factories import free_port, serialized_moto_server
from tests.integration.inference.conftest import ScriptedUpstream, upstream

__all__ = ["DynamoFaults", "LiveApi", "ScriptedUpstream", "dynamo_faults", "live_api", "upstream"]


@dataclass
class DynamoFaults:
    """Answer chosen DynamoDB operations with an AWS error instead of calling DynamoDB.

    A `before-call` handler that returns a response short-circuits botocore's request (and its
    retries), exactly as if DynamoDB had answered that error every time."""

    failing: dict[str, str] = field(default_factory=dict)  # operation → error code
    seen: list[str] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    # (position among the calls since the last clear(), error code): fail that one call only.
    failing_call: tuple[int, str] | None = None

    def fail(self, operation: str, code: str = "ThrottlingException") -> None:
        self.failing[operation] = code

    def fail_call(self, position: int, code: str = "ThrottlingException") -> None:
        self.failing_call = (position, code)

    def clear(self) -> None:
        self.failing.clear()
        self.seen.clear()
        self.injected.clear()
        self.failing_call = None

    def __call__(self, model: Any, **_: Any) -> Any:
        position = len(self.seen)
        self.seen.append(model.name)
        code = self.failing.get(model.name)
        if self.failing_call is not None and self.failing_call[0] == position:
            code = self.failing_call[1]
        if code is None:
            return None
        self.injected.append(model.name)
        from botocore.awsrequest import AWSResponse

        return (
            AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None),
            {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
        )


@pytest.fixture
def dynamo_faults(aws: Any) -> Iterator[DynamoFaults]:
    """Hooks every botocore DynamoDB client the app uses (the PynamoDB models' and any later)."""
    from botocore.session import Session

    faults = DynamoFaults()
    original = Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb", faults)
        return client

    Session.create_client = create_client  # type: ignore[method-assign]
    from inference_core.auth.deps import get_auth_settings
    from inference_core.db.models import ALL_MODELS

    get_auth_settings()
    for model in ALL_MODELS:
        model._connection = None  # the next call builds a client through the hook
    try:
        yield faults
    finally:
        Session.create_client = original  # type: ignore[method-assign]
        for model in ALL_MODELS:
            model._connection = None


@dataclass
class LiveApi:
    base_url: str
    auth_service: Any


@pytest.fixture
def live_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveApi]:
    """The real app under uvicorn (a thread, a free port) over moto's real server (another), its
    DynamoDB requests one at a time as DynamoDB's isolation has them (local/moto_server.py)."""
    import uvicorn

    from inference_core.api.app import create_app
    from inference_core.api.deps import reset_dependencies
    from inference_core.auth.deps import (
        get_api_keys_repo,
        get_auth_settings,
        get_sessions_repo,
        get_users_repo,
    )
    from inference_core.auth.service import AuthService
    from inference_core.db.tables import create_tables
    from inference_core.settings import get_settings

    moto, endpoint = serialized_moto_server()
    monkeypatch.setenv("IC_AWS_ENDPOINT_URL", endpoint)
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
    monkeypatch.setenv("IC_MAIL_QUEUE_URL", sqs.create_queue(QueueName="ic-mail")["QueueUrl"])
    get_settings.cache_clear()
    reset_dependencies()
    create_tables(
        boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint),
        get_settings().tables.model_dump(),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    service = AuthService(
        settings=get_auth_settings(),
        users=get_users_repo(),
        keys=get_api_keys_repo(),
        sessions=get_sessions_repo(),
        min_response_seconds=0,
    )
    try:
        yield LiveApi(f"http://127.0.0.1:{port}", service)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        moto.stop()
        reset_dependencies()
