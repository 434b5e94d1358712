"""Webhooks: a user's signing secret, and `POST /webhooks/ingest` (signed job submissions)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from inference_core.api.batch_deps import RuntimeDep
from inference_core.auth.deps import get_principal
from inference_core.auth.principal import Principal

router = APIRouter(tags=["webhooks"])

# The ingest body is one queue message at most; anything larger is refused before verifying.
MAX_INGEST_BYTES = 256 * 1024


@router.get("/v1/webhooks/secret")
def webhook_secret(
    principal: Annotated[Principal, Depends(get_principal)], runtime: RuntimeDep
) -> dict[str, Any]:
    """The secret this user's completion webhooks are signed with (Standard Webhooks, v1)."""
    from inference_core.webhooks.signing import user_webhook_secret

    return {
        "object": "webhook.secret",
        "secret": user_webhook_secret(runtime.settings, principal.user_id),
        "signature_scheme": "standard-webhooks-v1",
    }


@router.post("/webhooks/ingest", status_code=202)
async def ingest(request: Request, runtime: RuntimeDep) -> JSONResponse:
    from inference_core.batch.errors import FileTooLargeError
    from inference_core.webhooks.ingest import authenticate_ingest, queue_ingest_submission

    body = await request.body()
    if len(body) > MAX_INGEST_BYTES:
        raise FileTooLargeError("The submission is too large for the ingest endpoint.")
    integration, webhook_id = authenticate_ingest(runtime.settings, request.headers, body)
    batch_id = await asyncio.to_thread(
        queue_ingest_submission, runtime, integration=integration, webhook_id=webhook_id, body=body
    )
    return JSONResponse(
        {"object": "batch.submission", "id": batch_id, "status": "queued"}, status_code=202
    )
