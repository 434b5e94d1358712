"""The finalizer: a job's output and error files, its final status, and its notifications.

Only the holder of the job's claim (`finalizer_token`, set by one conditional update) runs it, and
its last write is conditional on still holding it. It is idempotent: the files get ids derived
from the job id, so a finalizer that replaces a dead one writes the same files again.

Output lines follow OpenAI's batch output shape:

    {"id": "batch_req_...", "custom_id": "q1",
     "response": {"status_code": 200, "request_id": "req_...", "body": {...chat.completion...}},
     "error": null}

Error-file lines carry `error: {"code", "message"}` (the reason) and, when the request got an HTTP
error, its `response` too; lines that never ran say `batch_cancelled` or `batch_expired`.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from inference_core.batch.files import FileService, derived_file_id
from inference_core.batch.inputs import parse_input
from inference_core.batch.lines import CANCELLED, EXPIRED, OK, LineOutcome, line_request_id
from inference_core.batch.messages import MESSAGE_VERSION, WebhookMessage, encode
from inference_core.batch.queue import OutgoingMessage
from inference_core.batch.storage import file_key
from inference_core.errors import InferenceCoreError
from inference_core.observability import get_logger

if TYPE_CHECKING:
    from inference_core.batch.runtime import BatchRuntime
    from inference_core.db.batch_models import BatchJobModel, BatchLineModel

EVENT_TYPES = {
    "completed": "batch.completed",
    "cancelled": "batch.cancelled",
    "expired": "batch.expired",
    "failed": "batch.failed",
}


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        for line in lines
    )


def event_id(batch_id: str, status: str) -> str:
    return "evt_" + hashlib.sha256(f"{batch_id}:{status}".encode()).hexdigest()[:24]


class Finalizer:
    def __init__(self, runtime: BatchRuntime):
        self.runtime = runtime
        self.files = FileService(runtime)

    def run(self, batch_id: str, token: str) -> BatchJobModel | None:
        """Write the files and complete the job; None if the claim was lost to another.

        If it fails, the claim is given back before the error is raised, so the retried SQS
        message (or the next look at the job) claims it again.
        """
        jobs = self.runtime.jobs
        job = jobs.get(batch_id)
        if job is None or job.status != "finalizing" or job.finalizer_token != token:
            return None
        try:
            return self._finalize(job, token)
        except Exception:
            back_to = "cancelling" if job.cancelling_at else "in_progress"
            try:
                jobs.release_finalizer(batch_id, token, back_to=back_to)
            except Exception:  # the claim goes stale instead (`batch_finalizer_stale_seconds`)
                get_logger().error("finalizer claim not released", extra={"batch_id": batch_id})
            raise

    def _finalize(self, job: BatchJobModel, token: str) -> BatchJobModel | None:
        jobs = self.runtime.jobs
        batch_id = job.batch_id
        recorded = {int(line.index): line for line in jobs.lines(batch_id)}
        total = int(job.total)
        missing = [i for i in range(total) if i not in recorded]
        never_ran = CANCELLED if job.cancelling_at else EXPIRED
        custom_ids = self._custom_ids(job) if missing else {}
        output: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index in range(total):
            line = recorded.get(index)
            if line is None:
                skipped = LineOutcome.skipped(never_ran)
                errors.append(
                    self._error_line(batch_id, index, custom_ids.get(index), skipped.error, None)
                )
            elif line.outcome == OK:
                output.append(self._output_line(batch_id, line))
            else:
                response = None
                if line.status_code:
                    response = {
                        "status_code": int(line.status_code),
                        "request_id": line.request_id,
                        "body": self._body(line),
                    }
                errors.append(
                    self._error_line(batch_id, index, line.custom_id, line.error, response)
                )
        output_file_id = error_file_id = None
        if output:
            output_file_id = derived_file_id(batch_id, "output")
            self.files.store_output(
                job.owner_id,
                file_id=output_file_id,
                batch_id=batch_id,
                filename=f"{batch_id}_output.jsonl",
                data=_jsonl(output),
                line_count=len(output),
            )
        if errors:
            error_file_id = derived_file_id(batch_id, "error")
            self.files.store_output(
                job.owner_id,
                file_id=error_file_id,
                batch_id=batch_id,
                filename=f"{batch_id}_error.jsonl",
                data=_jsonl(errors),
                line_count=len(errors),
            )
        if job.cancelling_at:
            status = "cancelled"
        elif job.expired_lines or missing:
            status = "expired"
        else:
            status = "completed"
        if not jobs.complete(
            batch_id,
            token,
            status=status,
            output_file_id=output_file_id,
            error_file_id=error_file_id,
        ):
            return None
        done = jobs.get(batch_id)
        if done is not None:
            get_logger().info(
                "batch finished",
                extra={
                    "batch_id": batch_id,
                    "status": status,
                    "lines": total,
                    "output_lines": len(output),
                    "error_lines": len(errors),
                },
            )
            self.notify(done)
        return done

    def _custom_ids(self, job: BatchJobModel) -> dict[int, str]:
        """custom_ids of lines that never ran, from the input file (if it still exists)."""
        try:
            data = self.runtime.store.get(file_key(job.input_file_id))
            parsed = parse_input(data, max_lines=int(job.total) + 1, validate_bodies=False)
        except InferenceCoreError:
            return {}
        return {line.index: line.custom_id for line in parsed.lines}

    def _body(self, line: BatchLineModel) -> Any:
        if line.body_s3_key:
            return json.loads(self.runtime.store.get(line.body_s3_key))
        return line.body

    def _output_line(self, batch_id: str, line: BatchLineModel) -> dict[str, Any]:
        return {
            "id": line_request_id(batch_id, int(line.index)),
            "custom_id": line.custom_id,
            "response": {
                "status_code": int(line.status_code or 200),
                "request_id": line.request_id,
                "body": self._body(line),
            },
            "error": None,
        }

    @staticmethod
    def _error_line(
        batch_id: str, index: int, custom_id: str | None, error: Any, response: Any
    ) -> dict[str, Any]:
        return {
            "id": line_request_id(batch_id, index),
            "custom_id": custom_id,
            "response": response,
            "error": error,
        }

    def notify(self, job: BatchJobModel) -> None:
        """Queue the completion webhook and email. Best effort: the job is already final, so a
        failure here is logged, never raised (a retry could not reach this point again)."""
        log = get_logger()
        event_type = EVENT_TYPES.get(job.status)
        if event_type is None:
            return
        if job.webhook_url:
            message = WebhookMessage(
                version=MESSAGE_VERSION,
                type="batch.webhook",
                batch_id=job.batch_id,
                event_id=event_id(job.batch_id, job.status),
                event_type=event_type,
            )
            try:
                self.runtime.queue.send_one(
                    OutgoingMessage(entry_id="w", body=encode(message), message_type=message.type)
                )
            except InferenceCoreError as exc:
                log.error(
                    "batch webhook not queued", extra={"batch_id": job.batch_id, "error": exc.code}
                )
        if job.notify_email and job.email:
            template = (
                "batch_completed" if job.status in ("completed", "cancelled") else "batch_failed"
            )
            context: dict[str, Any] = {
                "batch_id": job.batch_id,
                "request_counts": {
                    "total": int(job.total),
                    "completed": int(job.completed),
                    "failed": int(job.failed),
                },
                "output_file_id": job.output_file_id,
                "error_file_id": job.error_file_id,
            }
            if template == "batch_failed":
                context["reason"] = (
                    "The completion window ended before every request ran."
                    if job.status == "expired"
                    else "The batch could not be processed."
                )
            try:
                self.runtime.mail(
                    template,
                    job.email,
                    context,
                    correlation_id=job.batch_id,
                    settings=self.runtime.settings,
                )
            except Exception as exc:
                log.error(
                    "batch email not queued",
                    extra={"batch_id": job.batch_id, "error": type(exc).__name__},
                )
