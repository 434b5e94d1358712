"""Powertools' idempotency utility, for async work: at most one execution per key.

`idempotent_function` wraps synchronous functions only, and a line's work is a coroutine on the
worker's event loop; so this drives the same persistence layer (`DynamoDBPersistenceLayer` over
the idempotency table) through the steps its own handler takes: put an INPROGRESS record (one
conditional write), run, then store the result (COMPLETED) or delete the record on failure. A
second delivery of the same message finds the COMPLETED record and gets the stored result back
instead of running again; one that arrives while the first still runs is refused (and retried
later by SQS). An INPROGRESS record expires with the Lambda invocation that wrote it, so a crashed
worker does not block its message forever.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from inference_core.errors import ServiceUnavailableError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

KEY_PREFIX = "inference-core.batch"
# Outside Lambda (local pollers, tests) an in-progress record blocks redelivery this long.
DEFAULT_IN_PROGRESS_MILLIS = 5 * 60 * 1000


class AlreadyInProgressError(ServiceUnavailableError):
    """Another delivery of this message is being processed right now (retry later)."""

    code = "already_in_progress"


class AsyncIdempotency:
    def __init__(self, store: BasePersistenceLayer, *, expires_after_seconds: int):
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

        self.store = store
        config = IdempotencyConfig(
            event_key_jmespath="key",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
        )
        store.configure(config, key_prefix=KEY_PREFIX)

    async def begin(self, key: str, *, remaining_millis: int | None) -> dict[str, Any] | None:
        """Claim `key`. Returns None when the caller should run the work, or the result a
        previous execution stored. AlreadyInProgressError if another execution holds it."""
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyItemAlreadyExistsError,
            IdempotencyItemNotFoundError,
        )
        from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import (
            STATUS_CONSTANTS,
        )

        data = {"key": key}
        millis = DEFAULT_IN_PROGRESS_MILLIS if remaining_millis is None else remaining_millis
        for _ in range(3):
            try:
                await asyncio.to_thread(self.store.save_inprogress, data, millis)
                return None
            except IdempotencyItemAlreadyExistsError as exc:
                record = exc.old_data_record
                if record is None:
                    try:
                        record = await asyncio.to_thread(self.store.get_record, data)
                    except IdempotencyItemNotFoundError:
                        continue  # deleted in between: try to claim it again
                    except Exception as inner:
                        raise _store_failed(inner) from inner
                if record is None:
                    continue
                if record.status == STATUS_CONSTANTS["COMPLETED"]:
                    return record.response_json_as_dict() or {}
                if record.status == STATUS_CONSTANTS["INPROGRESS"]:
                    raise AlreadyInProgressError(
                        "Another delivery of this message is in progress."
                    ) from None
                continue  # EXPIRED: the put should now succeed
            except Exception as exc:
                raise _store_failed(exc) from exc
        raise ServiceUnavailableError(
            "The idempotency store gave inconsistent answers.", code="idempotency_store_failed"
        )

    async def finish(self, key: str, result: dict[str, Any]) -> None:
        try:
            await asyncio.to_thread(self.store.save_success, {"key": key}, result)
        except Exception as exc:
            raise _store_failed(exc) from exc

    async def abandon(self, key: str, error: Exception) -> None:
        """Forget the claim so a redelivery runs the work again (after a transient failure)."""
        try:
            await asyncio.to_thread(self.store.delete_record, {"key": key}, error)
        except Exception as exc:
            raise _store_failed(exc) from exc


def _store_failed(exc: Exception) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        f"The idempotency store failed ({type(exc).__name__}).", code="idempotency_store_failed"
    )
