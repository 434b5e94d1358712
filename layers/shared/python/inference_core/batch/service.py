"""The Batches API's service, shared by the API and the worker.

(Its request models are in `batch.schemas`, the Batch object in `batch.bodies`, and the signed
ingest door in `webhooks.ingest`.)

Creating a job records it (`validating`), queues its lines with SendMessageBatch (ten a call; a
large job's remainder is queued by the worker in chunks, through `batch.expand` messages) and
moves it to `in_progress`. Lines run in the worker (`batch.worker`); the one that brings the job's
`remaining` count to zero becomes its finalizer (`batch.finalizer`). Cancel moves the job to
`cancelling`: lines not yet run are written as cancelled without reaching a model, finished ones
are kept. The completion window (24h) is enforced on each line; a job still waiting for lines a
grace period after its deadline (or its cancel) is finalized anyway when it is next looked at.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, cast

from inference_core.auth.principal import Principal
from inference_core.batch.errors import InvalidBatchMessageError
from inference_core.batch.files import FileService, derived_file_id
from inference_core.batch.inputs import ENDPOINTS, Endpoint, InputLine, parse_input, to_jsonl
from inference_core.batch.messages import (
    MAX_INLINE_BODY_BYTES,
    MESSAGE_VERSION,
    BodyRef,
    ExpandMessage,
    LineMessage,
    SubmitMessage,
    encode,
)
from inference_core.batch.queue import OutgoingMessage
from inference_core.batch.schemas import InlineJobRequest, check_metadata
from inference_core.batch.storage import file_key
from inference_core.db.batch_models import JOB_SK, BatchJobModel, job_pk, list_key
from inference_core.db.jobs import OPEN_STATES
from inference_core.errors import (
    ConflictError,
    InferenceCoreError,
    InvalidRequestError,
    NotFoundError,
    ServiceUnavailableError,
)
from inference_core.observability import get_logger

if TYPE_CHECKING:
    from inference_core.batch.runtime import BatchRuntime

COMPLETION_WINDOWS = {"24h": 24 * 3600}


def new_batch_id() -> str:
    return "batch_" + uuid.uuid4().hex


def new_token() -> str:
    return uuid.uuid4().hex


def _not_found(batch_id: str) -> NotFoundError:
    return NotFoundError(
        f"No such Batch object: {batch_id[:64]}", code="batch_not_found", param="batch_id"
    )


class BatchService:
    def __init__(self, runtime: BatchRuntime):
        self.runtime = runtime
        self.settings = runtime.settings
        self.jobs = runtime.jobs
        self.files = FileService(runtime)

    # ---- create ----

    def create(
        self,
        owner: Principal,
        *,
        input_file_id: str,
        endpoint: str,
        completion_window: str = "24h",
        metadata: dict[str, str] | None = None,
        source: str = "api",
        batch_id: str | None = None,
        webhook_url: str | None = None,
        notify_email: bool | None = None,
    ) -> BatchJobModel:
        if endpoint not in ENDPOINTS:
            raise InvalidRequestError(
                f"Unsupported endpoint '{endpoint[:64]}'; use one of {', '.join(ENDPOINTS)}.",
                code="invalid_endpoint",
                param="endpoint",
            )
        window = COMPLETION_WINDOWS.get(completion_window)
        if window is None:
            raise InvalidRequestError(
                "completion_window must be '24h'.",
                code="invalid_completion_window",
                param="completion_window",
            )
        check_metadata(metadata)
        file = self.files.get(owner.user_id, input_file_id)
        if file.purpose != "batch":
            raise InvalidRequestError(
                "The input file must have been uploaded with purpose 'batch'.",
                code="invalid_input_file",
                param="input_file_id",
            )
        if file.endpoint != endpoint:
            raise InvalidRequestError(
                f"Every request in the input file must use the url '{endpoint}'.",
                code="mismatched_endpoint",
                param="endpoint",
            )
        if webhook_url is not None:
            self._check_webhook(owner, webhook_url)
        email = owner.email
        if email is None and not owner.is_anonymous:
            user = self.runtime.users.get(owner.user_id)
            email = user.email if user is not None else None
        notify = (
            self.settings.batch.batch_email_notifications if notify_email is None else notify_email
        )
        now = self.runtime.clock()
        batch_id = batch_id or new_batch_id()
        job = BatchJobModel(
            job_pk(batch_id),
            JOB_SK,
            batch_id=batch_id,
            owner_id=owner.user_id,
            list_key=list_key(int(now * 1000), batch_id),
            source=source,
            status="validating",
            endpoint=endpoint,
            input_file_id=input_file_id,
            completion_window=completion_window,
            metadata=metadata,
            created_at=int(now),
            deadline_at=int(now) + window,
            total=int(file.line_count),
            remaining=int(file.line_count),
            key_id=owner.key_id,
            role=owner.role,
            allowed_models=sorted(owner.allowed_models)
            if owner.allowed_models is not None
            else None,
            rpm_limit=owner.rpm_limit,
            email=email,
            notify_email=bool(notify and email),
            webhook_url=webhook_url,
            expires_at=int(now) + self.settings.batch.batch_job_retention_days * 86400,
        )
        lines = self.input_lines(job)
        job.model = next(
            (ln.body["model"] for ln in lines if isinstance(ln.body.get("model"), str)), None
        )
        self.jobs.create(job)
        self.start(job, lines)
        return self.jobs.get(batch_id) or job

    def _check_webhook(self, owner: Principal, url: str) -> None:
        from inference_core.webhooks.signing import master_key

        master_key(self.settings)  # refuses webhooks when no signing secret is configured
        self.runtime.webhooks.check(url)  # refuses private targets now, not at completion

    def start(self, job: BatchJobModel, lines: list[InputLine] | None = None) -> None:
        """Queue the first lines (and an expand message for the rest); → in_progress. A job whose
        lines cannot be queued is marked failed and ServiceUnavailableError is raised."""
        try:
            if lines is None:
                lines = self.input_lines(job)
            end = self.enqueue(job, lines, 0, self.settings.batch.batch_enqueue_inline_lines)
        except InferenceCoreError as exc:
            self.jobs.mark_failed(
                job.batch_id,
                [{"code": exc.code, "message": exc.message, "param": None, "line": None}],
            )
            raise ServiceUnavailableError(
                "The batch could not be queued; it was marked failed. Try again.",
                code="batch_not_queued",
            ) from exc
        self.jobs.mark_in_progress(job.batch_id, enqueued=end)

    def input_lines(self, job: BatchJobModel) -> list[InputLine]:
        data = self.runtime.store.get(file_key(job.input_file_id))
        return parse_input(data, max_lines=int(job.total), validate_bodies=False).lines

    def enqueue(self, job: BatchJobModel, lines: list[InputLine], start: int, count: int) -> int:
        """Queue lines [start, start+count); if more remain, an expand message for them.
        Returns the index after the last line queued."""
        end = min(len(lines), start + max(1, count))
        messages = [self.line_message(job, line) for line in lines[start:end]]
        self.runtime.queue.send(messages)
        if end < len(lines):
            expand = ExpandMessage(
                version=MESSAGE_VERSION, type="batch.expand", batch_id=job.batch_id, start=end
            )
            self.runtime.queue.send_one(
                OutgoingMessage(entry_id="x", body=encode(expand), message_type=expand.type)
            )
        return end

    def line_message(self, job: BatchJobModel, line: InputLine) -> OutgoingMessage:
        message = LineMessage(
            version=MESSAGE_VERSION,
            type="batch.line",
            batch_id=job.batch_id,
            index=line.index,
            custom_id=line.custom_id,
            url=cast(Endpoint, line.url),
            body=line.body,
        )
        body = encode(message)
        if len(body.encode()) > MAX_INLINE_BODY_BYTES:
            message = message.model_copy(
                update={
                    "body": None,
                    "body_ref": BodyRef(
                        file_id=job.input_file_id, offset=line.offset, length=line.length
                    ),
                }
            )
            body = encode(message)
        return OutgoingMessage(entry_id=str(line.index), body=body, message_type=message.type)

    def expand(self, message: ExpandMessage) -> None:
        """Queue the next chunk of a large job (worker); skip it if the job no longer runs."""
        job = self.jobs.get(message.batch_id)
        if job is None or job.status not in OPEN_STATES:
            return
        total = int(job.total)
        if message.start >= total:
            return
        now = self.runtime.clock()
        if job.status == "cancelling" or now > job.deadline_at:
            kind = "cancelled" if job.status == "cancelling" else "expired"
            self.skip_rest(job, total - message.start, kind=kind)
            return
        lines = self.input_lines(job)
        end = self.enqueue(job, lines, message.start, self.settings.batch.batch_expand_chunk_lines)
        self.jobs.set_enqueued(job.batch_id, end)

    def skip_rest(self, job: BatchJobModel, count: int, *, kind: str) -> None:
        """Count `count` never-queued lines as cancelled/expired; finalize if that was all."""
        updated = self.jobs.skip_lines(job.batch_id, count, kind=kind)
        if updated is not None and int(updated.remaining) <= 0:
            self.finish_if_ready(job.batch_id)

    # ---- read ----

    def get(self, owner: Principal, batch_id: str) -> BatchJobModel:
        job = self.jobs.get(batch_id)
        if job is None or job.owner_id != owner.user_id:
            raise _not_found(batch_id)
        return self.settle_if_stuck(job)

    def list(
        self, owner: Principal, *, after: str | None, limit: int
    ) -> tuple[list[BatchJobModel], bool]:
        if not 1 <= limit <= 100:
            raise InvalidRequestError("limit must be between 1 and 100.", param="limit")
        before = None
        if after:
            anchor = self.jobs.get(after)
            if anchor is None or anchor.owner_id != owner.user_id:
                raise _not_found(after)
            before = anchor.list_key
        return self.jobs.list_for_owner(owner.user_id, before_list_key=before, limit=limit)

    # ---- cancel ----

    def cancel(self, owner: Principal, batch_id: str) -> BatchJobModel:
        job = self.get(owner, batch_id)
        if job.status in ("cancelling", "cancelled"):
            return job
        updated = self.jobs.request_cancel(batch_id)
        if updated is None:
            current = self.jobs.get(batch_id) or job
            if current.status in ("cancelling", "cancelled"):
                return current
            raise ConflictError(
                f"Cannot cancel a batch with status '{current.status}'.",
                code="batch_not_cancellable",
            )
        return updated

    # ---- ending ----

    def finish_if_ready(self, batch_id: str) -> BatchJobModel | None:
        """Claim and run the finalizer if every line has an outcome (or a dead finalizer's
        claim went stale); the job after, or None when nothing was to be done."""
        from inference_core.batch.finalizer import Finalizer

        token = new_token()
        if self.jobs.claim_finalizer(batch_id, token):
            return Finalizer(self.runtime).run(batch_id, token)
        stale = int(self.runtime.clock()) - self.settings.batch.batch_finalizer_stale_seconds
        if self.jobs.claim_finalizer(batch_id, token, stale_before=stale):
            get_logger().warning("replacing a stale batch finalizer", extra={"batch_id": batch_id})
            return Finalizer(self.runtime).run(batch_id, token)
        return None

    def settle_if_stuck(self, job: BatchJobModel) -> BatchJobModel:
        """Finalize a job past its deadline (or its cancel) plus the grace period, or whose
        finalizer died; lines that never came are written as expired (or cancelled)."""
        from inference_core.batch.finalizer import Finalizer

        now = int(self.runtime.clock())
        grace = self.settings.batch.batch_stuck_grace_seconds
        token = new_token()
        claimed = False
        if job.status in OPEN_STATES:
            overdue = now > int(job.deadline_at) + grace
            cancel_stuck = job.cancelling_at is not None and now > int(job.cancelling_at) + grace
            if overdue or cancel_stuck:
                claimed = self.jobs.claim_finalizer(
                    job.batch_id, token, overdue_before=now - grace, cancelled_before=now - grace
                )
        elif job.status == "finalizing" and job.finalizing_at is not None:
            stale = now - self.settings.batch.batch_finalizer_stale_seconds
            if int(job.finalizing_at) < stale:
                claimed = self.jobs.claim_finalizer(job.batch_id, token, stale_before=stale)
        if not claimed:
            return job
        get_logger().warning(
            "finalizing a stuck batch", extra={"batch_id": job.batch_id, "status": job.status}
        )
        return (
            Finalizer(self.runtime).run(job.batch_id, token) or self.jobs.get(job.batch_id) or job
        )

    # ---- the inline form and direct submissions ----

    def create_inline(self, owner: Principal, request: InlineJobRequest) -> BatchJobModel:
        limit = self.settings.batch.batch_inline_max_items
        if len(request.items) > limit:
            raise InvalidRequestError(
                f"The inline form takes up to {limit} items; upload a file for more.", param="items"
            )
        lines = [item.to_line() for item in request.items]
        data = to_jsonl(lines)
        self.files.check_size(len(data))
        parsed = parse_input(data, max_lines=self.settings.batch.batch_max_lines)
        endpoint = parsed.endpoint
        if endpoint is None:
            raise InvalidRequestError(
                "Every item of one job must use the same kind of request (messages, prompt or input).",
                code="mismatched_endpoint",
                param="items",
            )
        batch_id = new_batch_id()
        file = self.files.store_input(
            owner.user_id,
            file_id=derived_file_id(batch_id, "input"),
            filename=f"{batch_id}_input.jsonl",
            data=data,
            parsed=parsed,
        )
        return self.create(
            owner,
            input_file_id=file.file_id,
            endpoint=endpoint,
            completion_window=request.completion_window,
            metadata=request.metadata,
            source="inline",
            batch_id=batch_id,
            webhook_url=request.webhook_url,
            notify_email=request.notify_email,
        )

    def account_principal(self, user_id: str, api_key_id: str | None) -> Principal:
        """The principal a direct submission is charged to; InvalidBatchMessageError if none."""
        from inference_core.auth.policy import principal_from_key, principal_from_user

        user = self.runtime.users.get(user_id)
        if user is None or not user.is_active:
            raise InvalidBatchMessageError("the account's user does not exist or is disabled")
        if api_key_id is None:
            return principal_from_user(user, self.settings)
        key = self.runtime.api_keys.find_for_owner(user_id, api_key_id)
        if key is None:
            raise InvalidBatchMessageError("the account's API key does not exist or is revoked")
        principal = principal_from_key(key)
        return Principal(
            user_id=principal.user_id,
            role=principal.role,
            key_id=principal.key_id,
            allowed_models=principal.allowed_models,
            rpm_limit=principal.rpm_limit,
            email=user.email,
        )

    def submit(
        self, message: SubmitMessage, *, batch_id: str, source: str = "sqs"
    ) -> BatchJobModel:
        """Create (or, on a redelivery, resume) the job a direct submission asks for."""
        owner = self.account_principal(message.account.user_id, message.account.api_key_id)
        existing = self.jobs.get(batch_id)
        if existing is not None:
            if existing.owner_id != owner.user_id:
                raise InvalidBatchMessageError("batch_id is already taken")
            if existing.status == "validating":
                self.start(existing)  # an earlier delivery stopped before queueing its lines
            return existing
        if message.requests is not None:
            data = to_jsonl([r.model_dump() for r in message.requests])
        else:
            assert message.input_s3_key is not None
            try:
                data = self.runtime.store.get(message.input_s3_key)
            except NotFoundError:
                raise InvalidBatchMessageError(
                    "input_s3_key does not exist in the files bucket"
                ) from None
        try:
            self.files.check_size(len(data))
            parsed = parse_input(data, max_lines=self.settings.batch.batch_max_lines)
        except InvalidRequestError as exc:
            raise InvalidBatchMessageError(exc.message) from None
        endpoint = message.endpoint or parsed.endpoint
        if endpoint is None:
            raise InvalidBatchMessageError(
                "the requests use different urls; set one endpoint per job"
            )
        file = self.files.store_input(
            owner.user_id,
            file_id=derived_file_id(batch_id, "input"),
            filename=f"{batch_id}_input.jsonl",
            data=data,
            parsed=parsed,
        )
        try:
            return self.create(
                owner,
                input_file_id=file.file_id,
                endpoint=endpoint,
                completion_window=message.completion_window,
                metadata=message.metadata,
                source=source,
                batch_id=batch_id,
                webhook_url=message.webhook_url,
                notify_email=message.notify_email,
            )
        except ConflictError:
            # Created by a concurrent delivery of the same message: resume it like a redelivery.
            return self.submit(message, batch_id=batch_id, source=source)
        except InvalidRequestError as exc:
            raise InvalidBatchMessageError(exc.message) from None
