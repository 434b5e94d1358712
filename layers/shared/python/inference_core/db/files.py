"""File metadata in DynamoDB (the bodies are S3 objects): the only module that touches it."""

from __future__ import annotations

from inference_core.db.availability import StoreGuard
from inference_core.db.batch_models import FileModel

_FILE_STORE = StoreGuard("The file store is unavailable.", code="file_store_unavailable")


class FilesRepository:
    def save(self, file: FileModel) -> None:
        """Put (or, for a finalizer's deterministic output ids, overwrite) a file's metadata."""
        with _FILE_STORE:
            file.save()

    def get(self, file_id: str) -> FileModel | None:
        try:
            with _FILE_STORE:
                return FileModel.get(file_id, consistent_read=True)
        except FileModel.DoesNotExist:
            return None

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
        with _FILE_STORE:
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
        return found[:limit], len(found) > limit

    def delete(self, file: FileModel) -> None:
        with _FILE_STORE:
            file.delete()
