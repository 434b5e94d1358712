"""The Batches API's response bodies: a job as OpenAI's Batch object (the API and the webhooks
send the same shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inference_core.db.batch_models import BatchJobModel


def batch_object(job: BatchJobModel) -> dict[str, Any]:
    """A job as OpenAI's Batch object."""

    def ts(value: Any) -> int | None:
        return int(value) if value is not None else None

    input_tokens, output_tokens = int(job.input_tokens or 0), int(job.output_tokens or 0)
    return {
        "id": job.batch_id,
        "object": "batch",
        "endpoint": job.endpoint,
        "model": job.model,
        "errors": {"object": "list", "data": job.errors} if job.errors else None,
        "input_file_id": job.input_file_id,
        "completion_window": job.completion_window,
        "status": job.status,
        "output_file_id": job.output_file_id,
        "error_file_id": job.error_file_id,
        "created_at": int(job.created_at),
        "in_progress_at": ts(job.in_progress_at),
        "expires_at": int(job.deadline_at),
        "finalizing_at": ts(job.finalizing_at),
        "completed_at": ts(job.completed_at),
        "failed_at": ts(job.failed_at),
        "expired_at": ts(job.expired_at),
        "cancelling_at": ts(job.cancelling_at),
        "cancelled_at": ts(job.cancelled_at),
        "request_counts": {
            "total": int(job.total),
            "completed": int(job.completed or 0),
            "failed": int(job.failed or 0),
        },
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "metadata": job.metadata,
    }
