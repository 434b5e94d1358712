"""`/v1/text_processing/*`: list the operations, run one, run a small batch (one service call each;
the logic is in `inference_core.text_processing.service`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from inference_core.api.deps import cache_allowed, get_text_processing, request_id
from inference_core.auth.deps import get_inference_principal, get_principal
from inference_core.auth.principal import Principal
from inference_core.schemas.text_processing import (
    TextBatchItemResult,
    TextBatchRequest,
    TextBatchResponse,
    TextItemError,
    TextOperationList,
    TextProcessRequest,
    TextProcessResponse,
    TextUsage,
)
from inference_core.text_processing.service import TextItem, TextProcessingService, TextResult

router = APIRouter(tags=["text_processing"])

Service = Annotated[TextProcessingService, Depends(get_text_processing)]


@router.get("/v1/text_processing/operations", response_model=TextOperationList)
async def list_operations(
    principal: Annotated[Principal, Depends(get_principal)], service: Service
) -> TextOperationList:
    return TextOperationList(data=service.operations())


@router.post("/v1/text_processing/process", response_model=TextProcessResponse)
async def process(
    body: TextProcessRequest,
    request: Request,
    principal: Annotated[Principal, Depends(get_inference_principal)],
    service: Service,
) -> TextProcessResponse:
    result = await service.process(
        principal,
        TextItem(body.operation, body.text, body.options),
        model=body.model,
        request_id=request_id(request),
        use_cache=cache_allowed(request),
    )
    return _response(result)


@router.post("/v1/text_processing/batch_process", response_model=TextBatchResponse)
async def batch_process(
    body: TextBatchRequest,
    request: Request,
    principal: Annotated[Principal, Depends(get_inference_principal)],
    service: Service,
) -> TextBatchResponse:
    outcomes = await service.batch_process(
        principal,
        [TextItem(i.operation, i.text, i.options) for i in body.items],
        model=body.model,
        request_id=request_id(request),
        use_cache=cache_allowed(request),
    )
    results = []
    for outcome in outcomes:
        if outcome.result is not None:
            results.append(
                TextBatchItemResult(
                    index=outcome.index, status="ok", result=_response(outcome.result)
                )
            )
        elif outcome.error is not None:
            error = TextItemError(
                status=outcome.error.status_code,
                code=outcome.error.code,
                message=outcome.error.message,
            )
            results.append(TextBatchItemResult(index=outcome.index, status="error", error=error))
    return TextBatchResponse(results=results)


def _response(result: TextResult) -> TextProcessResponse:
    return TextProcessResponse(
        operation=result.operation,
        template_version=result.template_version,
        model=result.model,
        result=result.result,
        cached=result.cached,
        repaired=result.repaired,
        usage=TextUsage(
            input_tokens=result.usage.input_tokens, output_tokens=result.usage.output_tokens
        ),
    )
