"""The SageMaker adapter: a real-time endpoint running the Hugging Face TGI / LMI container.

This module is the executor and the error table: `sagemaker-runtime` calls (`invoke_endpoint`, and
`invoke_endpoint_with_response_stream` whose PayloadParts carry SSE `data:` lines, read by a thread
per stream through `providers.aws_runtime`, which Bedrock shares) and botocore's failures mapped
onto ours. The wire format itself (request bodies, responses, stream chunks, embeddings) is
`inference_core.translation.tgi`. Legacy completions are chat with one user message (the base
class default). boto3 is synchronous, so every call runs off the event loop.
"""

from __future__ import annotations

import asyncio
import json
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

from inference_core.canonical import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    Deployment,
    EmbeddingResult,
)
from inference_core.errors import (
    ContextWindowExceededError,
    InferenceCoreError,
    ProviderError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from inference_core.providers.aws_runtime import (
    RuntimeClient,
    StreamCutError,
    StreamOpenError,
    threaded_stream,
)
from inference_core.providers.base import Provider
from inference_core.translation.tgi import (
    ChatStreamState,
    SseDecoder,
    chat_payload,
    load_event,
    parse_chat_response,
    parse_embeddings,
)
from inference_core.upstream_errors import COLD, error_for_status, retry_after_seconds

if TYPE_CHECKING:
    from inference_core.settings import Settings

JSON = "application/json"

# Error codes SageMaker documents as transient ("try your call again").
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalDependencyException",
        "ModelNotReadyException",
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "IncompleteSignature",
    }
)
# SageMaker's answer for an inference component with zero copies ("... has no capacity to
# process this request. ApplicationAutoScaling may be in-progress ...").
_NO_CAPACITY_MESSAGE = re.compile(r"no capacity", re.IGNORECASE)
_CONTEXT_WINDOW_MESSAGE = re.compile(
    r"context (window|length)|maximum context|must be <= \d+", re.IGNORECASE
)


class SageMakerProvider(Provider):
    """Translate to and from a TGI/LMI endpoint; the boto3 client is injected or built lazily."""

    name = "sagemaker"

    def __init__(
        self,
        client: Any | None = None,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        timeout_seconds: float = 60.0,
    ):
        self._runtime = RuntimeClient(
            "sagemaker-runtime",
            client,
            region=region,
            endpoint_url=endpoint_url,
            timeout_seconds=timeout_seconds,
        )

    @classmethod
    def from_settings(cls, settings: Settings, client: Any | None = None) -> SageMakerProvider:
        return cls(
            client,
            region=settings.aws.region,
            endpoint_url=settings.inference.sagemaker_endpoint_url,
            timeout_seconds=settings.inference.upstream_timeout_seconds,
        )

    @property
    def client(self) -> Any:
        """The `sagemaker-runtime` client; built on first use, with SDK retries off."""
        return self._runtime.get()

    # ---- chat ----

    async def chat(self, request: ChatRequest, deployment: Deployment) -> ChatResult:
        raw = await asyncio.to_thread(self._invoke, deployment, chat_payload(request, stream=False))
        return parse_chat_response(raw, request, deployment.model)

    async def chat_stream(
        self, request: ChatRequest, deployment: Deployment
    ) -> AsyncGenerator[ChatChunk, None]:
        payload = chat_payload(request, stream=True)
        decoder = SseDecoder()
        stream = ChatStreamState(request, deployment.model)
        yielded = False
        parts = self._payload_parts(deployment, payload)
        try:
            async for part in parts:
                for data in decoder.feed(part):
                    if data == "[DONE]":
                        stream.done = True
                        break
                    chunk = stream.on_event(
                        load_event(data, deployment.model, retryable=not yielded), yielded
                    )
                    if chunk is not None:
                        yielded = True
                        yield chunk
                if stream.done:
                    break
            else:
                for data in decoder.flush():
                    if data == "[DONE]":
                        stream.done = True
                    else:
                        chunk = stream.on_event(
                            load_event(data, deployment.model, retryable=not yielded), yielded
                        )
                        if chunk is not None:
                            yielded = True
                            yield chunk
        except StreamCutError as exc:
            raise _stream_cut_error(exc.cause, deployment.model, retryable=not yielded) from (
                exc.cause
            )
        finally:
            await parts.aclose()
        for chunk in stream.final_chunks(retryable=not yielded):
            yield chunk

    # ---- embeddings ----

    async def embed(self, inputs: list[str], deployment: Deployment) -> EmbeddingResult:
        raw = await asyncio.to_thread(self._invoke, deployment, {"inputs": inputs})
        return parse_embeddings(raw, inputs, deployment.model)

    def is_configured(self) -> bool:
        # The endpoint name lives in the registry and credentials resolve lazily: nothing to check
        # without a network call.
        return True

    # ---- the one executor ----

    def _invoke(self, deployment: Deployment, payload: dict[str, Any]) -> bytes:
        """`invoke_endpoint` and read its body (blocking: called through `asyncio.to_thread`)."""
        endpoint = deployment.model
        try:
            response = self.client.invoke_endpoint(
                **_target(deployment),
                Body=json.dumps(payload).encode(),
                ContentType=JSON,
                Accept=JSON,
            )
            return bytes(response["Body"].read())
        except (BotoCoreError, ClientError) as exc:
            raise map_sagemaker_error(exc, endpoint) from exc

    async def _payload_parts(
        self, deployment: Deployment, payload: dict[str, Any]
    ) -> AsyncGenerator[bytes, None]:
        """The PayloadPart bytes of a response stream (read by a thread of its own); closing
        this iterator closes the HTTP stream."""
        endpoint = deployment.model

        def open_stream() -> Any:
            response = self.client.invoke_endpoint_with_response_stream(
                **_target(deployment),
                Body=json.dumps(payload).encode(),
                ContentType=JSON,
                Accept="text/event-stream",
            )
            return response["Body"]

        events = threaded_stream(open_stream, thread_name=f"sagemaker-stream-{endpoint}")
        try:
            async for event in events:
                part = event.get("PayloadPart")
                if part is not None:
                    yield bytes(part.get("Bytes", b""))
        except StreamOpenError as failed:
            if isinstance(failed.cause, (BotoCoreError, ClientError)):
                raise map_sagemaker_error(failed.cause, endpoint) from failed.cause
            raise UpstreamBadResponseError(
                f"SageMaker endpoint {endpoint!r} could not be invoked", provider="sagemaker"
            ) from failed.cause
        finally:
            await events.aclose()


