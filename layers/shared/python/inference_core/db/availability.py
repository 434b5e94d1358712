"""The one place where a failing DynamoDB call becomes `ServiceUnavailableError` (a 503).

Every repository wraps its calls in a `StoreGuard` (`with _USERS: ...`) instead of its own
try/except. The guard translates PynamoDB's and botocore's failures, keeping the cause
(`raise ... from exc`); throttling and connection failures carry a `retry_after`, which the API
sends as `Retry-After`. Some outcomes are answers, not failures, and pass through untouched:
`DoesNotExist` (the item is not there) and, for a guard made with `passing_condition_failures()`
(or `passing(...)`), a failed condition: the caller decides what that means (a conflict, a lost
race, "already done").
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pynamodb.exceptions import DoesNotExist, PynamoDBException

from inference_core.errors import ServiceUnavailableError

# DynamoDB's "slow down" codes: the table (or the account) is over its capacity right now.
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)
CONDITION_FAILED_CODES = frozenset({"ConditionalCheckFailedException"})
# Seconds a client should wait: throttling clears within a second or two; a connection failure
# (DynamoDB's endpoint unreachable, a timeout) a little later.
THROTTLED_RETRY_AFTER = 1
CONNECTION_RETRY_AFTER = 2

_CONNECTION_ERRORS = (
    ConnectionError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)


def error_code(exc: BaseException) -> str | None:
    """DynamoDB's error code (`ConditionalCheckFailedException`...) of a PynamoDB or botocore
    error, or None when the call never got an answer."""
    # Not PynamoDB's `cause_response_code`: it fails on a cause whose `response` is None (a
    # botocore timeout).
    cause = exc.cause if isinstance(exc, PynamoDBException) else exc
    if isinstance(cause, ClientError):
        return cause.response.get("Error", {}).get("Code")
    return None


def is_condition_failure(exc: BaseException) -> bool:
    return error_code(exc) in CONDITION_FAILED_CODES


def retry_after_for(exc: BaseException) -> int | None:
    """How long to wait before retrying, for throttling and connection failures; else None."""
    if error_code(exc) in THROTTLING_CODES:
        return THROTTLED_RETRY_AFTER
    cause = exc.cause if isinstance(exc, PynamoDBException) else exc
    if isinstance(cause, _CONNECTION_ERRORS):
        return CONNECTION_RETRY_AFTER
    return None


class StoreGuard:
    """A reusable context manager: store failures inside it leave as `ServiceUnavailableError`
    with this guard's message and code."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        passes: Callable[[BaseException], bool] | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self._passes = passes

    def passing(self, passes: Callable[[BaseException], bool]) -> StoreGuard:
        """The same guard, but the errors `passes` accepts reach the caller as they were raised."""
        return StoreGuard(self.message, code=self.code, passes=passes)

    def passing_condition_failures(self) -> StoreGuard:
        """The same guard, but a failed condition reaches the caller as it was raised."""
        return self.passing(is_condition_failure)

    def unavailable(self, exc: BaseException) -> ServiceUnavailableError:
        return ServiceUnavailableError(
            self.message, code=self.code, retry_after=retry_after_for(exc)
        )

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, DoesNotExist):
            return
        if not isinstance(exc, PynamoDBException | BotoCoreError | ClientError):
            return
        if self._passes is not None and self._passes(exc):
            return
        raise self.unavailable(exc) from exc
