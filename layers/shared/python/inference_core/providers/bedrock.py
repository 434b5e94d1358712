"""The Amazon Bedrock provider: chat through the Converse and ConverseStream APIs.

The boto3 `bedrock-runtime` client is injected or built lazily with the function's own IAM role
(no keys; SDK retries off, the router owns the one retry loop); `deployment.model` is a model id,
an inference profile id or an ARN. The wire format is `inference_core.translation.bedrock`; this
module runs it on the executor it shares with SageMaker (`providers.aws_runtime`: one thread per
stream) and holds Bedrock's error table. Embeddings are not offered (the base refusal).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from urllib3.exceptions import ReadTimeoutError as SocketReadTimeoutError

from inference_core.canonical import ChatChunk, ChatRequest, ChatResult, Deployment
from inference_core.errors import (
    ContextWindowExceededError,
    InferenceCoreError,
    ProviderError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
)
from inference_core.providers.aws_runtime import (
    RuntimeClient,
    StreamCutError,
    StreamOpenError,
    threaded_stream,
)
from inference_core.providers.base import Provider
from inference_core.translation.bedrock import (
    PROVIDER,
    ConverseStreamState,
    chat_result,
    converse_request,
)
from inference_core.upstream_errors import error_for_status, retry_after_seconds

if TYPE_CHECKING:
    from inference_core.settings import Settings

# Bedrock's documented HTTP status for each error code (Converse / ConverseStream API reference);
# the status then goes through the table every provider shares.
ERROR_STATUS = {
    "ThrottlingException": 429,
    "ServiceQuotaExceededException": 429,
    "ModelNotReadyException": 503,
    "ServiceUnavailableException": 503,
    "InternalServerException": 500,
    "ModelStreamErrorException": 502,
    "ModelErrorException": 502,
    "ModelTimeoutException": 408,
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "ExpiredTokenException": 403,
    "ResourceNotFoundException": 404,
}
_CONTEXT_WINDOW = re.compile(
    r"too long|context (window|length)|maximum (context|input)|too many (input )?tokens",
    re.IGNORECASE,
)


class BedrockProvider(Provider):
    """Bedrock's Converse API, spoken through our OpenAI-shaped types."""

    name = PROVIDER

    def __init__(
        self,
        client: Any | None = None,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        timeout_seconds: float = 60.0,
    ):
        self._runtime = RuntimeClient(
            "bedrock-runtime",
            client,
            region=region,
            endpoint_url=endpoint_url,
            timeout_seconds=timeout_seconds,
        )

    @classmethod
    def from_settings(cls, settings: Settings, client: Any | None = None) -> BedrockProvider:
        return cls(
            client,
            region=settings.inference.bedrock_region or settings.aws.region,
            endpoint_url=settings.inference.bedrock_endpoint_url,
            timeout_seconds=settings.inference.upstream_timeout_seconds,
        )

    @property
    def client(self) -> Any:
        """The `bedrock-runtime` client; built on first use, with SDK retries off."""
        return self._runtime.get()

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        kwargs = converse_request(request, deployment.model)
        response = await asyncio.to_thread(self._converse, deployment.model, kwargs)
        return chat_result(response, deployment.model)

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncGenerator[ChatChunk, None]:
        kwargs = converse_request(request, deployment.model)
        state = ConverseStreamState(deployment.model)
        yielded = False
        events = threaded_stream(
            lambda: self.client.converse_stream(**kwargs)["stream"],
            thread_name=f"bedrock-stream-{deployment.model}",
        )
        try:
            async for event in events:
                chunk = state.on_event(event, retryable=not yielded)
                if chunk is not None:
                    yielded = True
                    yield chunk
        except StreamOpenError as failed:
            if isinstance(failed.cause, (BotoCoreError, ClientError)):
                raise bedrock_error(failed.cause, deployment.model) from None
            raise UpstreamBadResponseError(
                f"Bedrock model {deployment.model!r} could not be invoked", provider=PROVIDER
            ) from failed.cause
        except StreamCutError as cut:
            raise _stream_cut_error(cut.cause, deployment.model, retryable=not yielded) from None
        finally:
            await events.aclose()
        yield state.final_chunk(retryable=not yielded)

    def is_configured(self) -> bool:
        # The IAM role's credentials resolve lazily: nothing to check without a network call.
        return True

    # ---- the one executor ----

    def _converse(self, model_id: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self.client.converse(**kwargs))
        except (BotoCoreError, ClientError) as exc:
            raise bedrock_error(exc, model_id) from None


def bedrock_error(
    exc: BaseException, model_id: str, *, retryable: bool = True
) -> InferenceCoreError:
    """Our error for a botocore failure. Bedrock's messages are not passed on (they can echo the
    request or name the account); `retryable=False` once a stream has reached the client.

    Chained with `from None` by the callers: a ClientError's text carries Bedrock's message.
    """
    where = f"Bedrock model {model_id!r}"
    if isinstance(exc, ClientError):  # EventStreamError (mid-stream) is one too
        code = str(exc.response.get("Error", {}).get("Code", ""))
        code = code[:1].upper() + code[1:]  # stream events spell them `throttlingException`
        metadata = exc.response.get("ResponseMetadata", {})
        status = ERROR_STATUS.get(code) or int(metadata.get("HTTPStatusCode") or 0) or 502
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if code == "ValidationException" and _CONTEXT_WINDOW.search(message):
            return ContextWindowExceededError(
                "The request does not fit the model's context window; "
                "shorten the messages or lower max_tokens.",
                param="messages",
            )
        error = error_for_status(
            status, provider=PROVIDER, retry_after=retry_after_seconds(metadata.get("HTTPHeaders"))
        )
    elif isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)):
        error = UpstreamTimeoutError(f"{where} timed out.", retryable=True, provider=PROVIDER)
    elif isinstance(exc, (EndpointConnectionError, HTTPClientError)):
        error = error_for_status(503, provider=PROVIDER)
    elif isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ProviderError(
            "No AWS credentials are configured for Bedrock.",
            provider=PROVIDER,
            code="provider_not_configured",
        )
    else:
        error = UpstreamBadResponseError(f"{where} could not be invoked.", provider=PROVIDER)
    if isinstance(error, ProviderError) and not retryable:
        error.retryable = False
    return error


def _stream_cut_error(
    cause: BaseException, model_id: str, *, retryable: bool
) -> InferenceCoreError:
    """A stream that broke after it opened: an error event (a ClientError) goes through the
    table; a stalled or reset connection is a timeout or a cut stream."""
    if isinstance(cause, (BotoCoreError, ClientError)):
        return bedrock_error(cause, model_id, retryable=retryable)
    where = f"The Bedrock stream for {model_id!r}"
    if isinstance(cause, SocketReadTimeoutError):
        return UpstreamTimeoutError(f"{where} stalled.", retryable=retryable, provider=PROVIDER)
    return UpstreamBadResponseError(f"{where} was cut.", retryable=retryable, provider=PROVIDER)
