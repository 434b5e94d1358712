"""One line of a batch, through the same inference service as the API, as the job's creator.

`run_line` returns the OpenAI-shaped body for the line's endpoint or raises one of our errors;
`classify` says whether an error is worth another try (through SQS) or final for that line.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from inference_core.auth.principal import Principal
from inference_core.batch.inputs import validate_body
from inference_core.batch.storage import file_key
from inference_core.errors import (
    AuthenticationError,
    BudgetExceededError,
    ConflictError,
    InferenceCoreError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
)
from inference_core.openai_bodies import chat_completion_body, completion_body, embedding_body
from inference_core.schemas.openai import (
    ChatCompletionRequest,
    CompletionCreateRequest,
    EmbeddingCreateRequest,
)
from inference_core.upstream_errors import REQUEST_REJECTED

if TYPE_CHECKING:
    from inference_core.batch.messages import LineMessage
    from inference_core.batch.runtime import BatchRuntime
    from inference_core.db.batch_models import BatchJobModel

# Outcomes of a line; only "ok" lines go to the output file.
OK, ERROR, CANCELLED, EXPIRED = "ok", "error", "cancelled", "expired"


@dataclass
class LineOutcome:
    kind: str
    status_code: int | None = None
    request_id: str | None = None
    body: dict[str, Any] | None = None
    body_s3_key: str | None = None  # a body too large for DynamoDB items lives in S3
    error: dict[str, Any] | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> LineOutcome:
        fields = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**fields)

    @classmethod
    def failure(cls, exc: Exception) -> LineOutcome:
        if isinstance(exc, InferenceCoreError):
            status, code, message, kind = exc.status_code, exc.code, exc.message, exc.error_type
            param = exc.param
        else:
            status, code, kind, param = 500, "internal_error", "api_error", None
            message = f"The line could not be processed ({type(exc).__name__})."
        return cls(
            kind=ERROR,
            status_code=status,
            request_id=f"req_{uuid.uuid4().hex}",
            body={"error": {"message": message, "type": kind, "param": param, "code": code}},
            error={"code": code, "message": message},
        )

    @classmethod
    def skipped(cls, kind: str) -> LineOutcome:
        if kind == CANCELLED:
            error = {
                "code": "batch_cancelled",
                "message": "The batch was cancelled before this request ran.",
            }
        else:
            error = {
                "code": "batch_expired",
                "message": "This request was not run before the completion window expired.",
            }
        return cls(kind=kind, error=error)


def is_permanent(exc: BaseException) -> bool:
    """True when another try cannot help: the request itself is refused, a budget is spent, or
    the key is revoked or its user deactivated (AuthenticationError)."""
    if isinstance(exc, BudgetExceededError):
        return True
    if isinstance(
        exc,
        InvalidRequestError
        | NotFoundError
        | PermissionDeniedError
        | AuthenticationError
        | ConflictError,
    ):
        return True
    return isinstance(exc, ProviderError) and exc.code == REQUEST_REJECTED


def waits_for_capacity(exc: BaseException) -> bool:
    """A request, token or parallel-request limit: the line waits and runs later (not a failure,
    and not one of its limited receives)."""
    return isinstance(exc, RateLimitError) and not isinstance(exc, BudgetExceededError)


def job_principal(job: BatchJobModel) -> Principal:
    """The creator of the job, as the lines run (and are charged)."""
    return Principal(
        user_id=job.owner_id,
        role=job.role,
        key_id=job.key_id,
        allowed_models=None
        if job.allowed_models is None
        else frozenset(str(m) for m in job.allowed_models),
        rpm_limit=int(job.rpm_limit or 0),
        email=job.email,
    )


async def with_guardrail_policies(service: Any, principal: Principal) -> Principal:
    """The job's principal with its team and the team's and key's guardrail policies, from the
    governance resolution the line's admission reads next anyway (cached: no extra call)."""
    governance = getattr(service, "governance", None)
    if governance is None:
        return principal
    import asyncio
    import dataclasses

    resolution = await asyncio.to_thread(governance.resolve, principal)
    if resolution is None:
        return principal
    return dataclasses.replace(
        principal,
        team_id=resolution.team_id,
        team_guardrails=resolution.team_guardrails,
        guardrails=resolution.key_guardrails,
    )


