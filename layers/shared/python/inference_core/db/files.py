"""File metadata in DynamoDB (the bodies are S3 objects): the only module that touches it."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from inference_core.db.batch_models import FileModel
from inference_core.errors import ServiceUnavailableError


def _unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError("The file store is unavailable.", code="file_store_unavailable")


class FilesRepository:
    def save(self, file: FileModel) -> None:
        """Put (or, for a finalizer's deterministic output ids, overwrite) a file's metadata."""
        try:
            file.save()
        except PynamoDBException as exc:
            raise _unavailable() from exc

    def get(self, file_id: str) -> FileModel | None:
        try:
            return FileModel.get(file_id, consistent_read=True)
        except FileModel.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise _unavailable() from exc

    def list_for_owner(
        self,
        owner_id: str,
        *,
        purpose: str | None,
        cursor: str | None,
        limit: int,
        newest_first: bool,
    ) -> tuple[list[FileModel], bool]:
        """The owner's files past `cursor` (a `list_key`) in the given order; and has_more."""
        condition = None
        if cursor:
            condition = FileModel.list_key < cursor if newest_first else FileModel.list_key > cursor
        filter_condition = FileModel.purpose == purpose if purpose else None
        try:
            query = FileModel.owner_index.query(
                owner_id,
                range_key_condition=condition,
                filter_condition=filter_condition,
                scan_index_forward=not newest_first,
            )
            found = []
            for item in query:
                found.append(item)
                if len(found) > limit:
                    break
        except PynamoDBException as exc:
            raise _unavailable() from exc
        return found[:limit], len(found) > limit

    def delete(self, file: FileModel) -> None:
        try:
            file.delete()
        except PynamoDBException as exc:
            raise _unavailable() from exc
