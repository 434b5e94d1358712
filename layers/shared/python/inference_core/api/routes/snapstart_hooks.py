"""The data plane's SnapStart restore hook, called by the Lambda Web Adapter.

The streaming data plane is uvicorn under the Web Adapter, a separate process from the Lambda
runtime, so `snapshot_restore_py`'s after-restore hook never reaches it. The adapter (v1.1.0 and
later) bridges that gap: with `AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH` set, it POSTs to that path
after a restore and before any traffic, and fails the restore on a non-2xx answer. The CDK stack
sets it to `snapstart.LWA_AFTER_RESTORE_PATH` when SnapStart is on.

Only the adapter may call it: the adapter answers 403 itself to outside requests for a hook path,
and this route also refuses (404, as for any unknown path) a request that came from an
invocation (the adapter's `x-amzn-request-context` header, or Mangum's `aws.event` on the control
plane), so an older adapter or the control plane cannot be made to run it. Not in the OpenAPI
document.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from inference_core.api.source_ip import REQUEST_CONTEXT_HEADER
from inference_core.snapstart import LWA_AFTER_RESTORE_PATH

router = APIRouter(include_in_schema=False)


@router.post(LWA_AFTER_RESTORE_PATH)
async def after_restore(request: Request) -> Response:
    if "aws.event" in request.scope or REQUEST_CONTEXT_HEADER in request.headers:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    from inference_core import snapstart

    snapstart.after_restore()
    return Response(status_code=204)
