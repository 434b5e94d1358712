"""The app factory: every router, one error table, one middleware for correlation ids and timing."""

from __future__ import annotations

from fastapi import FastAPI

from inference_core import __version__
from inference_core.api.errors import install_error_handlers
from inference_core.api.json_text import JsonTextGuardMiddleware
from inference_core.api.middleware import (
    BodySizeLimitMiddleware,
    ConsoleSecurityHeadersMiddleware,
    LazyCorsMiddleware,
    RequestContextMiddleware,
)


def create_app() -> FastAPI:
    from inference_core.api.routes import (
        admin,
        anthropic_compat,
        auth,
        batches,
        console,
        files,
        health,
        native,
        openai_compat,
        responses,
        snapstart_hooks,
        text_processing,
        usage,
        webhooks,
    )

    app = FastAPI(
        title="Inference Core",
        version=__version__,
        description="An LLM gateway that speaks the OpenAI and Anthropic wire formats.",
    )
    install_error_handlers(app)
    # Both entry points (Mangum, and uvicorn under the Web Adapter) build the app here, at init.
    from inference_core import snapstart

    snapstart.register()
    # Added last runs first: the request id wraps everything, CORS answers preflights early, the
    # size limit bounds what the JSON text guard buffers.
    app.add_middleware(JsonTextGuardMiddleware)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(LazyCorsMiddleware)
    app.add_middleware(ConsoleSecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(snapstart_hooks.router)
    app.include_router(auth.router)
    app.include_router(openai_compat.router)
    app.include_router(anthropic_compat.router)
    app.include_router(native.router)
    app.include_router(responses.router)
    app.include_router(text_processing.router)
    app.include_router(files.router)
    app.include_router(batches.router)
    app.include_router(webhooks.router)
    app.include_router(usage.router)
    app.include_router(admin.router)
    app.include_router(console.router)
    return app
