"""`/console`: the web console's page and its versioned static files (see `inference_core.console`).

Not part of the API (left out of the OpenAPI document): the console is a client of the public API
like any other. Security headers for everything under `/console`, errors included, are added by
`ConsoleSecurityHeadersMiddleware`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from inference_core.console.assets import ConsoleAsset, ConsoleAssets, get_console_assets

router = APIRouter(prefix="/console", include_in_schema=False)

Assets = Annotated[ConsoleAssets, Depends(get_console_assets)]


def _respond(request: Request, asset: ConsoleAsset) -> Response:
    headers = {"cache-control": asset.cache_control, "etag": asset.etag}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else asset.body
    response = Response(body, media_type=asset.content_type, headers=headers)
    response.headers["content-length"] = str(len(asset.body))
    return response


@router.api_route("", methods=["GET", "HEAD"])
def console_root() -> Response:
    # Relative, so it also lands on `/<stage>/console/` behind API Gateway.
    return RedirectResponse("console/", status_code=308)


@router.api_route("/", methods=["GET", "HEAD"])
def console_page(request: Request, assets: Assets) -> Response:
    return _respond(request, assets.index())


@router.api_route("/assets/{version}/{path:path}", methods=["GET", "HEAD"])
def console_asset(version: str, path: str, request: Request, assets: Assets) -> Response:
    return _respond(request, assets.asset(version, path))
