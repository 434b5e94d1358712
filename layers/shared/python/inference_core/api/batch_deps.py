"""FastAPI dependencies of the Files, Batches and webhook routes, all built on one cached
runtime: tests override `get_runtime` (with `app.dependency_overrides`) to hand in theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from inference_core.batch.files import FileService
from inference_core.batch.runtime import BatchRuntime, get_batch_runtime
from inference_core.batch.service import BatchService


def get_runtime() -> BatchRuntime:
    return get_batch_runtime()


RuntimeDep = Annotated[BatchRuntime, Depends(get_runtime)]


def get_file_service(runtime: RuntimeDep) -> FileService:
    return FileService(runtime)


def get_batch_service(runtime: RuntimeDep) -> BatchService:
    return BatchService(runtime)


def reset_batch_dependencies() -> None:
    get_batch_runtime.cache_clear()
