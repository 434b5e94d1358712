"""SnapStart hygiene: what is loaded before the snapshot, and what is redone after a restore.

Both API functions run with SnapStart, so every instance resumes from the same memory image.

- At import (init): the package's route modules and the app are built; nothing reads a secret or
  opens a connection, and the heavy, first-use pieces listed in `DEFERRED_MODULES` (botocore and
  boto3, PyJWT and `cryptography`, argon2, pydantic-settings, the PynamoDB models, the auth, batch
  and governance services, the router, the guardrail engine, Powertools) are not imported, so a
  cold start without SnapStart pays only for what its requests use (`bench/import_time.py`).
- Before the snapshot (still at init, see `register`), `before_snapshot` imports them and the
  adapter (with its SDK) of each provider the model registry names, and computes the argon2 dummy
  hash, so the first request of a restored instance does not pay for them. It reads the
  environment (where the registry is) but no secret, and opens no connection.
- After a restore, `after_restore` re-seeds `random` (retry jitter would otherwise be the same on
  every instance) and drops everything built lazily that holds a connection or a credential, to be
  rebuilt on first use: the provider clients and their HTTP pools (in the router), the PynamoDB
  connections (their botocore sessions cache credentials), the governance resolution cache and the
  settings.

`register` runs at init: when the environment is being initialised for a snapshot
(`AWS_LAMBDA_INITIALIZATION_TYPE` is `snap-start`) it calls `before_snapshot` there and then (init
is before the snapshot, and this holds for uvicorn under the Web Adapter as for the Lambda Python
runtime), and it hands `after_restore` to the runtime's `snapshot_restore_py` where there is one.
Elsewhere (locally, tests, an on-demand cold start) nothing is preloaded. In a Lambda environment
(and wherever `IC_GC_FREEZE=1`), `register` then freezes what init built out of the garbage
collector's view (`freeze_init_heap`), and the end of each of the first requests freezes what
they built to last (`freeze_when_warm`; with SnapStart that count starts at the snapshot, so each
restored instance does it for its own clients): a full collection otherwise walks every module,
class, client and service model on some request's time.
"""

from __future__ import annotations

import gc
import importlib
import os
import random

# Imported on first use by the code that needs them, and by `before_snapshot`; a test asserts that
# importing functions/api/handler.py loads none of them.
DEFERRED_MODULES = (
    "botocore",
    "boto3",
    "jwt",
    "argon2",
    "pydantic_settings",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "inference_core.settings",
    "inference_core.db.models",
    "inference_core.db.batch_models",
    "inference_core.db.admission",
    "inference_core.db.cache",
    "inference_core.db.usage",
    "inference_core.auth.service",
    "inference_core.governance",
    "inference_core.router",
    "inference_core.guardrails.engine",
    "inference_core.batch.runtime",
    "inference_core.batch.files",
    "inference_core.batch.service",
    "inference_core.webhooks.ingest",
)


# Set to "1" to freeze the init heap outside Lambda too (the local stack's API process does, so
# `make dev` and the benches run as a Lambda environment does); read raw, as settings load later.
GC_FREEZE_VARIABLE = "IC_GC_FREEZE"
WARM_FREEZES = 16  # requests after which the heap is frozen again (see freeze_when_warm)
_warm_freezes = [0]  # how many of those are left in this process

# Where the data plane's Web Adapter POSTs after a restore (`AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH`,
# set by the CDK stack; served by api.routes.snapstart_hooks).
LWA_AFTER_RESTORE_PATH = "/_lwa/snapstart/after-restore"


def before_snapshot() -> None:
    """Import what the handler's import deferred, and prime what every instance may share."""
    for name in DEFERRED_MODULES:
        importlib.import_module(name)
    _import_provider_adapters()
    from inference_core.auth import passwords

    passwords._dummy_hash()  # one argon2 hash (tens of ms) that a first login would otherwise pay


def _import_provider_adapters() -> None:
    """The adapter (and so the SDK) of each provider the model registry uses, and no other."""
    from inference_core import wiring
    from inference_core.providers import PROVIDER_NAMES

    try:
        in_use = wiring.get_registry().providers_in_use()
    except Exception as exc:  # a registry error is reported on first use, as without SnapStart
        from inference_core.observability import get_logger

        get_logger().warning("snapshot: provider SDKs not preloaded (%s)", type(exc).__name__)
        return
    for name in sorted(in_use & set(PROVIDER_NAMES)):
        importlib.import_module(f"inference_core.providers.{name}")


def freeze_init_heap() -> None:
    """Collect, then move every object init built (modules, classes, the app and its routes'
    adapters, with SnapStart the preloaded SDKs) into the collector's permanent generation
    (`gc.freeze`). They live as long as the process; left tracked, each full collection walks all
    of them (33 to 64 ms pauses in the API process over a bench run, one request in a hundred or so
    waiting behind one). Frozen, a full collection walks only what requests created since. Objects
    that die later are still freed by reference counting."""
    gc.collect()
    gc.freeze()


def freeze_when_warm() -> None:
    """After each of a process's first `WARM_FREEZES` requests, where `register` froze the init
    heap: freeze again, so what those requests built for the life of the process leaves the
    collector's view too (the botocore clients and their service models, the provider SDKs and
    clients, settings, repositories: all made on first use, after init; a readiness probe may come
    first, so not only the first request). `gc.freeze` is a list splice, not a collection: this
    costs microseconds. Those requests' own cyclic garbage, if not yet collected, is frozen with
    it and never freed (a few KiB, once)."""
    if _warm_freezes[0] > 0:
        _warm_freezes[0] -= 1
        gc.freeze()


def after_restore() -> None:
    """Re-seed `random` and forget every pooled connection and cached credential."""
    random.seed()  # from os.urandom: different on every restored instance
    from inference_core.api.deps import reset_dependencies
    from inference_core.db.models import ALL_MODELS

    reset_dependencies()  # router (provider clients, pools), governance cache, settings
    for model in ALL_MODELS:
        model._connection = None  # a new botocore session, fresh credentials, on next use


def register() -> bool:
    """At init: preload (`before_snapshot`) when this init is for a snapshot, freeze the heap init
    built (`freeze_init_heap`) in a Lambda environment, and hand `after_restore` to the Lambda
    runtime; False where there is no runtime to take it."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        before_snapshot()  # init is before the snapshot, whichever process serves the app
    # AWS_LAMBDA_RUNTIME_API: set by Lambda for the runtime (and so for the Web Adapter's app)
    if os.environ.get("AWS_LAMBDA_RUNTIME_API") or os.environ.get(GC_FREEZE_VARIABLE) == "1":
        freeze_init_heap()
        _warm_freezes[0] = WARM_FREEZES
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_after_restore(after_restore)
    return True
