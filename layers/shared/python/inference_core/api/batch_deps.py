"""FastAPI dependencies of the Files, Batches and webhook routes, all built on one cached
runtime: tests override `get_runtime` (with `app.dependency_overrides`) to hand in theirs.

The batch modules (and the tables they bind) are imported on first use, not when the routes are
built: the aliases name their types in quotes, and FastAPI resolves a dependency by its `Depends`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

if TYPE_CHECKING:
    from inference_core.batch.files import FileService
    from inference_core.batch.runtime import BatchRuntime
    from inference_core.batch.service import BatchService


def get_runtime() -> BatchRuntime:
    from inference_core.batch.runtime import get_batch_runtime

    return get_batch_runtime()


RuntimeDep = Annotated["BatchRuntime", Depends(get_runtime)]


# The return types are quoted twice: FastAPI evaluates these signatures when the routes are built.
def get_file_service(runtime: RuntimeDep) -> "FileService":  # noqa: UP037
    from inference_core.batch.files import FileService

    return FileService(runtime)


def get_batch_service(runtime: RuntimeDep) -> "BatchService":  # noqa: UP037
    from inference_core.batch.service import BatchService

    return BatchService(runtime)


def reset_batch_dependencies() -> None:
    from inference_core.batch.runtime import get_batch_runtime

    get_batch_runtime.cache_clear()