def line_cache_key(service: Any, job: BatchJobModel, message: LineMessage) -> str | None:
    """The response-cache key the service will look up for this line (None: no cache read, or
    not knowable without running it: a body by reference, an invalid one, embeddings). A
    guardrail that redacts the prompt changes the key: that line's read then misses the
    prefetch and reads for itself."""
    if message.body is None:
        return None
    try:
        request = validate_body(message.url, message.body)
        if isinstance(request, ChatCompletionRequest):
            canonical: Any = request.to_chat_request()
        elif isinstance(request, CompletionCreateRequest):
            canonical = request.to_completion_request()
        else:
            return None
        alias = service.registry.resolve(request.model).alias
    except InferenceCoreError:
        return None
    return str(service.cache_key(job_principal(job).tenant_id, alias, canonical))


def line_request_id(batch_id: str, index: int) -> str:
    return "batch_req_" + hashlib.sha256(f"{batch_id}:{index}".encode()).hexdigest()[:24]


async def line_body(runtime: BatchRuntime, message: LineMessage) -> dict[str, Any]:
    if message.body is not None:
        return message.body
    if message.body_ref is None:
        raise InvalidRequestError("The line carries no body.", code="invalid_line")
    import asyncio

    ref = message.body_ref
    raw = await asyncio.to_thread(
        runtime.store.get, file_key(ref.file_id), byte_range=(ref.offset, ref.offset + ref.length)
    )
    try:
        payload = json.loads(raw)
    except ValueError:
        raise InvalidRequestError(
            "The line in the input file is not valid JSON.", code="invalid_line"
        ) from None
    body = payload.get("body") if isinstance(payload, dict) else None
    if not isinstance(body, dict):
        raise InvalidRequestError("The line in the input file has no body.", code="invalid_line")
    return body


async def run_line(runtime: BatchRuntime, job: BatchJobModel, message: LineMessage) -> LineOutcome:
    """Call the model for one line; raises our errors (the caller classifies them)."""
    body = await line_body(runtime, message)
    request = validate_body(message.url, body)
    service = runtime.inference()
    principal = await with_guardrail_policies(service, job_principal(job))
    request_id = f"{message.batch_id}-{message.index}"
    created = int(time.time())
    response_id = f"req_{uuid.uuid4().hex}"
    if isinstance(request, ChatCompletionRequest):
        outcome = await service.chat(
            principal,
            request.to_chat_request(),
            model=request.model,
            endpoint="batch.chat.completions",
            request_id=request_id,
        )
        payload = chat_completion_body(
            outcome.result, outcome.model, f"chatcmpl-{uuid.uuid4().hex}", created
        )
        tokens = outcome.result.usage
    elif isinstance(request, CompletionCreateRequest):
        outcome = await service.chat(
            principal,
            request.to_completion_request(),
            model=request.model,
            endpoint="batch.completions",
            request_id=request_id,
        )
        payload = completion_body(
            outcome.result, outcome.model, f"cmpl-{uuid.uuid4().hex}", created
        )
        tokens = outcome.result.usage
    else:
        assert isinstance(request, EmbeddingCreateRequest)
        embedded = await service.embed(
            principal,
            request.inputs,
            model=request.model,
            endpoint="batch.embeddings",
            request_id=request_id,
        )
        payload = embedding_body(
            embedded.result,
            embedded.model,
            dimensions=request.dimensions,
            encoding_format=request.encoding_format,
        )
        tokens = embedded.result.usage
    return LineOutcome(
        kind=OK,
        status_code=200,
        request_id=response_id,
        body=payload,
        input_tokens=tokens.input_tokens,
        output_tokens=tokens.output_tokens,
    )
