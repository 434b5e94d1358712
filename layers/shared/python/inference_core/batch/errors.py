"""Batch-specific errors: members of the one hierarchy in `inference_core.errors`."""

from __future__ import annotations

from inference_core.errors import InvalidRequestError


class FileTooLargeError(InvalidRequestError):
    """An upload over the configured size (413, in OpenAI's `invalid_request_error` body)."""

    status_code = 413
    code = "file_too_large"


class InvalidBatchMessageError(InvalidRequestError):
    """A batch-queue message that can never succeed (bad JSON, unknown type, unknown job...).

    The worker moves it to the DLQ at once, with this message as its reason.
    """

    code = "invalid_batch_message"
