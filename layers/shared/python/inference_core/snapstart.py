"""SnapStart hygiene: what must be redone when an execution environment resumes from a snapshot.

Both API functions run with SnapStart, so every instance resumes from the same memory image. At
init (before the snapshot) the process imports the package and builds the app; nothing reads a
secret or opens a connection then. What the first requests after a restore may find and must not
reuse is refreshed by `after_restore`: `random` is re-seeded (retry jitter would otherwise be the
same on every instance), and everything built lazily that holds a connection or a credential is
dropped, to be rebuilt on first use: the provider clients and their HTTP pools (in the router),
the PynamoDB connections (their botocore sessions cache credentials), and the governance
resolution cache. `register` hands the hook to the Lambda runtime's `snapshot_restore_py`; off
Lambda that module does not exist and nothing is registered.
"""

from __future__ import annotations

import random


def after_restore() -> None:
    """Re-seed `random` and forget every pooled connection and cached credential."""
    random.seed()  # from os.urandom: different on every restored instance
    from inference_core.api.deps import reset_dependencies
    from inference_core.db.models import ALL_MODELS

    reset_dependencies()  # router (provider clients, pools), governance cache, settings
    for model in ALL_MODELS:
        model._connection = None  # a new botocore session, fresh credentials, on next use


def register() -> bool:
    """Register `after_restore` with the Lambda runtime; False where there is no SnapStart."""
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_after_restore(after_restore)
    return True
