"""`db/availability.py`: every repository's store failures become one 503, with a `Retry-After`
when DynamoDB throttles or cannot be reached; a missing item and a failed condition stay answers."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pynamodb.exceptions import DoesNotExist, GetError, PutError, QueryError, UpdateError

from inference_core.api.errors import install_error_handlers
from inference_core.db.availability import StoreGuard
from inference_core.db.models import UserModel
from inference_core.db.sessions import SessionsRepository
from inference_core.db.users import UsersRepository
from inference_core.errors import ConflictError, ServiceUnavailableError

GUARD = StoreGuard("The thing store is unavailable.", code="thing_store_unavailable")


def client_error(code: str, operation: str = "PutItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "refused"}}, operation)


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_throttling_is_a_503_that_says_when_to_retry(code: str) -> None:
    cause = PutError("Failed to put item", client_error(code))
    with pytest.raises(ServiceUnavailableError) as caught, GUARD:
        raise cause

    assert caught.value.message == "The thing store is unavailable."
    assert caught.value.code == "thing_store_unavailable"
    assert caught.value.retry_after == 1
    assert caught.value.__cause__ is cause


@pytest.mark.parametrize(
    "cause",
    [
        QueryError("Failed", EndpointConnectionError(endpoint_url="http://dynamodb")),
        GetError("Failed", ReadTimeoutError(endpoint_url="http://dynamodb")),
        EndpointConnectionError(endpoint_url="http://dynamodb"),  # a raw boto3 client call
    ],
)
def test_an_unreachable_store_is_a_503_that_says_when_to_retry(cause: Exception) -> None:
    with pytest.raises(ServiceUnavailableError) as caught, GUARD:
        raise cause

    assert caught.value.retry_after == 2


def test_any_other_store_failure_is_a_503_without_a_retry_hint() -> None:
    with pytest.raises(ServiceUnavailableError) as caught, GUARD:
        raise PutError("Failed", client_error("ValidationException"))

    assert caught.value.retry_after is None


def test_a_failed_condition_is_an_outage_unless_the_guard_lets_it_through() -> None:
    refused = UpdateError("Failed", client_error("ConditionalCheckFailedException", "UpdateItem"))
    with pytest.raises(ServiceUnavailableError), GUARD:
        raise refused
    with pytest.raises(UpdateError) as caught, GUARD.passing_condition_failures():
        raise refused

    assert caught.value is refused


def test_a_missing_item_and_our_own_errors_pass_through_untouched() -> None:
    with pytest.raises(DoesNotExist), GUARD:
        raise UserModel.DoesNotExist()
    with pytest.raises(ConflictError), GUARD:
        raise ConflictError("taken")


def test_a_throttled_repository_read_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    def throttled(*_args: Any, **_kwargs: Any) -> Any:
        raise GetError("Failed", client_error("ProvisionedThroughputExceededException", "GetItem"))

    monkeypatch.setattr(UserModel, "get", throttled)

    with pytest.raises(ServiceUnavailableError) as caught:
        UsersRepository().get("u-1")

    assert (caught.value.message, caught.value.retry_after) == ("The user store is unavailable.", 1)


def test_a_consumed_one_time_token_is_none_not_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    from inference_core.db.models import SessionModel

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise UpdateError("Failed", client_error("ConditionalCheckFailedException", "UpdateItem"))

    monkeypatch.setattr(SessionModel, "update", refused)

    assert SessionsRepository().consume_one_time_token("hash", purpose="reset") is None


def test_the_api_sends_retry_after_with_the_503() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/v1/models")
    def models() -> None:
        with GUARD:
            raise QueryError("Failed", client_error("ThrottlingException", "Query"))

    @app.get("/v1/files")
    def files() -> None:
        with GUARD:
            raise QueryError("Failed", client_error("ValidationException", "Query"))

    client = TestClient(app)
    throttled = client.get("/v1/models")
    broken = client.get("/v1/files")

    assert throttled.status_code == 503
    assert throttled.headers["retry-after"] == "1"
    assert throttled.json()["error"]["code"] == "thing_store_unavailable"
    assert broken.status_code == 503
    assert "retry-after" not in broken.headers
