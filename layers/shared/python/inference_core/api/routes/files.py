"""The Files API (OpenAI-compatible): upload batch input, list, retrieve, download, delete.

Another user's file is a 404, exactly like a file that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from inference_core.api.batch_deps import get_file_service
from inference_core.auth.deps import get_principal
from inference_core.auth.principal import Principal

if TYPE_CHECKING:  # the Files service (and its tables) load on first use, not at import
    from inference_core.batch.files import FileService

router = APIRouter(tags=["files"])

CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
Files = Annotated["FileService", Depends(get_file_service)]


@router.post("/v1/files")
def create_file(
    principal: CurrentPrincipal,
    files: Files,
    file: Annotated[UploadFile, File()],
    purpose: Annotated[str, Form()],
    expires_after_anchor: Annotated[str | None, Form(alias="expires_after[anchor]")] = None,
    expires_after_seconds: Annotated[int | None, Form(alias="expires_after[seconds]")] = None,
) -> dict[str, Any]:
    # Read one byte past the limit: enough to refuse an oversized upload without reading it all.
    data = file.file.read(files.settings.batch.batch_max_file_bytes + 1)
    files.check_size(len(data))
    created = files.upload(
        principal.user_id,
        filename=file.filename,
        data=data,
        purpose=purpose,
        expires_after_seconds=expires_after_seconds if expires_after_anchor else None,
    )
    from inference_core.batch.files import file_object

    return file_object(created)


@router.get("/v1/files")
def list_files(
    principal: CurrentPrincipal,
    files: Files,
    purpose: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    order: Literal["asc", "desc"] = "desc",
) -> dict[str, Any]:
    found, has_more = files.list(
        principal.user_id, purpose=purpose, after=after, limit=limit, order=order
    )
    from inference_core.batch.files import file_object

    data = [file_object(f) for f in found]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


@router.get("/v1/files/{file_id}")
def retrieve_file(file_id: str, principal: CurrentPrincipal, files: Files) -> dict[str, Any]:
    from inference_core.batch.files import file_object

    return file_object(files.get(principal.user_id, file_id))


@router.get("/v1/files/{file_id}/content")
def file_content(file_id: str, principal: CurrentPrincipal, files: Files) -> Response:
    file, data = files.content(principal.user_id, file_id)
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={"content-disposition": f'attachment; filename="{file.filename}"'},
    )


@router.delete("/v1/files/{file_id}")
def delete_file(file_id: str, principal: CurrentPrincipal, files: Files) -> dict[str, Any]:
    files.delete(principal.user_id, file_id)
    return {"id": file_id, "object": "file", "deleted": True}
