"""The Files API's service: upload (validated batch input), list, retrieve, content, delete.

A file belongs to its creator: anyone else gets the same 404 as for a file that does not exist.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from inference_core.batch.errors import FileTooLargeError
from inference_core.batch.inputs import ParsedInput, parse_input
from inference_core.batch.storage import file_key
from inference_core.db.batch_models import FileModel, list_key
from inference_core.errors import InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    from inference_core.batch.runtime import BatchRuntime

UPLOAD_PURPOSES = ("batch",)
MAX_FILENAME_CHARS = 255
MIN_EXPIRY_SECONDS = 3600
MAX_EXPIRY_SECONDS = 30 * 24 * 3600


def new_file_id() -> str:
    return "file-" + uuid.uuid4().hex[:24]


def derived_file_id(*parts: str) -> str:
    """A deterministic id (a finalizer or a redelivered submission writes the same file again)."""
    return "file-" + hashlib.sha256(":".join(parts).encode()).hexdigest()[:24]


def file_object(file: FileModel) -> dict[str, Any]:
    return {
        "id": file.file_id,
        "object": "file",
        "bytes": int(file.bytes),
        "created_at": int(file.created_at),
        "filename": file.filename,
        "purpose": file.purpose,
        "status": file.status,
        "status_details": None,
        "expires_at": int(file.expires_at) if file.expires_at else None,
    }


def _not_found(file_id: str) -> NotFoundError:
    return NotFoundError(
        f"No such File object: {file_id[:64]}", code="file_not_found", param="file_id"
    )


def _clean_filename(name: str | None) -> str:
    name = (name or "upload.jsonl").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"\\;')[:MAX_FILENAME_CHARS]
    return name or "upload.jsonl"


class FileService:
    def __init__(self, runtime: BatchRuntime):
        self.runtime = runtime
        self.settings = runtime.settings

    def check_size(self, size: int) -> None:
        limit = self.settings.batch.batch_max_file_bytes
        if size > limit:
            raise FileTooLargeError(
                f"The file is {size} bytes; the most this gateway accepts is {limit}.", param="file"
            )

    def upload(
        self,
        owner_id: str,
        *,
        filename: str | None,
        data: bytes,
        purpose: str,
        expires_after_seconds: int | None = None,
    ) -> FileModel:
        """Validate a batch input file and store it (S3 body, DynamoDB metadata)."""
        if purpose not in UPLOAD_PURPOSES:
            raise InvalidRequestError(
                f"Unsupported purpose '{purpose[:32]}'; this gateway accepts 'batch'.",
                code="invalid_purpose",
                param="purpose",
            )
        self.check_size(len(data))
        parsed = parse_input(data, max_lines=self.settings.batch.batch_max_lines)
        expires_at = None
        if expires_after_seconds is not None:
            if not MIN_EXPIRY_SECONDS <= expires_after_seconds <= MAX_EXPIRY_SECONDS:
                raise InvalidRequestError(
                    "expires_after.seconds must be between 3600 and 2592000.",
                    code="invalid_expiry",
                    param="expires_after",
                )
            expires_at = int(self.runtime.clock()) + expires_after_seconds
        return self.store_input(
            owner_id,
            file_id=new_file_id(),
            filename=filename,
            data=data,
            parsed=parsed,
            expires_at=expires_at,
        )

    def store_input(
        self,
        owner_id: str,
        *,
        file_id: str,
        filename: str | None,
        data: bytes,
        parsed: ParsedInput,
        expires_at: int | None = None,
    ) -> FileModel:
        now = self.runtime.clock()
        file = FileModel(
            file_id,
            owner_id=owner_id,
            list_key=list_key(int(now * 1000), file_id),
            purpose="batch",
            filename=_clean_filename(filename),
            bytes=len(data),
            created_at=int(now),
            status="processed",
            s3_key=file_key(file_id),
            line_count=len(parsed.lines),
            endpoint=parsed.endpoint,
            expires_at=expires_at,
        )
        self.runtime.store.put(file.s3_key, data)
        self.runtime.files.save(file)
        return file

    def store_output(
        self,
        owner_id: str,
        *,
        file_id: str,
        batch_id: str,
        filename: str,
        data: bytes,
        line_count: int,
    ) -> FileModel:
        now = self.runtime.clock()
        file = FileModel(
            file_id,
            owner_id=owner_id,
            list_key=list_key(int(now * 1000), file_id),
            purpose="batch_output",
            filename=filename,
            bytes=len(data),
            created_at=int(now),
            status="processed",
            s3_key=file_key(file_id),
            line_count=line_count,
            batch_id=batch_id,
        )
        self.runtime.store.put(file.s3_key, data)
        self.runtime.files.save(file)
        return file

    def get(self, owner_id: str, file_id: str) -> FileModel:
        file = self.runtime.files.get(file_id)
        if file is None or file.owner_id != owner_id or self._expired(file):
            raise _not_found(file_id)
        return file

    def _expired(self, file: FileModel) -> bool:
        return file.expires_at is not None and file.expires_at <= self.runtime.clock()

    def list(
        self, owner_id: str, *, purpose: str | None, after: str | None, limit: int, order: str
    ) -> tuple[list[FileModel], bool]:
        if not 1 <= limit <= 10_000:
            raise InvalidRequestError("limit must be between 1 and 10000.", param="limit")
        cursor = None
        if after:
            anchor = self.runtime.files.get(after)
            if anchor is None or anchor.owner_id != owner_id:
                raise _not_found(after)
            cursor = anchor.list_key
        files, has_more = self.runtime.files.list_for_owner(
            owner_id, purpose=purpose, cursor=cursor, limit=limit, newest_first=order != "asc"
        )
        return [f for f in files if not self._expired(f)], has_more

    def content(self, owner_id: str, file_id: str) -> tuple[FileModel, bytes]:
        file = self.get(owner_id, file_id)
        return file, self.runtime.store.get(file.s3_key)

    def delete(self, owner_id: str, file_id: str) -> None:
        file = self.get(owner_id, file_id)
        self.runtime.store.delete(file.s3_key)
        self.runtime.files.delete(file)
