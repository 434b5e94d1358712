"""Control-plane Lambda entry point: the FastAPI app behind API Gateway REST, through Mangum.

Importing this module builds the app but loads no provider SDK and reads no secret: providers are
created on first use (see `inference_core.providers.create_provider`).
"""

import asyncio

from mangum import Mangum

from inference_core.api.app import create_app

# Mangum runs every invocation on `asyncio.get_event_loop()`. Giving the process one loop up front
# keeps that loop (and the provider clients' connection pools bound to it) for the life of the
# execution environment, and works on Pythons where get_event_loop() no longer creates one.
asyncio.set_event_loop(asyncio.new_event_loop())

handler = Mangum(create_app(), lifespan="off", api_gateway_base_path=None)
