"""`GET /health` (liveness: the process answers) and `GET /ready` (its dependencies answer)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from inference_core.api.deps import get_registry

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready() -> JSONResponse:
    checks = await asyncio.to_thread(readiness_checks)
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not_ready", "checks": checks},
        status_code=200 if ok else 503,
        headers=None if ok else {"Retry-After": "5"},
    )


def readiness_checks() -> dict[str, dict[str, Any]]:
    """Tables and queues reachable, and every provider in the registry configured. Error details
    are reduced to the exception's type: this endpoint is unauthenticated."""
    import boto3
    from botocore.config import Config

    from inference_core.providers import create_provider
    from inference_core.settings import get_settings

    settings = get_settings()
    config = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1})
    kwargs: dict[str, Any] = {
        "region_name": settings.aws.region,
        "endpoint_url": settings.aws.aws_endpoint_url,
        "config": config,
    }
    checks: dict[str, dict[str, Any]] = {}
    dynamodb = boto3.client("dynamodb", **kwargs)
    for field in ("users_table", "api_keys_table", "sessions_table", "cache_table", "usage_table"):
        name = getattr(settings.tables, field)
        checks[f"table:{field}"] = _probe(lambda n=name: dynamodb.describe_table(TableName=n))
    sqs = boto3.client("sqs", **kwargs)
    for field in ("mail_queue_url", "batch_queue_url"):
        url = getattr(settings.queues, field)
        if url:
            checks[f"queue:{field}"] = _probe(
                lambda u=url: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])
            )
    for name in sorted(get_registry().providers_in_use()):
        try:
            configured = _provider_configured(name, settings, create_provider)
            checks[f"provider:{name}"] = (
                {"ok": configured} if configured else {"ok": False, "error": "not configured"}
            )
        except Exception as exc:
            checks[f"provider:{name}"] = {"ok": False, "error": type(exc).__name__}
    return checks


def _provider_configured(name: str, settings: Any, create_provider: Any) -> bool:
    """Key-based providers: every key their deployments name is present (a deployment without
    `api_key` uses the provider's own). Others: the adapter's own answer."""
    if name not in KEYED_PROVIDERS:
        return bool(create_provider(name, settings).is_configured())
    key_names = {
        d.api_key or name
        for entry in get_registry().entries()
        for d in entry.deployments
        if d.provider == name
    }
    return all(settings.provider_api_key(key) for key in key_names)


KEYED_PROVIDERS = frozenset({"openai", "anthropic"})


def _probe(call: Any) -> dict[str, Any]:
    try:
        call()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