# ---- errors: botocore's → ours ----


def map_sagemaker_error(exc: Exception, endpoint: str) -> InferenceCoreError:
    """Classify a botocore failure for the router. Upstream messages are not passed on: they can
    name the AWS account or echo the request.

    A `ModelError` is the container's own HTTP answer, wrapped by SageMaker: its original status
    goes through the same table as every other provider's (so a 4xx verdict on the request is
    `REQUEST_REJECTED` and raised at once, a 429/503 is retried), except that a prompt too long
    for the model becomes the client's 400. SageMaker's own errors are about the deployment:
    throttling and faults are retried, anything else moves on to the next deployment.
    """
    where = f"SageMaker endpoint {endpoint!r}"
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        metadata = exc.response.get("ResponseMetadata", {})
        status = int(metadata.get("HTTPStatusCode") or 0)
        retry_after = retry_after_seconds(metadata.get("HTTPHeaders"))
        if code == "ModelError":
            original = int(str(exc.response.get("OriginalStatusCode") or 0))
            original_message = str(exc.response.get("OriginalMessage") or "")
            if original in (400, 413, 422) and _CONTEXT_WINDOW_MESSAGE.search(original_message):
                return ContextWindowExceededError(
                    "The request does not fit the model's context window; "
                    "shorten the messages or lower max_tokens.",
                    param="messages",
                )
            if original >= 400:
                return error_for_status(original, provider="sagemaker", retry_after=retry_after)
            return UpstreamBadResponseError(
                f"The model behind {where} failed the request.", provider="sagemaker"
            )
        if code == "ModelNotReadyException" or (
            code in ("ValidationError", "ValidationException")
            and _NO_CAPACITY_MESSAGE.search(str(exc.response.get("Error", {}).get("Message", "")))
        ):
            # No copy of the model yet (an inference component scaled to zero, or still loading):
            # the router moves on at once and probes again later; the call itself is what makes
            # SageMaker's NoCapacityInvocationFailures alarm scale the component up.
            return UpstreamUnavailableError(
                f"{where} has no copy of its model ready yet (scaling up).",
                retryable=True,
                retry_after=retry_after,
                provider="sagemaker",
                code=COLD,
            )
        if code == "ThrottlingException":
            return UpstreamUnavailableError(
                f"{where} is throttling requests.",
                retryable=True,
                retry_after=retry_after,
                provider="sagemaker",
                code="upstream_rate_limited",
            )
        if code in _TRANSIENT_CODES or status >= 500 or status == 429:
            return UpstreamUnavailableError(
                f"{where} is unavailable ({code or status}).",
                retryable=True,
                retry_after=retry_after,
                provider="sagemaker",
            )
        if code in _CREDENTIAL_CODES or status in (401, 403):
            return UpstreamBadResponseError(
                f"AWS rejected the gateway's credentials for {where} ({code or status}).",
                provider="sagemaker",
                code="upstream_credentials_rejected",
            )
        return UpstreamBadResponseError(
            f"{where} refused the call ({code or status}).", provider="sagemaker"
        )
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)):
        return UpstreamTimeoutError(f"{where} timed out.", retryable=True, provider="sagemaker")
    if isinstance(exc, (EndpointConnectionError, HTTPClientError)):
        return UpstreamUnavailableError(
            f"{where} could not be reached.", retryable=True, provider="sagemaker"
        )
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ProviderError(
            "No AWS credentials are configured for SageMaker.",
            provider="sagemaker",
            code="provider_not_configured",
        )
    return UpstreamBadResponseError(f"{where} could not be invoked.", provider="sagemaker")


def _stream_cut_error(cause: BaseException, endpoint: str, *, retryable: bool) -> ProviderError:
    where = f"the stream from SageMaker endpoint {endpoint!r}"
    if isinstance(cause, (ReadTimeoutError, SocketReadTimeoutError)):
        # botocore's, or urllib3's: the event-stream reader reads the raw HTTP response.
        return UpstreamTimeoutError(f"{where} stalled", retryable=retryable, provider="sagemaker")
    if isinstance(cause, ClientError):  # EventStreamError: ModelStreamError, InternalStreamFailure
        code = cause.response.get("Error", {}).get("Code") or "error"
        return UpstreamBadResponseError(
            f"{where} failed ({code})", retryable=retryable, provider="sagemaker"
        )
    return UpstreamBadResponseError(f"{where} was cut", retryable=retryable, provider="sagemaker")


# ---- small pieces ----


def _target(deployment: Deployment) -> dict[str, str]:
    """The endpoint, and the inference component on it when the deployment names one."""
    target = {"EndpointName": deployment.model}
    if deployment.inference_component:
        target["InferenceComponentName"] = deployment.inference_component
    return target
