"""The one exception hierarchy of Inference Core.

Every error a client can see is an `InferenceCoreError` with an HTTP status, an OpenAI-style
`type` and a stable `code`; `api/errors.py` maps them to each wire format (OpenAI, Anthropic, our
own) in one table, and the workers map them to retry-or-fail once. Foreign errors (provider SDKs,
botocore) are wrapped at the boundary where they enter with `raise ... from exc`.

    InferenceCoreError
    ├── InvalidRequestError        400  bad input; never reaches a provider
    │   ├── ContextWindowExceededError
    │   ├── PayloadTooLargeError   413  the body is over the configured size
    │   └── GuardrailBlockedError  400  a guardrail check in `block` mode fired (names the check)
    ├── AuthenticationError        401  missing, malformed, expired or revoked credentials
    ├── PermissionDeniedError      403  authenticated, but not allowed
    ├── NotFoundError              404  unknown model, key, session... (or not yours)
    ├── ConflictError              409  e.g. the email is taken (only where it leaks nothing)
    ├── RateLimitError             429  carries `retry_after` seconds (and the level and limit)
    │   └── BudgetExceededError    429  `insufficient_quota`: a budget is spent
    ├── ProviderError              an upstream failed; `retryable` tells the router what to do
    │   ├── UpstreamBadResponseError   502
    │   │   └── ModelOutputError       502  a text operation's answer did not fit its schema
    │   ├── UpstreamUnavailableError   503
    │   └── UpstreamTimeoutError       504
    └── ServiceUnavailableError    503  our own dependencies (DynamoDB, SQS) are failing; may carry
                                        `retry_after` (throttled or unreachable: see db/availability.py)
"""

from __future__ import annotations


class InferenceCoreError(Exception):
    status_code: int = 500
    error_type: str = "api_error"
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param


class InvalidRequestError(InferenceCoreError):
    status_code = 400
    error_type = "invalid_request_error"
    code = "invalid_request"


class ContextWindowExceededError(InvalidRequestError):
    code = "context_length_exceeded"


class PayloadTooLargeError(InvalidRequestError):
    status_code = 413
    code = "request_too_large"


class GuardrailBlockedError(InvalidRequestError):
    """Names the checks that fired, never the text they matched."""

    code = "guardrail_blocked"

    def __init__(self, message: str, *, checks: list[str]):
        super().__init__(message)
        self.checks = checks


class AuthenticationError(InferenceCoreError):
    status_code = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class PermissionDeniedError(InferenceCoreError):
    status_code = 403
    error_type = "permission_error"
    code = "permission_denied"


class NotFoundError(InferenceCoreError):
    status_code = 404
    error_type = "not_found_error"
    code = "not_found"


class ConflictError(InferenceCoreError):
    status_code = 409
    error_type = "conflict_error"
    code = "conflict"


class RateLimitError(InferenceCoreError):
    status_code = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(
        self,
        message: str,
        *,
        retry_after: int,
        code: str | None = None,
        level: str | None = None,
        limit: str | None = None,
    ):
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after))
        self.level = level  # "key" | "user" | "team" (None: not a governance limit)
        self.limit = limit  # e.g. "rpm_limit", "max_budget_usd"


class BudgetExceededError(RateLimitError):
    """A budget (`max_budget_usd` for its period) cannot cover the request: final until the period
    ends or the budget is raised (a batch line fails with it instead of waiting)."""

    code = "insufficient_quota"


class ProviderError(InferenceCoreError):
    """An upstream model provider failed. The message never carries provider credentials."""

    status_code = 502
    error_type = "api_error"
    code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        provider: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message, code=code)
        self.retryable = retryable
        self.retry_after = retry_after
        self.provider = provider


class UpstreamBadResponseError(ProviderError):
    status_code = 502
    code = "upstream_bad_response"


class ModelOutputError(UpstreamBadResponseError):
    """The model answered, but not in the shape the operation needs (after one repair attempt)."""

    code = "model_output_invalid"


class UpstreamUnavailableError(ProviderError):
    status_code = 503
    error_type = "overloaded_error"
    code = "upstream_unavailable"


class UpstreamTimeoutError(ProviderError):
    status_code = 504
    error_type = "timeout_error"
    code = "upstream_timeout"


class ServiceUnavailableError(InferenceCoreError):
    status_code = 503
    error_type = "overloaded_error"
    code = "service_unavailable"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message, code=code, param=param)
        self.retry_after = None if retry_after is None else max(1, int(retry_after))
